"""CSV with a header row naming at least `title` and `abstract` (any column order, any case),
read a line at a time; yields records (or a problem string per skipped row) one by one."""
from __future__ import annotations

import csv
from typing import Iterable, Iterator

from assistant.errors import BadInput

from .fields import record_from_row
from .reader import MAX_LINE_BYTES
from .records import Item


def parse_csv(lines: Iterable[tuple[int, str]], source: str) -> Iterator[Item]:
    lines = iter(lines)
    first = next(((n, t) for n, t in lines if t.strip()), None)
    if first is None:
        raise BadInput(f"{source} is empty")
    # A quoted abstract may span lines: the csv module joins them, fed one line at a time.
    csv.field_size_limit(MAX_LINE_BYTES)
    stream = (t + "\n" for t in _chain(first[1], lines))
    reader = csv.reader(stream, delimiter=_delimiter(first[1]))
    skipped = first[0] - 1  # blank lines before the header
    try:
        header = next(reader)
    except csv.Error as exc:
        raise BadInput(f"{source}:1: not valid CSV ({exc})") from None
    names = [h.strip().lstrip("\ufeff").casefold() for h in header]
    missing = [c for c in ("title", "abstract") if c not in names]
    if missing:
        shown = ", ".join(n[:40] for n in names[:20])
        raise BadInput(f"{source}: the CSV header has no {' or '.join(missing)} column (found: {shown})")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield f"{source}:{reader.line_num + skipped}: not valid CSV ({exc})"
            continue
        if not any(cell.strip() for cell in row):
            continue
        # line_num counts physical lines, so quoted multi-line abstracts still point at the record's end.
        record = record_from_row(dict(zip(names, row)), source, reader.line_num + skipped)
        yield f"{source}:{reader.line_num + skipped}: {record}" if isinstance(record, str) else record


def _chain(first: str, rest):
    yield first
    for _, text in rest:
        yield text


def _delimiter(first: str) -> str:
    # csv.Sniffer guesses from abstracts full of commas and semicolons and often guesses wrong;
    # the header alone tells us: the delimiter is the one that separates "title" from "abstract".
    first = first.casefold()
    for delimiter in (",", ";", "\t"):
        cells = [c.strip().strip('"').lstrip("\ufeff") for c in first.split(delimiter)]
        if "title" in cells and "abstract" in cells:
            return delimiter
    return ","
