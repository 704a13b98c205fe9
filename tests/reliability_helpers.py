"""Shared by the reliability tests (issue 9): a 12-paper copy of the bundled corpus in two
versions (the first CHANGED papers gain a sentence in version 1), and a check that every paper
answers at exactly one of the given versions with all its chunks."""
from __future__ import annotations

import json
from pathlib import Path

from assistant.settings import REPO_ROOT, Settings
from assistant.store import Store
from ingest.latex import repair
from ingest.sources import parse_file

PAPERS = 12
CHANGED = 4  # papers whose text toggles between versions on each ingest
EXTRA = " A later version of this abstract adds this sentence about robustness."


def corpus_rows() -> list[dict]:
    papers = parse_file(sorted((REPO_ROOT / "data").glob("000_*.txt"))[0]).records[:PAPERS]
    return [{"title": r.title, "abstract": r.abstract, "arxiv_id": f"2401.{i + 1:05d}"} for i, r in enumerate(papers)]


def write_version(path: Path, rows: list[dict], version: int) -> dict[str, str]:
    """Version 0: the originals. Version 1: the first CHANGED papers get one more sentence.
    Returns paper_id -> abstract of that version."""
    out = []
    for i, row in enumerate(rows):
        abstract = row["abstract"] + (EXTRA if version == 1 and i < CHANGED else "")
        out.append({**row, "abstract": abstract})
    path.write_text("".join(json.dumps(r) + "\n" for r in out), encoding="utf-8")
    return {r["arxiv_id"]: repair(r["abstract"]) for r in out}  # as ingest stores it ("2.86×")


def settings_at(index: Path) -> Settings:
    return Settings(_env_file=None, index_dir=index, chroma_url=None, data_dir=index.parent)


def check_index(settings: Settings, versions: list[dict[str, str]]) -> tuple[int, list[str]]:
    """Every paper present at exactly one of the given versions, with all its chunks.
    Returns (papers lost, problems)."""
    store = Store.open(settings)
    papers = store.papers()
    chunks: dict[str, set[int]] = {}
    for _, _, meta in store.all_chunks():
        chunks.setdefault(meta["paper_id"], set()).update(range(meta["sentence_start"], meta["sentence_end"]))
    sentences = store.sentences_of(list(papers))
    problems, lost = [], 0
    for pid in versions[0]:
        if pid not in papers:
            lost += 1
            problems.append(f"{pid}: missing")
            continue
        abstract = papers[pid].abstract
        if abstract not in [v[pid] for v in versions]:
            problems.append(f"{pid}: abstract is neither version: {abstract[-80:]!r}")
        n = len(sentences[pid][0])
        if chunks.get(pid) != set(range(n)):
            problems.append(f"{pid}: chunks cover sentences {sorted(chunks.get(pid, ()))}, not 0..{n - 1}")
    return lost, problems
