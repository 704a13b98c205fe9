"""Hugging Face "Daily Papers" page dumps: a fixed header, a date line, then title and abstract
paragraphs alternating, separated by blank lines."""
from __future__ import annotations

import re

from assistant.errors import BadInput

from .records import Parsed, RawRecord, clean_space

HEADER = ("new", "Get trending papers in your email inbox!", "Subscribe", "byAK and the research community")
_DATE_LINE = re.compile(r"^[A-Z][a-z]{2,8}\.? \d{1,2}$")  # "Mar 14": no year, so unusable as a date
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")


def looks_like_page_dump(text: str) -> bool:
    paras = _paragraphs(text)[: len(HEADER)]
    # The first lines are boilerplate; tolerate a dump that lost one of them.
    return sum(p in HEADER for p in paras) >= 3


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in _PARAGRAPHS.split(text.replace("\r\n", "\n")) if p.strip()]


def parse_page_dump(text: str, source: str) -> Parsed:
    paras = _paragraphs(text)
    # Line numbers are for messages only: find where each paragraph starts.
    lines = text.replace("\r\n", "\n").split("\n")
    starts, pos = [], 0
    for p in paras:
        first = p.split("\n", 1)[0]
        while pos < len(lines) and lines[pos].strip() != first.strip():
            pos += 1
        starts.append(pos + 1)
        pos += 1
    i = 0
    while i < len(paras) and paras[i] in HEADER:
        i += 1
    if i < len(paras) and _DATE_LINE.match(paras[i]):
        i += 1
    # A dump spanning several days repeats the date line; it is never a title or an abstract.
    kept = [(p, s) for p, s in zip(paras[i:], starts[i:]) if not _DATE_LINE.match(p)]
    body, body_starts = [p for p, _ in kept], [s for _, s in kept]
    out = Parsed()
    if not body:
        raise BadInput(f"{source}: a page dump with no papers in it")
    for j in range(0, len(body), 2):
        title = clean_space(body[j])
        if j + 1 >= len(body):
            out.problems.append(f"{source}:{body_starts[j]}: title {title[:60]!r} has no abstract after it")
            break
        abstract = clean_space(body[j + 1])
        out.records.append(RawRecord(title=title, abstract=abstract, source=source, line=body_starts[j]))
    return out
