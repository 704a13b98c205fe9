"""Which files to read and in which format: paths (files or folders) -> records, streamed."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from assistant.errors import BadInput

from .csvfile import parse_csv
from .jsonfile import parse_json_array, parse_json_lines
from .pagedump import parse_page_dump
from .reader import first_text, read_lines, read_small
from .records import Item, Parsed, RawRecord

SUPPORTED = (".txt", ".jsonl", ".json", ".csv")
ID_MAP_NAME = "arxiv_ids.tsv"  # title -> arXiv id for page dumps; never a corpus file itself
UNSUPPORTED = "unsupported file {name}: give .txt page dumps, .jsonl, .json or .csv"


def corpus_files(paths: list[Path]) -> list[Path]:
    """Every corpus file named by `paths`; a folder means each supported file directly in it."""
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise BadInput(f"no such file or folder: {path}")
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir()
                if p.is_file() and p.suffix.lower() in SUPPORTED and not p.name.startswith(".")
            )
            if not found:
                raise BadInput(f"{path} has no .txt, .jsonl, .json or .csv files to ingest")
            files.extend(found)
        elif path.name == ID_MAP_NAME:
            continue  # passing the map explicitly is harmless: it is read from the folder anyway
        elif path.suffix.lower() not in SUPPORTED:
            raise BadInput(UNSUPPORTED.format(name=path))
        else:
            files.append(path)
    # The same file named twice (folder + file) must not be read twice. Messages keep the name
    # the user gave (a symlink's own name, not its target's).
    unique: dict[Path, Path] = {}
    for p in files:
        unique.setdefault(p.resolve(), p.absolute())
    return list(unique.values())


def iter_file(path: Path) -> Iterator[Item]:
    """The records of one file in file order, one at a time (a RawRecord, or a "file:line: problem"
    string for a skipped record). Raises BadInput when the file as a whole cannot be read (not
    UTF-8, not a page dump, a CSV without an abstract column, ...): possibly after records were
    yielded, since a bad byte on line 90,000 is only seen there; the caller drops the file's records."""
    name = str(path)
    suffix = path.suffix.lower()
    if suffix == ".json" and first_text(path).lstrip().startswith("["):
        # A JSON array is parsed whole, under reader.MAX_JSON_ARRAY_BYTES; JSON Lines streams.
        yield from parse_json_array(read_small(path), name)
        return
    if suffix not in (".txt", ".csv", ".json", ".jsonl"):
        raise BadInput(UNSUPPORTED.format(name=path))
    problems: list[str] = []  # over-long lines, reported by read_lines as it skips them
    lines = read_lines(path, problems)
    parse = parse_page_dump if suffix == ".txt" else parse_csv if suffix == ".csv" else parse_json_lines
    seen = False
    for item in parse(lines, name):
        seen = True
        yield from _drain(problems)
        yield item
    seen = seen or bool(problems)
    yield from _drain(problems)
    if suffix in (".json", ".jsonl") and not seen:
        raise BadInput(f"{path} is empty")


def _drain(problems: list[str]) -> Iterator[str]:
    while problems:
        yield problems.pop(0)


def parse_file(path: Path) -> Parsed:
    """Every record of one file and its per-record problems, as lists (for small inputs and tests;
    an ingest streams iter_file instead)."""
    out = Parsed()
    for item in iter_file(path):
        (out.records if isinstance(item, RawRecord) else out.problems).append(item)
    return out
