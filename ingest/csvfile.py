"""CSV with a header row naming at least `title` and `abstract` (any column order, any case)."""
from __future__ import annotations

import csv
import io

from assistant.errors import BadInput

from .fields import record_from_row
from .records import Parsed


def parse_csv(text: str, source: str) -> Parsed:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader)
    except StopIteration:
        raise BadInput(f"{source}: empty file") from None
    except csv.Error as exc:
        raise BadInput(f"{source}:1: not valid CSV ({exc})") from None
    names = [h.strip().lstrip("\ufeff").casefold() for h in header]
    missing = [c for c in ("title", "abstract") if c not in names]
    if missing:
        raise BadInput(f"{source}: the CSV header has no {' or '.join(missing)} column (found: {', '.join(names)})")
    out = Parsed()
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.problems.append(f"{source}:{reader.line_num}: not valid CSV ({exc})")
            continue
        if not any(cell.strip() for cell in row):
            continue
        # line_num counts physical lines, so quoted multi-line abstracts still point at the record's end.
        record = record_from_row(dict(zip(names, row)), source, reader.line_num)
        if isinstance(record, str):
            out.problems.append(f"{source}:{reader.line_num}: {record}")
        else:
            out.records.append(record)
    return out


def _delimiter(text: str) -> str:
    # csv.Sniffer guesses from abstracts full of commas and semicolons and often guesses wrong;
    # the header alone tells us: the delimiter is the one that separates "title" from "abstract".
    first = text.split("\n", 1)[0].casefold()
    for delimiter in (",", ";", "\t"):
        cells = [c.strip().strip('"').lstrip("\ufeff") for c in first.split(delimiter)]
        if "title" in cells and "abstract" in cells:
            return delimiter
    return ","
