"""What every parser yields: raw records in the input's own terms, plus per-record problems.
Parsers stay dumb; turning records into Papers (ids, links, de-duplication) happens later."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_SPACE = re.compile(r"\s+")


def clean_space(text: str | None) -> str:
    # arXiv snapshot titles/abstracts are hard-wrapped with runs of spaces; one space is canonical.
    return _SPACE.sub(" ", text or "").strip()


@dataclass
class RawRecord:
    title: str
    abstract: str
    source: str  # file name, for messages and Paper.source
    line: int | None = None  # 1-based line in the file, for messages
    url: str | None = None
    arxiv_id: str | None = None
    date: str | None = None  # whatever the input says; normalised later
    authors: list[str] = field(default_factory=list)
    where: str | None = None  # "file:line" (or "file: item n") for messages; defaults from source and line

    @property
    def place(self) -> str:
        return self.where or (f"{self.source}:{self.line}" if self.line else self.source)


# What a parser yields, in file order: a record, or a "file:line: problem" string for a skipped one.
Item = RawRecord | str


@dataclass
class Parsed:
    records: list[RawRecord] = field(default_factory=list)
    # "file:line: problem" strings: the record was skipped, the rest of the file still counts.
    problems: list[str] = field(default_factory=list)


def split_authors(value) -> list[str]:
    """Authors as a list, from a list or from "A, B and C" / "A and B" strings."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            if isinstance(item, (list, tuple)):  # arXiv authors_parsed: [last, first, suffix]
                item = " ".join(p for p in (item[1:2] + item[:1] + item[2:3]) if p)
            name = clean_space(str(item))
            if name:
                out.append(name)
        return out
    text = clean_space(str(value))
    if not text:
        return []
    parts = re.split(r",\s*(?:and\s+)?|\s+and\s+|;\s*", text)
    return [p.strip() for p in parts if p.strip()]
