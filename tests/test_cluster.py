"""The whole front door on loopback: `python -m deploy.cluster` (what `make cluster` runs) starts a
real Chroma server, two `paperchat ui` replicas and Debian's HAProxy; 100 simulated users ask
through the proxy while one replica is SIGKILLed."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
FOLLOW_UP = "which of those use permutations?"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill 0: look at its state
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def cluster(bundled_index, tmp_path_factory):
    if not Path(HAPROXY).exists():
        pytest.skip("haproxy is not installed: `make haproxy`")
    from deploy.procs import free_port, wait_http

    base = tmp_path_factory.mktemp("cluster")
    port = free_port()
    run_dir = base / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "deploy.cluster", "--replicas", "2", "--port", str(port),
         "--chroma-path", str(base / "chroma"), "--index-dir", str(base / "index"), "--run-dir", str(run_dir),
         "--seed-from", str(bundled_index.index_dir)],
        env={**os.environ, "HF_HUB_OFFLINE": "1"}, stderr=open(base / "cluster.log", "wb"), start_new_session=True)
    state_file = run_dir / "state.json"
    deadline = time.monotonic() + 300
    while not state_file.exists():
        assert proc.poll() is None, (base / "cluster.log").read_text()
        assert time.monotonic() < deadline, "cluster did not start in 300 s"
        time.sleep(0.5)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/gradio_api/info", 30)
    yield {"proc": proc, "url": url, "state": state_file, "log": base / "cluster.log"}
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)


def test_replicas_give_identical_answers_and_a_chat_moves_between_them(cluster):
    from deploy.loadtest import QUESTIONS, ask_once

    state = json.loads(cluster["state"].read_text())
    r1, r2 = (f"http://127.0.0.1:{r['port']}" for r in state["replicas"])
    for q in QUESTIONS[:4]:
        a, b = ask_once(r1, q, 60), ask_once(r2, q, 60)
        assert (a["answer"], [s["paper_id"] for s in a["sources"]]) == (b["answer"], [s["paper_id"] for s in b["sources"]])
    # First turn on replica 1, the follow-up on replica 2: the history travels with the request.
    first = ask_once(r1, QUESTIONS[0], 60)
    history = [{"role": "user", "content": QUESTIONS[0]}, {"role": "assistant", "content": first["answer"],
                                                            "paper_ids": [s["paper_id"] for s in first["sources"]]}]

    def follow(url):
        body = json.dumps({"data": [FOLLOW_UP, history, 0, "", ""]}).encode()
        req = urllib.request.Request(url + "/gradio_api/run/ask", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())["data"][0]

    on_1, on_2 = follow(r1), follow(r2)
    assert not on_2["refused"] and on_2["sources"]
    assert on_2["answer"] == on_1["answer"]
    assert {s["paper_id"] for s in on_2["sources"]} <= {s["paper_id"] for s in first["sources"]}


def test_hundred_users_one_replica_killed_none_failed(cluster):
    from deploy.loadtest import run_load

    result = run_load(cluster["url"], users=100, seconds=40, kill_after=12, state=cluster["state"])
    summary = result.summary()
    print("\nload through haproxy, 100 users, 40 s, replica 1 SIGKILLed at 12 s:", json.dumps(summary))
    assert result.killed and not _alive(result.killed["pid"])
    assert result.served > 100
    assert result.failed == 0, summary["errors"]


def test_ctrl_c_stops_every_process(cluster):
    state = json.loads(cluster["state"].read_text())
    pids = [state["proxy_pid"], state["chroma_pid"]] + [r["pid"] for r in state["replicas"]]
    cluster["proc"].send_signal(signal.SIGINT)
    assert cluster["proc"].wait(60) == 0
    deadline = time.monotonic() + 15
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in pids if _alive(p)], cluster["log"].read_text()[-2000:]
