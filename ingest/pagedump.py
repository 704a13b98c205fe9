"""Hugging Face "Daily Papers" page dumps: a fixed header, a date line, then title and abstract
paragraphs alternating, separated by blank lines. Read paragraph by paragraph, as a stream."""
from __future__ import annotations

import re
from typing import Iterable, Iterator

from assistant.errors import BadInput

from .records import Item, RawRecord, clean_space

HEADER = ("new", "Get trending papers in your email inbox!", "Subscribe", "byAK and the research community")
_DATE_LINE = re.compile(r"^[A-Z][a-z]{2,8}\.? \d{1,2}$")  # "Mar 14": no year, so unusable as a date
NOT_A_DUMP = ("{source} does not look like a Hugging Face Daily Papers page dump "
              "(no 'Get trending papers' header): give .txt page dumps, .jsonl, .json or .csv")


def looks_like_page_dump(paragraphs: list[str]) -> bool:
    # The first lines are boilerplate; tolerate a dump that lost one of them.
    return sum(p in HEADER for p in paragraphs[: len(HEADER)]) >= 3


def paragraphs(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """(line number where it starts, text) of each blank-line-separated paragraph."""
    start, buf = None, []
    for number, text in lines:
        if text.strip():
            if start is None:
                start = number
            buf.append(text.strip())
        elif buf:
            yield start, "\n".join(buf)
            start, buf = None, []
    if buf:
        yield start, "\n".join(buf)


def parse_page_dump(lines: Iterable[tuple[int, str]], source: str) -> Iterator[Item]:
    paras = paragraphs(lines)
    head = [p for _, p in zip(range(len(HEADER)), paras)]
    if not head:
        raise BadInput(f"{source} is empty")
    if not looks_like_page_dump([text for _, text in head]):
        raise BadInput(NOT_A_DUMP.format(source=source))
    body = _body(_concat(head, paras))
    pending: tuple[int, str] | None = None
    seen = False
    for start, text in body:
        seen = True
        if pending is None:
            pending = (start, text)
            continue
        title_line, title = pending
        yield RawRecord(title=clean_space(title), abstract=clean_space(text), source=source, line=title_line)
        pending = None
    if not seen:
        raise BadInput(f"{source}: a page dump with no papers in it")
    if pending is not None:
        title = clean_space(pending[1])
        yield f"{source}:{pending[0]}: title {title[:60]!r} has no abstract after it"


def _concat(head, rest):
    yield from head
    yield from rest


def _body(paras: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Paragraphs after the header and the first date line, without the repeated date lines of a
    dump spanning several days (never a title or an abstract)."""
    in_header = True
    for start, text in paras:
        if in_header and text in HEADER:
            continue
        in_header = False
        if _DATE_LINE.match(text):
            continue
        yield start, text
