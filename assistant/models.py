"""Typed records shared by ingest, assistant, ui and eval."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, PrivateAttr


class Paper(BaseModel):
    paper_id: str
    title: str
    abstract: str
    arxiv_id: str | None = None
    url: str  # Hugging Face papers page when the arXiv id is known, else an arXiv title search
    arxiv_url: str | None = None
    code_url: str | None = None
    date: str | None = None  # ISO date (YYYY-MM-DD or YYYY-MM) when known
    authors: list[str] = Field(default_factory=list)
    source: str = ""  # file the paper was read from


class Chunk(BaseModel):
    chunk_id: str  # "<paper_id>#<n>"
    paper_id: str
    title: str
    text: str  # title + the chunk's sentences: what gets embedded
    sentence_start: int  # index of the first abstract sentence in this chunk
    sentence_end: int  # one past the last


class Hit(BaseModel):
    rank: int
    paper_id: str
    title: str
    url: str
    code_url: str | None = None
    score: float
    date: str | None = None


class Source(BaseModel):
    n: int
    paper_id: str
    title: str
    url: str
    code_url: str | None = None
    quote: str
    score: float  # for scripts; the UI shows "strong"/"partial" match, never the number
    date: str | None = None  # ISO YYYY-MM[-DD]; None = date unknown
    arxiv_id: str | None = None


class ComparisonCell(BaseModel):
    n: int  # the source this cell quotes
    quote: str | None = None  # verbatim sentence(s) from that source's abstract; None = not stated


class ComparisonRow(BaseModel):
    aspect: str  # "proposes", "evaluated on", "result", "code"
    cells: list[ComparisonCell] = Field(default_factory=list)


# Answer kinds that list papers on a topic: each cites the papers close to the best match (a
# count or a code filter of them included), so clients fold them alike and notes apply alike.
LIST_KINDS = ("list", "count", "code-list", "code-list-none", "facts")


class Answer(BaseModel):
    question: str
    answer: str  # markdown with [n] markers
    refused: bool
    mode: str = "extractive"  # "extractive", "llm" or "extractive-fallback"
    notice: str | None = None  # why a fallback happened, shown to the user
    sources: list[Source] = Field(default_factory=list)
    # What kind of answer this is: "list", "single", "code", "comparison", "subset", "detail",
    # "detail-missing", "refused", ... (clients may style by it; the text stands on its own).
    kind: str = "list"
    paper_ids: list[str] = Field(default_factory=list)  # cited papers in [n] order: conversation state
    filters: dict = Field(default_factory=dict)  # e.g. {"date_from": "2024-01-01", "date_to": "2024-12-31"}
    comparison: list[ComparisonRow] | None = None  # side-by-side quotes when two papers are compared
    suggestions: list[str] = Field(default_factory=list)  # follow-up questions that work when asked
    timings_ms: dict[str, float] = Field(default_factory=dict)
    # The papers the answerer chose from: lets an audit check that every citation was retrieved.
    # Private, so it stays out of the documented --json shape.
    _retrieved: list[str] = PrivateAttr(default_factory=list)

    @property
    def retrieved_ids(self) -> list[str]:
        return list(self._retrieved)

    def with_retrieved(self, paper_ids: list[str]) -> "Answer":
        self._retrieved = list(paper_ids)
        return self


Role = Literal["user", "assistant"]
