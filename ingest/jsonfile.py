"""JSON Lines (one object per line, incl. the arXiv metadata snapshot) and plain JSON arrays.
A bad line is reported and skipped so one corrupt row does not cost a 2-million-line import.
Both yield records one by one (RawRecord, or a "file:line: problem" string for a skipped one);
JSON Lines is read a line at a time, a JSON array is parsed whole (reader.MAX_JSON_ARRAY_BYTES)."""
from __future__ import annotations

import json
from typing import Iterable, Iterator

from assistant.errors import BadInput

from .fields import record_from_row
from .records import Item

# json.loads raises these besides JSONDecodeError: nesting deeper than the interpreter's stack
# (RecursionError) and integers of more than 4300 digits (ValueError).
_BAD_JSON = (json.JSONDecodeError, RecursionError, ValueError)


def parse_json_lines(lines: Iterable[tuple[int, str]], source: str) -> Iterator[Item]:
    for number, line in lines:
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except _BAD_JSON as exc:
            yield f"{source}:{number}: not valid JSON ({_why(exc)})"
            continue
        yield _item(obj, source, number)


def parse_json_array(text: str, source: str) -> Iterator[Item]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{source}:{exc.lineno}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    except _BAD_JSON as exc:
        raise BadInput(f"{source}: not valid JSON ({_why(exc)})") from None
    if not isinstance(items, list):
        raise BadInput(f"{source}: expected a JSON array of papers or one JSON object per line")
    del text  # the parsed items are what is held from here on
    for number, obj in enumerate(items, start=1):
        # No line numbers in a pretty-printed array; the item's position is the useful pointer.
        yield _item(obj, source, number, where=f"{source}: item {number}")
        items[number - 1] = None  # a yielded item is not held while the rest of the file is read


def _why(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if "digits" in str(exc):
        return "a number with more than 4300 digits"
    return str(exc).split(";")[0][:80]


def _item(obj, source: str, number: int, where: str | None = None) -> Item:
    where = where or f"{source}:{number}"
    if not isinstance(obj, dict):
        return f"{where}: expected a JSON object with title and abstract"
    record = record_from_row(obj, source, number)
    if isinstance(record, str):
        return f"{where}: {record}"
    record.where = where
    return record
