"""`make cluster REPLICAS=2`: a Chroma server, N `paperchat ui` replicas and HAProxy in front, on
this machine's loopback interface. Ctrl-C (or SIGTERM) stops everything, proxy first.

A replica that dies is restarted; HAProxy's health checks take it out of rotation meanwhile and
its retries move the requests it dropped to another replica.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from .procs import LOOPBACK, free_port, start_chroma, stop, wait_http

HERE = Path(__file__).resolve().parent
HEALTH = "/gradio_api/info"
# Concurrent answers one replica computes; more wait in HAProxy's queue. Two cores per replica host.
REPLICA_MAXCONN = 4
RESTART_DELAY_S = 2.0


def haproxy_config(bind: str, replica_ports: list[int], maxconn: int = REPLICA_MAXCONN) -> str:
    template = (HERE / "haproxy.cfg.in").read_text()
    answers = "\n".join(f"    server r{i} {LOOPBACK}:{p} check maxconn {maxconn}" for i, p in enumerate(replica_ports, 1))
    ui = "\n".join(f"    server r{i} {LOOPBACK}:{p} check cookie r{i}" for i, p in enumerate(replica_ports, 1))
    return template.replace("@BIND@", bind).replace("@ANSWER_SERVERS@", answers).replace("@UI_SERVERS@", ui)


def _paperchat() -> list[str]:
    exe = Path(sys.executable).parent / "paperchat"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ui.cli"]


class Cluster:
    def __init__(self, args):
        self.args = args
        self.run_dir = Path(args.run_dir).resolve()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.chroma = None
        self.proxy = None
        self.replicas: dict[int, subprocess.Popen] = {}
        self.ports: list[int] = []
        self.env: dict[str, str] = {}
        self.stopping = False

    def log(self, msg: str) -> None:
        print(f"cluster: {msg}", file=sys.stderr, flush=True)

    def _logfile(self, name: str):
        return open(self.run_dir / f"{name}.log", "ab")

    def start(self) -> None:
        a = self.args
        if a.chroma_url:
            url = a.chroma_url
        else:
            self.chroma, url = start_chroma(Path(a.chroma_path), a.chroma_port or None, log=self._logfile("chroma"))
            self.log(f"chroma server {url} (data {a.chroma_path}, pid {self.chroma.pid})")
        self.env = {**os.environ, "PAPERCHAT_CHROMA_URL": url, "HF_HUB_OFFLINE": "1",
                    "GRADIO_ANALYTICS_ENABLED": "False",
                    # Saved chats are encrypted in the browser with this key: every replica must
                    # share it, or a chat saved through one replica would not open on another.
                    "PAPERCHAT_UI_SECRET": os.environ.get("PAPERCHAT_UI_SECRET") or self._secret(),
                    # The keyword index and other files built at ingest: one shared volume.
                    "PAPERCHAT_INDEX_DIR": str(Path(a.index_dir).resolve())}
        self._ensure_index(url)
        self.ports = [free_port() for _ in range(a.replicas)]
        for i in range(a.replicas):
            self._start_replica(i)
        for i in range(a.replicas):
            seconds = wait_http(f"http://{LOOPBACK}:{self.ports[i]}{HEALTH}", a.start_timeout, self.replicas[i])
            self.log(f"replica {i + 1} ready on {LOOPBACK}:{self.ports[i]} in {seconds:.1f} s (pid {self.replicas[i].pid})")
        cfg = self.run_dir / "haproxy.cfg"
        cfg.write_text(haproxy_config(f"{a.host}:{a.port}", self.ports))
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not Path(haproxy).exists():
            raise SystemExit("cluster: haproxy is not installed: run `make haproxy` (apt-get install haproxy)")
        self.proxy = subprocess.Popen([haproxy, "-db", "-f", str(cfg)], stdout=self._logfile("haproxy"),
                                      stderr=subprocess.STDOUT, start_new_session=True)
        wait_http(f"http://{a.host}:{a.port}{HEALTH}", 30, self.proxy)
        self._write_state(url)
        self.log(f"serving http://{a.host}:{a.port}/ via haproxy (pid {self.proxy.pid}); "
                 f"{a.replicas} replicas; Ctrl-C stops everything")

    def _secret(self) -> str:
        path = self.run_dir / "ui_secret"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(24))
        return path.read_text().strip()

    def _ensure_index(self, url: str) -> None:
        from assistant.errors import IndexMissing
        from assistant.settings import get_settings
        from assistant.store import Store

        settings = get_settings(chroma_url=url, index_dir=Path(self.env["PAPERCHAT_INDEX_DIR"]))
        try:
            if Store.open(settings).has_papers():
                return
        except IndexMissing:
            pass
        if self.args.seed_from:
            from .copy_index import copy_index

            rows = copy_index(Path(self.args.seed_from), url)
            self.log(f"copied {self.args.seed_from} into the server: {rows}")
            return
        self.log("the server has no index: ingesting the bundled corpus (a few minutes)…")
        subprocess.run(_paperchat() + ["ingest"], env=self.env, check=True)

    def _start_replica(self, i: int) -> None:
        self.replicas[i] = subprocess.Popen(
            _paperchat() + ["ui", "--host", LOOPBACK, "--port", str(self.ports[i])],
            env=self.env, stdout=self._logfile(f"replica{i + 1}"), stderr=subprocess.STDOUT, start_new_session=True)

    def _write_state(self, url: str) -> None:
        state = {"proxy": f"http://{self.args.host}:{self.args.port}", "chroma": url,
                 "proxy_pid": self.proxy.pid, "chroma_pid": self.chroma.pid if self.chroma else None,
                 "replicas": [{"port": self.ports[i], "pid": p.pid} for i, p in sorted(self.replicas.items())]}
        (self.run_dir / "state.json").write_text(json.dumps(state, indent=2))

    def supervise(self) -> None:
        while not self.stopping:
            time.sleep(0.5)
            if self.proxy.poll() is not None:
                self.log(f"haproxy exited ({self.proxy.returncode}); stopping")
                return
            for i, proc in list(self.replicas.items()):
                if proc.poll() is not None and not self.stopping:
                    self.log(f"replica {i + 1} exited ({proc.returncode}); restarting it")
                    time.sleep(RESTART_DELAY_S)
                    self._start_replica(i)
                    self._write_state(self.env["PAPERCHAT_CHROMA_URL"])

    def shutdown(self) -> None:
        self.stopping = True
        if self.proxy is not None:
            stop(self.proxy)
        for proc in self.replicas.values():
            stop(proc)
        if self.chroma is not None:
            stop(self.chroma)
        self.log("stopped")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m deploy.cluster", description=__doc__.splitlines()[0])
    p.add_argument("--replicas", type=int, default=2)
    p.add_argument("--host", default=LOOPBACK, help="address the proxy listens on")
    p.add_argument("--port", type=int, default=8080, help="port the proxy listens on")
    p.add_argument("--chroma-url", help="use this Chroma server instead of starting one")
    p.add_argument("--chroma-path", default=".paperchat/cluster/chroma", help="the started Chroma server's data")
    p.add_argument("--chroma-port", type=int, default=0)
    p.add_argument("--index-dir", default=".paperchat/cluster/index", help="shared files built at ingest")
    p.add_argument("--seed-from", help="an embedded index dir to copy into an empty server instead of ingesting")
    p.add_argument("--run-dir", default=".paperchat/cluster/run", help="logs, haproxy.cfg, state.json")
    p.add_argument("--start-timeout", type=float, default=180)
    args = p.parse_args(argv)
    if not 1 <= args.replicas <= 16:
        print("cluster: --replicas must be between 1 and 16", file=sys.stderr)
        return 2
    cluster = Cluster(args)

    def on_signal(signum, frame):
        if cluster.stopping:
            return
        cluster.stopping = True
        if cluster.proxy is None:  # still starting: abandon the start, then shut down
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        cluster.start()
        cluster.supervise()
    except (TimeoutError, RuntimeError, subprocess.CalledProcessError) as exc:
        cluster.log(f"failed to start: {exc} (logs in {cluster.run_dir})")
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        cluster.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
