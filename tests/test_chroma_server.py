"""paperchat against a real `chroma run` server on loopback (PAPERCHAT_CHROMA_URL): ingest, search,
ask and eval give the same results as the embedded store on the same corpus."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from assistant.settings import REPO_ROOT, Settings

QUESTIONS = [
    "which papers merge models without retraining?",
    "which papers make sampling from diffusion models faster?",
    "what work is there on click-through rate prediction?",
    "which papers study protein folding?",
]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    from deploy.procs import start_chroma, stop

    proc, url = start_chroma(tmp_path_factory.mktemp("chroma-server"))
    yield url
    stop(proc)


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    """One of the five page dumps (~40 papers) with the arXiv id map: fast to embed twice."""
    folder = tmp_path_factory.mktemp("small-corpus")
    shutil.copy(REPO_ROOT / "data" / "000_5679ef6d27212b72.txt", folder)
    shutil.copy(REPO_ROOT / "data" / "arxiv_ids.tsv", folder)
    return folder


def _settings(**kw) -> Settings:
    return Settings(_env_file=None, data_dir=REPO_ROOT / "data", **kw)


def _answers(settings: Settings) -> list[tuple]:
    from assistant.core import Assistant

    assistant = Assistant(settings)
    out = []
    for q in QUESTIONS:
        hits = assistant.search(q, k=10)
        answer = assistant.ask(q)
        out.append(([(h.paper_id, round(h.score, 4)) for h in hits], answer.answer,
                    [s.paper_id for s in answer.sources], answer.refused))
    return out


def test_ingest_search_and_ask_through_server_match_embedded(chroma_url, small_corpus, tmp_path):
    from assistant.store import Store
    from ingest.pipeline import run_ingest

    embedded = _settings(index_dir=tmp_path / "embedded", collection="small")
    served = _settings(index_dir=tmp_path / "served", collection="small", chroma_url=chroma_url)
    local_report = run_ingest([small_corpus], embedded, progress=False)
    server_report = run_ingest([small_corpus], served, progress=False)
    assert server_report.added == local_report.added > 20
    assert server_report.index == chroma_url
    # Nothing of the index lands in the local dir when the store is the server.
    assert not (tmp_path / "served" / "chroma.sqlite3").exists()

    assert Store.open(served).paper_hashes() == Store.open(embedded).paper_hashes()
    ids = sorted(Store.open(embedded).paper_hashes())
    assert Store.open(served).sentences_of(ids).keys() == Store.open(embedded).sentences_of(ids).keys()

    assert _answers(served) == _answers(embedded)

    # A second ingest against the server finds everything in place: nothing re-embedded.
    again = run_ingest([small_corpus], served, progress=False)
    assert again.unchanged == local_report.added and again.added == again.changed == 0


def test_eval_on_server_matches_embedded(chroma_url, bundled_index):
    """The whole bundled corpus copied (vectors as they are) into the server, then the eval on both.
    Chroma's dense search is approximate (HNSW) and the server builds its own graph from the
    copied rows, so the last of the 40 dense candidates can differ on a few questions; the answers
    must still agree on nearly every question and the quality metrics must agree closely."""
    from deploy.copy_index import copy_index
    from eval.questions import load_questions
    from eval.run import run_eval

    copied = copy_index(bundled_index.index_dir, chroma_url)
    assert sum(copied.values()) > 3000  # chunks + sentences of 294 papers
    served = bundled_index.model_copy(update={"chroma_url": chroma_url})
    questions = load_questions(None)[:40]

    def run(settings):
        report = run_eval(settings, questions, progress=None)
        return report, {r["id"]: ((r.get("answer") or {}).get("text"), r.get("error")) for r in report["records"]}

    local, local_rows = run(bundled_index)
    remote, remote_rows = run(served)
    assert not [qid for qid, row in remote_rows.items() if row[1]], remote_rows
    same = sum(remote_rows[qid] == local_rows[qid] for qid in local_rows)
    print(f"\neval through the Chroma server: {same}/{len(local_rows)} answers identical to embedded")
    assert same >= 0.9 * len(local_rows)
    flat_local, flat_remote = _numbers(_quality(local["metrics"])), _numbers(_quality(remote["metrics"]))
    assert flat_local.keys() == flat_remote.keys()
    assert all(abs(flat_local[k] - flat_remote[k]) <= 0.05 * max(1.0, abs(flat_local[k])) for k in flat_local), \
        {k: (flat_local[k], flat_remote[k]) for k in flat_local if abs(flat_local[k] - flat_remote[k]) > 0.05}


def _numbers(tree, prefix=""):
    if isinstance(tree, dict):
        out = {}
        for k, v in tree.items():
            out.update(_numbers(v, f"{prefix}{k}."))
        return out
    return {prefix: float(tree)} if isinstance(tree, (int, float)) and not isinstance(tree, bool) else {}


def _quality(tree):
    """The metrics without the timings (which differ run to run)."""
    if isinstance(tree, dict):
        return {k: _quality(v) for k, v in tree.items() if not any(t in k for t in ("ms", "seconds", "latency"))}
    return tree


def test_cli_uses_paperchat_chroma_url(chroma_url, bundled_index, tmp_path):
    from deploy.copy_index import copy_index

    copy_index(bundled_index.index_dir, chroma_url)
    env = {**os.environ, "PAPERCHAT_CHROMA_URL": chroma_url, "PAPERCHAT_INDEX_DIR": str(tmp_path / "unused"),
           "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-m", "ui.cli", "search", QUESTIONS[0], "--json", "-k", "5"],
                         env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    ids = [r["paper_id"] for r in json.loads(out.stdout)["results"]]
    assert {"2306.01708", "2407.02447"} & set(ids)


def test_unreachable_server_is_one_clear_line(tmp_path):
    from deploy.procs import free_port

    env = {**os.environ, "PAPERCHAT_CHROMA_URL": f"http://127.0.0.1:{free_port()}", "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-m", "ui.cli", "search", QUESTIONS[0]], env=env,
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the Chroma server" in lines[0] and "Traceback" not in out.stderr


# ---- the ingest lease on a shared server ------------------------------------------------------
def _tiny_jsonl(folder):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiny.jsonl"
    rows = [{"title": "Streaming transformers for speech", "abstract": "We build a streaming transformer "
             "for speech recognition. It lowers latency.", "arxiv_id": "2102.00002", "date": "2021-02"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_lease_stops_an_ingest_from_another_host(chroma_url, tmp_path):
    """Another host (here: another process with its own index dir, so no shared file lock) holds the
    lease: `paperchat ingest` against the same server stops with one line naming the holder."""
    from ingest.lock import server_lease

    holder = _settings(index_dir=tmp_path / "host-a", collection="leased", chroma_url=chroma_url)
    env = {**os.environ, "PAPERCHAT_CHROMA_URL": chroma_url, "PAPERCHAT_COLLECTION": "leased",
           "PAPERCHAT_INDEX_DIR": str(tmp_path / "host-b"), "HF_HUB_OFFLINE": "1"}
    corpus = _tiny_jsonl(tmp_path / "corpus")
    cmd = [sys.executable, "-m", "ui.cli", "ingest", str(corpus)]
    with server_lease(holder, owner="host-a:1234:test"):
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert "another `paperchat ingest` (host-a:1234:test) is writing" in out.stderr
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("1 papers: 1 added")


def _hold_lease(chroma_url: str, collection: str, seconds: float, owner: str | None = None) -> subprocess.Popen:
    """Another process that takes the lease, prints its owner and holds it (renewing) until killed."""
    code = ("import sys, time\nfrom assistant.settings import Settings\nfrom ingest.lock import server_lease\n"
            f"s = Settings(_env_file=None, collection={collection!r}, chroma_url={chroma_url!r}, "
            f"ingest_lease_seconds={seconds})\n"
            f"with server_lease(s, owner={owner!r}) as lease:\n    print(lease.owner, flush=True)\n    time.sleep(600)\n")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_a_killed_holders_lease_expires_and_is_taken_over(chroma_url, tmp_path):
    from assistant.errors import IndexLocked
    from ingest.lock import server_lease

    settings = _settings(index_dir=tmp_path / "idx", collection="expiring", chroma_url=chroma_url,
                         ingest_lease_seconds=3)
    proc = _hold_lease(chroma_url, "expiring", 3, owner="doomed")
    try:
        assert proc.stdout.readline().strip() == "doomed"
        time.sleep(1.5)  # renewed at least once by now (every second)
        proc.kill()
        proc.wait(10)
        with pytest.raises(IndexLocked, match=r"\(doomed\)"):
            with server_lease(settings):
                pass
        deadline = time.monotonic() + 10
        while True:
            try:
                with server_lease(settings, owner="successor") as lease:
                    assert lease.current().owner == "successor"
                break
            except IndexLocked:
                assert time.monotonic() < deadline, "the dead holder's lease never expired"
                time.sleep(0.5)
    finally:
        proc.kill()


def test_a_killed_holder_on_this_host_does_not_block_until_expiry(chroma_url, tmp_path):
    """Ctrl-C'd or killed ingest on this machine: the next one takes over at once instead of
    waiting out a long lease (here 10 minutes)."""
    from ingest.lock import server_lease

    settings = _settings(index_dir=tmp_path / "idx", collection="killed", chroma_url=chroma_url,
                         ingest_lease_seconds=600)
    proc = _hold_lease(chroma_url, "killed", 600)
    try:
        owner = proc.stdout.readline().strip()
        assert owner.split(":")[1] == str(proc.pid)
        proc.kill()
        proc.wait(10)
        with server_lease(settings, owner="successor") as lease:
            assert lease.current().owner == "successor"
    finally:
        proc.kill()
