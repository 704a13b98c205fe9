"""Which files to read and in which format: paths (files or folders) -> parsed records."""
from __future__ import annotations

from pathlib import Path

from assistant.errors import BadInput

from .csvfile import parse_csv
from .jsonfile import parse_json_array, parse_json_lines
from .pagedump import looks_like_page_dump, parse_page_dump
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
    # The same file named twice (folder + file) must not be read twice.
    return list(dict.fromkeys(p.resolve() for p in files))


def read_text(path: Path) -> str:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path} is not UTF-8 text (bad byte at offset {exc.start}): save it as UTF-8") from None
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    if not text.strip():
        raise BadInput(f"{path} is empty")
    return text


def parse_file(path: Path) -> Parsed:
    text = read_text(path)
    name = str(path)
    suffix = path.suffix.lower()
    if suffix == ".txt":
        if not looks_like_page_dump(text):
            raise BadInput(
                f"{path} does not look like a Hugging Face Daily Papers page dump "
                "(no 'Get trending papers' header): give .txt page dumps, .jsonl, .json or .csv"
            )
        return parse_page_dump(text, name)
    if suffix == ".csv":
        return parse_csv(text, name)
    if suffix == ".json" and text.lstrip().startswith("["):
        return parse_json_array(text, name)
    if suffix in (".json", ".jsonl"):
        return parse_json_lines(text, name)
    raise BadInput(UNSUPPORTED.format(name=path))
