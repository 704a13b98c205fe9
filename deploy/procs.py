"""Start, wait for and stop the processes of a deployment (Chroma server, chat replicas).
Shared by `deploy/cluster.py`, the tests and the scale benchmark so they all run the same thing."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def chroma_binary() -> str:
    """The `chroma` CLI shipped with chromadb, next to this interpreter (a venv) or on PATH."""
    here = Path(sys.executable).parent / "chroma"
    found = str(here) if here.exists() else shutil.which("chroma")
    if not found:
        raise FileNotFoundError("the `chroma` command is missing: install chromadb (make install)")
    return found


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> float:
    """Poll url until it answers 2xx; returns the seconds it took. Raises if proc dies first."""
    started = time.perf_counter()
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if 200 <= r.status < 300:
                    return time.perf_counter() - started
        except OSError:
            pass
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.2)


def start_chroma(path: Path, port: int | None = None, host: str = LOOPBACK, log=None,
                 timeout: float = 60) -> tuple[subprocess.Popen, str]:
    """`chroma run` persisting to path; returns the process and its URL once it answers."""
    port = port or free_port(host)
    Path(path).mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([chroma_binary(), "run", "--path", str(path), "--host", host, "--port", str(port)],
                            stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://{host}:{port}"
    try:
        wait_http(f"{url}/api/v2/heartbeat", timeout, proc)
    except Exception:
        stop(proc)
        raise
    return proc, url


def stop(proc: subprocess.Popen, grace: float = 10) -> None:
    """SIGTERM the process group, then SIGKILL what is left after grace seconds."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(5)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (Linux /proc)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024
