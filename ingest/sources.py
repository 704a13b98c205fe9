"""Which files to read and in which format: paths (files or folders) -> parsed records."""
from __future__ import annotations

from pathlib import Path

from assistant.errors import BadInput

from .csvfile import parse_csv
from .jsonfile import parse_json_array, parse_json_lines
from .pagedump import parse_page_dump
from .reader import first_text, read_lines, read_small
from .records import Parsed

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


def parse_file(path: Path) -> Parsed:
    """Every record of one file and its per-record problems; BadInput when the file as a whole
    cannot be read (not UTF-8, not a page dump, a CSV without an abstract column, ...)."""
    name = str(path)
    suffix = path.suffix.lower()
    out = Parsed()
    if suffix == ".json" and first_text(path).lstrip().startswith("["):
        return parse_json_array(read_small(path), name)
    lines = read_lines(path, out.problems)
    if suffix == ".txt":
        return parse_page_dump(lines, name, out)
    if suffix == ".csv":
        return parse_csv(lines, name, out)
    if suffix in (".json", ".jsonl"):
        parse_json_lines(lines, name, out)
        if not out.records and not out.problems:
            raise BadInput(f"{path} is empty")
        return out
    raise BadInput(UNSUPPORTED.format(name=path))
