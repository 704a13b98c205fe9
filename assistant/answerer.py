"""The answerer interface: turns a plan (what to cite) and its evidence into a streamed Answer.
The extractive answerer (default, no model) and the LLM answerer (assistant/llm) both implement it."""
from __future__ import annotations

from typing import Iterator, Protocol, Sequence

from . import extractive
from .models import Answer


class Answerer(Protocol):
    name: str

    def condense(self, question: str, history: list[dict]) -> str | None:
        """A standalone rewrite of a follow-up question, or None to use the follow-up logic."""

    def stream(self, question: str, history: list[dict], intent, plan: extractive.Plan,
               evidence: Sequence) -> Iterator[Answer]:
        """Yields the answer as it grows; the last one is complete."""


class ExtractiveAnswerer:
    """Verbatim sentences from the abstracts, each marked [n]; no model."""

    name = "extractive"

    def condense(self, question: str, history: list[dict]) -> str | None:
        return None

    def stream(self, question, history, intent, plan, evidence) -> Iterator[Answer]:
        yield from extractive.render(question, plan)


def make_answerer(settings) -> Answerer:
    if settings.answerer == "extractive":
        return ExtractiveAnswerer()
    from .llm.answerer import LLMAnswerer  # optional path: imported only when configured

    return LLMAnswerer(settings)
