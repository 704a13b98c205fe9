"""Hostile inputs (issue 9), table-driven: ingest files, settings, CLI arguments, Python API
arguments and questions. Each must end in one line saying what is wrong (or, for a bad record or
file next to good ones, one warning line while the good ones are ingested) and never a traceback.
Runs the real CLI entry point in-process (subprocesses only where the process boundary is the
point: a closed pipe, a read-only mount)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reliability_helpers import corpus_rows, settings_at, write_version
from ui.cli import main

GOOD = {"title": "A good paper about owls", "abstract": "We study owls at night. Owls hunt mice."}


def _jsonl(path: Path, *rows) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def _file_cases(tmp: Path) -> dict[str, tuple[list[str], int, str]]:
    """name -> (ingest arguments, exit code, expected text of the one stderr line)."""
    (tmp / "empty.jsonl").write_text("", encoding="utf-8")
    (tmp / "latin1.jsonl").write_bytes('{"title": "Caf\xe9", "abstract": "x"}\n'.encode("latin-1"))
    (tmp / "nul.jsonl").write_bytes(b'{"title": "a\x00", "abstract": "b"}\n')
    (tmp / "notes.txt").write_text("just notes\n\nmore notes\n", encoding="utf-8")
    (tmp / "obj.json").write_text('{"title": "x"}', encoding="utf-8")
    (tmp / "noabs.csv").write_text("title,summary\nA,B\n", encoding="utf-8")
    (tmp / "paper.pdf").write_bytes(b"%PDF-1.4")
    (tmp / "emptydir").mkdir(exist_ok=True)
    zero = tmp / "zero.jsonl"
    if not zero.exists():
        zero.symlink_to("/dev/zero")
    with open(tmp / "longline.jsonl", "wb") as f:
        f.write(b'{"title": "x", "abstract": "' + b"y" * (17 << 20) + b'"}\n')
    rec = {
        "huge-abstract": ({"title": "Big", "abstract": "x" * 2_000_000}, "abstract is 2,000,000 characters; the limit is 50,000"),
        "huge-title": ({"title": "T" * 5000, "abstract": "fine."}, "title is 5,000 characters; the limit is 1,000"),
        "javascript-url": ({"title": "J", "abstract": "a.", "url": "javascript:alert(1)"}, "is not an http(s) link"),
        "data-url": ({"title": "D", "abstract": "a.", "url": "data:text/html,<b>x</b>"}, "is not an http(s) link"),
        "file-url": ({"title": "F", "abstract": "a.", "url": "file:///etc/passwd"}, "is not an http(s) link"),
        "deep-json": ("[" * 100_000, "not valid JSON (nested too deeply)"),
        "huge-number": ('{"title": "n", "abstract": "a", "x": ' + "9" * 10_000 + "}", "more than 4300 digits"),
        "not-an-object": ("[1, 2]", "expected a JSON object with title and abstract"),
        "no-abstract": ({"title": "only a title"}, "record has no abstract"),
        "broken-json": ('{"title": "x", ', "not valid JSON"),
    }
    cases = {name: ([str(_jsonl(tmp / f"{name}.jsonl", row))], 1, text) for name, (row, text) in rec.items()}
    cases.update({
        "empty-file": ([str(tmp / "empty.jsonl")], 1, "is empty"),
        "not-utf8": ([str(tmp / "latin1.jsonl")], 1, "is not UTF-8 text (bad byte at line 1, column 15)"),
        "nul-bytes": ([str(tmp / "nul.jsonl")], 1, "holds NUL bytes"),
        "dev-zero-symlink": ([str(zero)], 1, "is not a regular file"),
        "line-over-16MB": ([str(tmp / "longline.jsonl")], 1, "line is over 16 MB; skipped"),
        "txt-not-a-dump": ([str(tmp / "notes.txt")], 1, "does not look like a Hugging Face Daily Papers page dump"),
        "json-object-no-abstract": ([str(tmp / "obj.json")], 1, "obj.json:1: record has no abstract"),
        "csv-no-abstract": ([str(tmp / "noabs.csv")], 1, "the CSV header has no abstract column"),
        "unsupported-file": ([str(tmp / "paper.pdf")], 2, "unsupported file"),
        "missing-path": ([str(tmp / "nope.jsonl")], 2, "no such file or folder"),
        "empty-folder": ([str(tmp / "emptydir")], 2, "has no .txt, .jsonl, .json or .csv files"),
    })
    return cases


FILE_CASES = ["huge-abstract", "huge-title", "javascript-url", "data-url", "file-url", "deep-json", "huge-number",
              "not-an-object", "no-abstract", "broken-json", "empty-file", "not-utf8", "nul-bytes", "dev-zero-symlink",
              "line-over-16MB", "txt-not-a-dump", "json-object-no-abstract", "csv-no-abstract", "unsupported-file",
              "missing-path", "empty-folder"]


@pytest.fixture
def env(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("PAPERCHAT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PAPERCHAT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.chdir(tmp_path)  # no stray .env
    return tmp_path


def _one_line(capsys, code: int, expected_code: int, expected: str) -> str:
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out
    lines = [line for line in out.err.splitlines() if line.strip()]
    assert code == expected_code, (code, out.err)
    assert len(lines) == 1, out.err
    assert expected in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("case", FILE_CASES)
def test_hostile_ingest_file(case, env, capsys):
    args, code, expected = _file_cases(env)[case]
    good = _jsonl(env / "good.jsonl", GOOD)
    # The bad file comes first: it must not stop the good one (unless the path itself is wrong).
    got = main(["ingest", *args, str(good)])
    _one_line(capsys, got, code, expected)
    if code == 1:
        from assistant.store import Store

        assert "A good paper about owls" in {p.title for p in Store.open(settings_at(env / "index")).papers().values()}


def test_six_bad_records_are_all_named(env, capsys):
    path = _jsonl(env / "six.jsonl", GOOD, "{bad", {"title": "t"}, "[1]", {"abstract": "a"}, "[" * 50_000,
                  {"title": "x", "abstract": "y" * 60_000})
    assert main(["ingest", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert [line.split(":")[1] for line in err.strip().splitlines()] == ["2", "3", "4", "5", "6", "7"]


@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> Path:
    from ingest.pipeline import run_ingest

    tmp = tmp_path_factory.mktemp("hostile")
    corpus = tmp / "corpus.jsonl"
    write_version(corpus, corpus_rows(), 0)
    run_ingest([corpus], settings_at(tmp / "index"), progress=False)
    return tmp / "index"


SETTINGS_CASES = [
    ({"PAPERCHAT_TOP_K": "-3"}, "PAPERCHAT_TOP_K='-3' is not valid: use a whole number from 1 to 1000"),
    ({"PAPERCHAT_TOP_K": "abc"}, "PAPERCHAT_TOP_K='abc' is not valid: use a whole number"),
    ({"PAPERCHAT_MAX_CITED": "0"}, "PAPERCHAT_MAX_CITED='0' is not valid"),
    ({"PAPERCHAT_PRESET": "bogus"}, "PAPERCHAT_PRESET='bogus' is not valid: use one of default, fast or thorough"),
    ({"PAPERCHAT_CHROMA_URL": "ftp://x"}, "PAPERCHAT_CHROMA_URL='ftp://x' is not valid"),
    ({"PAPERCHAT_MIN_RELEVANCE": "2"}, "PAPERCHAT_MIN_RELEVANCE='2' is not valid: use a number from -1 to 1"),
    ({"PAPERCHAT_ANSWERER": "gpt"}, "PAPERCHAT_ANSWERER='gpt' is not valid: use one of extractive"),
    ({"PAPERCHAT_EMBED_BATCH_SIZE": "0"}, "PAPERCHAT_EMBED_BATCH_SIZE='0' is not valid"),
    ({"PAPERCHAT_LLM_TIMEOUT_S": "0"}, "PAPERCHAT_LLM_TIMEOUT_S='0' is not valid: use a number above 0"),
    ({"PAPERCHAT_PROGRESS": "maybe"}, "PAPERCHAT_PROGRESS='maybe' is not valid: use true or false"),
    ({"PAPERCHAT_CHROMA_URL": "http://127.0.0.1:9"}, "cannot reach the Chroma server at http://127.0.0.1:9"),
    ({"PAPERCHAT_EMBED_MODEL": "{notamodel}", "PAPERCHAT_INDEX_DIR": "{fresh}"}, "is not a model folder"),
    ({"PAPERCHAT_INDEX_DIR": "{nowhere}"}, "no index at"),
    ({"PAPERCHAT_INDEX_DIR": "{corrupt}"}, "is damaged (error returned from database: (code: 26) file is not a database)"),
]


@pytest.mark.parametrize("variables,expected", SETTINGS_CASES, ids=[next(iter(v)) + "=" + next(iter(v.values()))[:12]
                                                                    for v, _ in SETTINGS_CASES])
def test_hostile_setting(variables, expected, env, small_index, capsys, monkeypatch):
    (env / "notamodel").mkdir(exist_ok=True)
    corrupt = env / "corrupt"
    if not corrupt.exists():
        shutil.copytree(small_index, corrupt)
        (corrupt / "chroma.sqlite3").write_bytes(os.urandom(100_000))
    monkeypatch.setenv("PAPERCHAT_INDEX_DIR", str(small_index))
    for key, value in variables.items():
        monkeypatch.setenv(key, value.format(notamodel=env / "notamodel", nowhere=env / "nowhere", corrupt=corrupt,
                                             fresh=env / "fresh"))
    # A fresh index is ingested (the model is loaded), any other is searched.
    argv = ["ingest", str(_jsonl(env / "good.jsonl", GOOD))] if "{fresh}" in str(variables) else \
        ["search", "which papers study segmentation?"]
    _one_line(capsys, main(argv), 2, expected)


CLI_CASES = [
    (["search"], 2, "the following arguments are required: question"),
    (["search", "owls", "-k", "0"], 2, "-k must be at least 1"),
    (["search", "owls", "-k", "abc"], 2, "invalid int value: 'abc'"),
    (["ask", ""], 2, "the question is empty"),
    (["ask", "   \n\t "], 2, "the question is empty"),
    (["ask", "why " * 2000], 2, "the question is 7,999 characters long; keep it under 2,000"),
    (["ui", "--port", "70000"], 2, "--port must be between 1 and 65535"),
    (["frobnicate"], 2, "invalid choice: 'frobnicate'"),
    (["ingest", "--bogus-flag"], 2, "unrecognized arguments: --bogus-flag"),
    (["ask", "owls", "--llm", "gpt"], 2, "invalid choice: 'gpt'"),
]


@pytest.mark.parametrize("argv,code,expected", CLI_CASES, ids=[" ".join(a)[:30] for a, _, _ in CLI_CASES])
def test_hostile_cli_arguments(argv, code, expected, env, small_index, capsys, monkeypatch):
    monkeypatch.setenv("PAPERCHAT_INDEX_DIR", str(small_index))
    line = _one_line(capsys, main(argv), code, expected)
    assert "why why why" not in line  # a long question is not echoed


def test_closed_pipe_exits_quietly(small_index, tmp_path):
    env = dict(os.environ, PAPERCHAT_INDEX_DIR=str(small_index), HF_HUB_OFFLINE="1")
    env.pop("PAPERCHAT_CHROMA_URL", None)
    done = subprocess.run(f"{sys.executable} -m ui.cli ask 'which papers study image segmentation?' | head -c 120",
                          shell=True, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert len(done.stdout) == 120 and done.stderr == "", done.stderr


def test_debug_shows_the_traceback(env, capsys, monkeypatch):
    monkeypatch.setenv("PAPERCHAT_TOP_K", "-3")
    assert main(["search", "owls", "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_read_only_index_answers(small_index, tmp_path):
    mount = tmp_path / "ro"
    mount.mkdir()
    bind = subprocess.run(["mount", "--bind", "-o", "ro", str(small_index), str(mount)], capture_output=True)
    if bind.returncode != 0:
        pytest.skip("cannot bind-mount read-only here (needs root or CAP_SYS_ADMIN)")
    try:
        before = {p.name: p.stat().st_mtime_ns for p in small_index.rglob("*") if p.is_file()}
        env = dict(os.environ, PAPERCHAT_INDEX_DIR=str(mount), HF_HUB_OFFLINE="1")
        env.pop("PAPERCHAT_CHROMA_URL", None)
        done = subprocess.run([sys.executable, "-m", "ui.cli", "search", "which papers study segmentation?"],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(" 1. ") and done.stderr == ""
        after = {p.name: p.stat().st_mtime_ns for p in small_index.rglob("*") if p.is_file()}
        assert after == before  # reading wrote nothing
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_half_written_index_of_an_older_paperchat_is_one_line(env, capsys, monkeypatch):
    """What an older paperchat left when killed mid-write: sentences, no chunks (no manifest).
    `search` says so in one line; `ingest` then finishes it."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    index = env / "old-index"
    client = chromadb.PersistentClient(path=str(index), settings=ChromaSettings(anonymized_telemetry=False))
    for name in ("papers", "papers_sentences"):
        client.get_or_create_collection(name, metadata={"embedding_model": "all-MiniLM-L6-v2", "dimension": 384,
                                                  "embedding_runtime": "onnx"},
                                        configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
    client.get_collection("papers_sentences").add(ids=["x#s0", "x#s1"], documents=["a.", "b."],
                                                  embeddings=[[0.1] * 384, [0.2] * 384],
                                                  metadatas=[{"paper_id": "x", "sentence": 0}, {"paper_id": "x", "sentence": 1}])
    client.close()
    monkeypatch.setenv("PAPERCHAT_INDEX_DIR", str(index))
    _one_line(capsys, main(["search", "owls"]), 2, "holds 2 rows but no complete paper (an ingest was interrupted): "
                                                    "run `paperchat ingest` to finish it")
    assert main(["ingest", str(_jsonl(env / "good.jsonl", GOOD))]) == 0
    capsys.readouterr()
    assert main(["search", "owls"]) == 0
    assert "A good paper about owls" in capsys.readouterr().out
