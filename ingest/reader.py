"""Input files read as streams of lines, with bounded memory: a file is never read whole (except a
JSON array, under a size cap), a line longer than a record can be is skipped without being held,
and devices or pipes (a symlink to /dev/zero) are refused before a byte is read."""
from __future__ import annotations

import stat
from pathlib import Path
from typing import Iterator

from assistant.errors import BadInput

# One record's line. The abstract limit (Settings.max_abstract_chars) is far lower; a line this
# long is not a paper, and holding it would cost memory for nothing.
MAX_LINE_BYTES = 16 << 20
# A JSON array has to be parsed whole; past this size JSON Lines (one object per line) is the format.
MAX_JSON_ARRAY_BYTES = 256 << 20
_SKIP_CHUNK = 1 << 20


def check_file(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise BadInput(f"{path} is not a regular file (a device, pipe or socket): give a saved file")


def read_lines(path: Path, problems: list[str]) -> Iterator[tuple[int, str]]:
    """(line number, text without the newline) for every line; over-long lines are reported in
    `problems` and skipped. Raises BadInput for a file that is not UTF-8 text."""
    check_file(path)
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        number = 0
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # skip the rest of the line, a chunk at a time
                    raw = handle.readline(_SKIP_CHUNK)
                problems.append(f"{path}:{number}: line is over {MAX_LINE_BYTES >> 20} MB; skipped")
                continue
            if b"\0" in raw:
                raise BadInput(f"{path}:{number}: holds NUL bytes, so it is not a text file: give UTF-8 text")
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise BadInput(f"{path} is not UTF-8 text (bad byte at line {number}, column {exc.start + 1}): "
                               "save it as UTF-8") from None
            yield number, text.rstrip("\r\n")


def read_small(path: Path, limit: int = MAX_JSON_ARRAY_BYTES) -> str:
    """The whole file, for formats that must be parsed whole, up to `limit` bytes."""
    check_file(path)
    size = path.stat().st_size
    if size > limit:
        raise BadInput(f"{path} is {size >> 20} MB, over the {limit >> 20} MB a JSON array may have: "
                       "give it as JSON Lines (one object per line)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    if b"\0" in data:
        raise BadInput(f"{path} holds NUL bytes, so it is not a text file: give UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BadInput(f"{path} is not UTF-8 text (bad byte at line {line}): save it as UTF-8") from None


def first_text(path: Path, size: int = 4096) -> str:
    """The start of a file (to tell a JSON array from JSON Lines), decoded leniently."""
    check_file(path)
    try:
        with open(path, "rb") as handle:
            return handle.read(size).decode("utf-8-sig", errors="replace")
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
