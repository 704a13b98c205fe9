"""Ingest into a real Chroma index in tmp: counts, idempotence, change detection, prune,
rebuild, model mismatch, bad input through the CLI, and the writer lock."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.embedder import model_path
from assistant.errors import ModelMismatch
from assistant.settings import REPO_ROOT, Settings
from assistant.store import Store
from ingest.lock import ingest_lock
from ingest.pipeline import ensure_index, run_ingest
from ui.cli import main

DATA = REPO_ROOT / "data"
MODEL = "all-MiniLM-L6-v2"


def settings_at(index_dir: Path, **kw) -> Settings:
    kw.setdefault("data_dir", DATA)
    return Settings(_env_file=None, index_dir=index_dir, chroma_url=None, **kw)


def copy_index(bundled: Settings, tmp_path: Path) -> Settings:
    """A private, writable copy of the session index: mutating tests must not disturb others."""
    shutil.copytree(bundled.index_dir, tmp_path / "index", ignore=shutil.ignore_patterns(".ingest.lock"))
    return settings_at(tmp_path / "index")


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


SMALL = [
    {"title": "Tiny Paper One", "abstract": "We propose a tiny model. It is fast. Code: https://github.com/t/one."},
    {"title": "Tiny Paper Two", "abstract": "A second tiny study of cats.", "arxiv_id": "2401.00002"},
]


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """Point the CLI (which reads PAPERCHAT_* settings) at a fresh index in tmp."""
    index = tmp_path / "cli-index"
    monkeypatch.setenv("PAPERCHAT_INDEX_DIR", str(index))
    monkeypatch.setenv("PAPERCHAT_DATA_DIR", str(DATA))
    monkeypatch.delenv("PAPERCHAT_CHROMA_URL", raising=False)
    monkeypatch.delenv("PAPERCHAT_EMBED_MODEL", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return index


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# ---- the bundled corpus ----------------------------------------------------------------------
def test_bundled_index_has_every_paper_chunk_and_sentence(bundled_index):
    store = Store.open(bundled_index)
    assert store.count_papers() == 294
    papers = store.papers()
    fer = papers["2405.01828"]
    assert fer.url == "https://huggingface.co/papers/2405.01828"
    assert fer.code_url == "https://github.com/SwjtuMa/FER-YOLO-Mamba"
    assert fer.date == "2024-05"
    sentences, vectors = store.sentences_of(["2405.01828"], with_vectors=True)["2405.01828"]
    assert " ".join(sentences) == fer.abstract
    assert vectors.shape == (len(sentences), 384)
    meta = store.chunks.metadata
    assert meta["embedding_model"] == MODEL and meta["dimension"] == 384
    assert store.chunks.count() > 294 and store.sentences.count() > 2000


def test_unchanged_reingest_embeds_nothing_and_never_loads_the_model(bundled_index, tmp_path):
    settings = copy_index(bundled_index, tmp_path)
    code = (
        "import sys, json; from pathlib import Path\n"
        "from assistant.settings import Settings\n"
        "from ingest.pipeline import run_ingest\n"
        f"s = Settings(_env_file=None, index_dir=Path({str(settings.index_dir)!r}), data_dir=Path({str(DATA)!r}))\n"
        "r = run_ingest(None, s)\n"
        "print(json.dumps(dict(r.model_dump(), torch_loaded='sentence_transformers' in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert (report["added"], report["changed"], report["unchanged"], report["embedded_texts"]) == (0, 0, 294, 0)
    assert report["torch_loaded"] is False
    assert report["seconds"] < 10  # target <= 5 s; slack for a busy CI box


def test_changed_abstract_reembeds_only_that_paper(bundled_index, tmp_path):
    settings = copy_index(bundled_index, tmp_path)
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    first = sorted(data.glob("000_*.txt"))[0]
    text = first.read_text(encoding="utf-8")
    old = "The code is available from https://github.com/SwjtuMa/FER-YOLO-Mamba."
    assert old in text
    first.write_text(text.replace(old, old + " We add one new sentence about owls."), encoding="utf-8")
    settings = settings.model_copy(update={"data_dir": data})
    report = run_ingest(None, settings, progress=False)
    assert (report.added, report.changed, report.unchanged, report.pruned) == (0, 1, 293, 0)
    sentences, _ = Store.open(settings).sentences_of(["2405.01828"])["2405.01828"]
    assert sentences[-1] == "We add one new sentence about owls."


def test_prune_drops_papers_no_longer_in_the_inputs(bundled_index, tmp_path):
    settings = copy_index(bundled_index, tmp_path)
    one_file = sorted(DATA.glob("000_*.txt"))[0]
    kept = run_ingest([one_file], settings, progress=False)
    assert kept.unchanged == kept.papers and kept.pruned == 0 and kept.not_in_inputs == 294 - kept.papers
    assert Store.open(settings).count_papers() == 294
    pruned = run_ingest([one_file], settings, prune=True, progress=False)
    assert (pruned.added, pruned.changed, pruned.pruned) == (0, 0, 294 - pruned.papers)
    assert Store.open(settings).count_papers() == pruned.papers < 294


# ---- small indexes ---------------------------------------------------------------------------
def test_rebuild_starts_over(tmp_path):
    settings = settings_at(tmp_path / "index")
    path = write_jsonl(tmp_path / "small.jsonl", SMALL)
    assert run_ingest([path], settings, progress=False).added == 2
    extra = write_jsonl(tmp_path / "extra.jsonl", [{"title": "Extra", "abstract": "Extra paper."}])
    run_ingest([extra], settings, progress=False)
    assert Store.open(settings).count_papers() == 3
    report = run_ingest([path], settings, rebuild=True, progress=False)
    assert (report.added, report.changed, report.unchanged) == (2, 0, 0)
    assert sorted(p.title for p in Store.open(settings).papers().values()) == ["Tiny Paper One", "Tiny Paper Two"]


def test_rebuilds_leave_no_old_vector_folders_behind(tmp_path):
    settings = settings_at(tmp_path / "index")
    path = write_jsonl(tmp_path / "small.jsonl", SMALL)
    run_ingest([path], settings, progress=False)
    folders = lambda: sorted(p.name for p in settings.index_dir.iterdir() if p.is_dir() and len(p.name) == 36)  # noqa: E731
    first = folders()
    for _ in range(2):
        run_ingest([path], settings, rebuild=True, progress=False)
    assert len(folders()) <= len(first) and not set(first) & set(folders())
    assert Store.open(settings).count_papers() == 2  # and the rebuilt index still answers


def test_index_of_another_model_is_refused_until_rebuild(tmp_path, cli_env, capsys):
    # The same weights under another name (a model folder) stand in for "another model".
    other = settings_at(cli_env, embed_model=str(model_path(MODEL)))
    path = write_jsonl(tmp_path / "small.jsonl", SMALL)
    run_ingest([path], other, progress=False)
    capsys.readouterr()  # model loading chatter from the setup above

    with pytest.raises(ModelMismatch, match="--rebuild"):
        run_ingest([path], settings_at(cli_env), progress=False)
    assert main(["ingest", str(path)]) == 2
    line = one_line_error(capsys)
    assert line.startswith("paperchat: ") and "paperchat ingest --rebuild" in line

    assert main(["ingest", str(path), "--rebuild", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["added"] == 2 and report["index"] == str(cli_env)
    store = Store.open(settings_at(cli_env))
    assert store.chunks.metadata["embedding_model"] == MODEL and store.count_papers() == 2


def test_cli_summary_line(tmp_path, cli_env, capsys):
    path = write_jsonl(tmp_path / "small.jsonl", SMALL)
    assert main(["ingest", str(path)]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("2 papers: 2 added, 0 changed, 0 unchanged, 0 pruned in ")
    assert out.endswith(f" s (index: {cli_env})")
    assert main(["ingest", str(path)]) == 0
    assert capsys.readouterr().out.startswith("2 papers: 0 added, 0 changed, 2 unchanged, 0 pruned")


def test_ensure_index_builds_only_when_missing(tmp_path, bundled_index):
    settings = copy_index(bundled_index, tmp_path)
    assert ensure_index(settings) is None
    fresh = settings_at(tmp_path / "fresh", data_dir=tmp_path / "d")
    (tmp_path / "d").mkdir()
    write_jsonl(tmp_path / "d" / "p.jsonl", SMALL)
    report = ensure_index(fresh, progress=False)
    assert report is not None and report.added == 2
    assert ensure_index(fresh) is None


# ---- bad input -------------------------------------------------------------------------------
def _bad_inputs(tmp: Path) -> dict[str, tuple[list[str], str]]:
    latin1 = tmp / "latin1.jsonl"
    latin1.write_bytes('{"title": "Caf\xe9", "abstract": "x"}\n'.encode("latin-1"))
    empty = tmp / "empty.csv"
    empty.write_text("", encoding="utf-8")
    pdf = tmp / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    missing = tmp / "nope.jsonl"
    return {
        "non-utf8": ([str(latin1)], f"{latin1} is not UTF-8 text"),
        "empty": ([str(empty)], f"{empty} is empty"),
        "unsupported": ([str(pdf)], f"unsupported file {pdf}: give .txt page dumps, .jsonl, .json or .csv"),
        "missing": ([str(missing)], f"no such file or folder: {missing}"),
    }


@pytest.mark.parametrize("case", ["unsupported", "missing"])
def test_bad_path_is_one_line_and_writes_nothing(case, tmp_path, cli_env, capsys):
    good = write_jsonl(tmp_path / "good.jsonl", SMALL)
    args, expected = _bad_inputs(tmp_path)[case]
    # A path that cannot be a corpus file is a typo: stop before reading anything.
    assert main(["ingest", str(good), *args]) == 2
    line = one_line_error(capsys)
    assert line.startswith("paperchat: ") and expected in line
    assert not (cli_env / "chroma.sqlite3").exists()


@pytest.mark.parametrize("case", ["non-utf8", "empty"])
def test_unreadable_file_is_reported_and_the_good_files_are_ingested(case, tmp_path, cli_env, capsys):
    good = write_jsonl(tmp_path / "good.jsonl", SMALL)
    args, expected = _bad_inputs(tmp_path)[case]
    assert main(["ingest", *args, str(good)]) == 1  # scripts notice; the good file is in
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), captured.err
    assert captured.out.startswith("2 papers: 2 added")
    assert Store.open(settings_at(cli_env)).count_papers() == 2


def test_input_with_no_good_record_is_an_error(tmp_path, cli_env, capsys):
    allbad = write_jsonl(tmp_path / "allbad.jsonl", ["{not json", '{"title": "x"}'])
    assert main(["ingest", str(allbad)]) == 2
    line = one_line_error(capsys)
    assert line.startswith(f"paperchat: no papers to ingest in {allbad}: {allbad}:1: not valid JSON")
    assert not (cli_env / "chroma.sqlite3").exists()


def test_malformed_jsonl_lines_are_reported_and_the_rest_ingested(tmp_path, cli_env, capsys):
    path = write_jsonl(tmp_path / "mixed.jsonl", [SMALL[0], '{"title": "broken", "abstract": ', {"title": "No abstract"}, SMALL[1]])
    assert main(["ingest", str(path)]) == 1  # scripts notice, but the good lines are in
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.err.strip().splitlines() == [
        f"{path}:2: not valid JSON (Expecting value at column 33)",
        f"{path}:3: record has no abstract",
    ]
    assert captured.out.startswith("2 papers: 2 added")
    assert Store.open(settings_at(cli_env)).count_papers() == 2


def test_a_second_concurrent_ingest_fails_with_one_clear_line(tmp_path, cli_env, capsys):
    path = write_jsonl(tmp_path / "small.jsonl", SMALL)
    with ingest_lock(cli_env):
        assert main(["ingest", str(path)]) == 2
    line = one_line_error(capsys)
    assert line == f"paperchat: another `paperchat ingest` is writing {cli_env}; wait for it to finish"
    assert main(["ingest", str(path)]) == 0  # the lock is released with its holder


def test_lock_is_held_across_processes(tmp_path, cli_env):
    path = write_jsonl(tmp_path / "small.jsonl", SMALL)
    env = dict(os.environ, PAPERCHAT_INDEX_DIR=str(cli_env), PAPERCHAT_DATA_DIR=str(DATA))
    with ingest_lock(cli_env):
        proc = subprocess.run([sys.executable, "-m", "ui.cli", "ingest", str(path)], cwd=REPO_ROOT,
                              env=env, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"paperchat: another `paperchat ingest` is writing {cli_env}; wait for it to finish"
