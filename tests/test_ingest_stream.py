"""Streaming ingest (issue 11): a generated corpus of ~750 records in two files, with repeats across
them, ingests to exactly what the all-in-memory merge (papers.build_papers over every record)
gives; and an ingest SIGKILLed mid-write (a real subprocess) leaves no temp file and is finished by
the next run without re-embedding what it wrote.

Embedding hundreds of papers for real takes minutes here, so these use tests/fake_embedder.py (a FAKE
model: hashed vectors); the parsers, the spool, chunking and the writes into a real embedded
Chroma are real."""
from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import ingest.pipeline
from assistant.settings import REPO_ROOT, Settings
from assistant.store import Store
from fake_embedder import FakeEmbedder
from ingest.papers import build_papers, content_hash
from ingest.pipeline import load_papers, run_ingest
from ingest.sources import parse_file
from ingest.vet import vet

PAPERS = 600


def sentences() -> list[str]:
    from ingest.sentences import split_sentences

    records = [r for f in sorted((REPO_ROOT / "data").glob("*.txt")) for r in parse_file(f).records]
    return sorted({s for r in records for s in split_sentences(r.abstract) if 30 <= len(s) <= 300})


def generate(folder: Path, n: int = PAPERS, seed: int = 3) -> list[Path]:
    """n papers in a JSONL file; a CSV with 100 more and repeats of every 12th (a cut-off abstract,
    authors the original lacks; half of them without their id, found by title instead; some as
    version v2 of the id), plus a few broken rows."""
    rng = random.Random(seed)
    pool = sentences()
    rows = [{"title": f"Paper {i}: " + " ".join(rng.sample(pool, 1)[0].split()[:6]),
             "abstract": " ".join(rng.sample(pool, rng.randint(3, 7))), "arxiv_id": f"2501.{i:05d}",
             "date": f"2025-{1 + i % 12:02d}"} for i in range(n + 100)]
    first, second = folder / "a.jsonl", folder / "b.csv"
    with first.open("w", encoding="utf-8") as f:
        for row in rows[:n]:
            f.write(json.dumps(row) + "\n")
        f.write("{not json\n")
    with second.open("w", encoding="utf-8", newline="") as f:
        out = csv.DictWriter(f, ["title", "abstract", "arxiv_id", "date", "authors"])
        out.writeheader()
        for i, row in enumerate(rows[:n:12]):
            repeat = {**row, "abstract": row["abstract"][: len(row["abstract"]) // 2], "authors": f"Ada Author {i}"}
            repeat["arxiv_id"] = "" if i % 2 else f"{row['arxiv_id']}v2"
            out.writerow(repeat)
        for row in rows[n:]:
            out.writerow(row)
        out.writerow({"title": "", "abstract": "no title here"})
    return [first, second]


def in_memory(paths: list[Path], settings: Settings):
    """What an ingest read before streaming: every record in one list, vetted, merged by build_papers."""
    records, problems = [], []
    for path in paths:
        parsed = parse_file(path)
        records += parsed.records
        problems += parsed.problems
    records, vetted = vet(records, settings)
    return build_papers(records, {}), sorted(problems + vetted, key=ingest.pipeline._file_order)


def settings_at(tmp_path: Path, **kw) -> Settings:
    return Settings(_env_file=None, index_dir=tmp_path / "index", data_dir=tmp_path, chroma_url=None,
                    ingest_batch_papers=128, **kw)


@pytest.fixture
def fake(monkeypatch):
    embedders: list[FakeEmbedder] = []

    def load(settings):
        embedders.append(FakeEmbedder())
        return embedders[-1]

    monkeypatch.setattr(ingest.pipeline, "_load_embedder", load)
    return embedders


def test_streamed_ingest_equals_the_in_memory_merge(tmp_path, fake):
    paths = generate(tmp_path)
    settings = settings_at(tmp_path)
    expected, problems = in_memory(paths, settings)
    assert len(expected) == PAPERS + 100 and len(problems) == 2
    merged = {p.arxiv_id: p for p in expected}["2501.00012"]
    assert merged.authors == ["Ada Author 1"] and len(merged.abstract) > 100  # the full one, the CSV's authors

    papers, got_problems = load_papers(paths, settings)
    assert papers == expected and got_problems == problems

    report = run_ingest(paths, settings, progress=False)
    assert (report.papers, report.added, report.changed, report.unchanged) == (len(expected), len(expected), 0, 0)
    assert report.warnings == problems
    hashes = {p.paper_id: content_hash(p, settings.embed_model, settings.max_chunk_tokens) for p in expected}
    assert Store.open(settings).paper_hashes() == hashes

    # Unchanged inputs: nothing embedded, no model loaded. Without the CSV: its 100 papers are
    # counted as not in the inputs, then pruned; the repeats' merged versions change.
    assert run_ingest(paths, settings, progress=False).unchanged == len(expected) and len(fake) == 1
    report = run_ingest(paths[:1], settings, progress=False)
    assert (report.not_in_inputs, report.pruned, report.changed) == (100, 0, PAPERS // 12)
    report = run_ingest(paths[:1], settings, progress=False, prune=True)
    assert (report.papers, report.pruned, report.unchanged) == (PAPERS, 100, PAPERS)
    assert len(Store.open(settings).paper_hashes()) == PAPERS


CHILD = """
import sys
sys.path.insert(0, {tests!r})
import ingest.pipeline, ingest.spool
ingest.spool.CACHE_KIB = 64  # SQLite keeps a temp database in its page cache until it outgrows it
from fake_embedder import FakeEmbedder  # a FAKE model
from assistant.settings import Settings
from pathlib import Path
ingest.pipeline._load_embedder = lambda settings: FakeEmbedder()
settings = Settings(_env_file=None, index_dir=Path(sys.argv[1]), data_dir=Path(sys.argv[1]).parent, chroma_url=None,
                    ingest_batch_papers=50, progress=True)
ingest.pipeline.run_ingest([Path(p) for p in sys.argv[2:]], settings)
"""


def test_sigkill_mid_write_then_rerun_embeds_only_the_rest(tmp_path, fake):
    paths = generate(tmp_path, n=600)
    settings = settings_at(tmp_path)
    small = tmp_path / "small.jsonl"
    small.write_text("".join(paths[0].read_text(encoding="utf-8").splitlines(keepends=True)[:40]), encoding="utf-8")
    run_ingest([small], settings, progress=False)  # an index exists: the big ingest updates it in place

    spool_dir = tmp_path / "sqlite-tmp"
    spool_dir.mkdir()
    env = {**os.environ, "SQLITE_TMPDIR": str(spool_dir), "HF_HUB_OFFLINE": "1"}
    env.pop("PAPERCHAT_CHROMA_URL", None)
    proc = subprocess.Popen([sys.executable, "-c", CHILD.format(tests=str(Path(__file__).parent)),
                             str(settings.index_dir), *map(str, paths)],
                            env=env, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    spool_files = []
    try:
        for line in proc.stderr:
            if "writing papers 301-350" in line:
                # The spool is on disk in SQLITE_TMPDIR, and already unlinked: a kill cannot leave it.
                for fd in Path(f"/proc/{proc.pid}/fd").iterdir():
                    target = os.readlink(fd)
                    if target.startswith(str(spool_dir)):
                        spool_files.append(target)
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.kill()
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL, "the child finished before it could be killed"
    assert spool_files and all(t.endswith("(deleted)") for t in spool_files), spool_files
    assert list(spool_dir.iterdir()) == []

    report = run_ingest(paths, settings, progress=False)
    expected, _ = in_memory(paths, settings)
    assert report.papers == len(expected) and report.unchanged >= 300
    assert report.added + report.changed == len(expected) - report.unchanged
    assert fake[-1].texts == report.embedded_texts  # only the papers the killed run had not written
    hashes = {p.paper_id: content_hash(p, settings.embed_model, settings.max_chunk_tokens) for p in expected}
    store = Store.open(settings)
    assert store.complete() and store.paper_hashes() == hashes
