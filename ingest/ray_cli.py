"""`python -m ingest.ray_cli start ...`: Ray's own `ray start`, keeping a loopback cluster on loopback.

Ray rewrites a 127.0.0.1 address to the machine's outward-facing one before connecting (so a
cluster's address works from other hosts). For a cluster whose nodes all run on one machine
(tests, a laptop) that sends the traffic over an external interface; here it stays on 127.0.0.1.
Multi-host clusters use plain `ray start` with real addresses and need none of this."""
from __future__ import annotations

import sys


def keep_loopback() -> None:
    """Make Ray use 127.0.0.1 as given instead of the machine's outward address."""
    import ray._private.services as services

    if getattr(services, "_paperchat_loopback", False):
        return
    original = services.resolve_ip_for_localhost
    services.resolve_ip_for_localhost = lambda host: host if host in ("127.0.0.1", "localhost", "::1") else original(host)
    services._paperchat_loopback = True


def is_loopback(address: str | None) -> bool:
    host = (address or "").rsplit(":", 1)[0].strip("[]")
    return host in ("127.0.0.1", "localhost", "::1")


def main() -> None:
    keep_loopback()
    from ray.scripts.scripts import main as ray_main

    sys.argv = ["ray"] + sys.argv[1:]
    ray_main()


if __name__ == "__main__":
    main()


def start_local_cluster(nodes: int = 2, cpus_per_node: int = 1, timeout: float = 240):
    """A Ray cluster of `nodes` nodes on 127.0.0.1 (tests, benchmarks): returns (address, stop).
    Each node is a `ray start --block` in its own process group, so stop() ends exactly these
    nodes (not every Ray process on the machine, as `ray stop` would)."""
    import os
    import signal
    import socket
    import subprocess
    import tempfile
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"127.0.0.1:{port}"
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths have a length limit
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    common = ["--block", "--node-ip-address=127.0.0.1", f"--num-cpus={cpus_per_node}",
              "--object-store-memory=100000000", "--disable-usage-stats"]
    cli = [sys.executable, "-m", "ingest.ray_cli", "start"]
    procs: list = []

    def stop() -> None:
        for p in reversed(procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        import shutil

        shutil.rmtree(temp, ignore_errors=True)

    def wait_nodes(n: int) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = subprocess.run([sys.executable, "-m", "ingest.ray_cli", "status", f"--address={address}"],
                                 env=env, capture_output=True, text=True, timeout=60)
            if out.stdout.count(" node_") >= n:
                return
            for p in procs:
                if p.poll() is not None:
                    raise RuntimeError(f"a Ray node exited with {p.returncode} while starting")
            time.sleep(1)
        raise TimeoutError(f"the Ray cluster did not reach {n} nodes in {timeout:.0f} s")

    try:
        procs.append(subprocess.Popen(cli + ["--head", f"--port={port}", "--include-dashboard=false",
                                             f"--temp-dir={temp}"] + common, env=env, start_new_session=True,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_nodes(1)
        for _ in range(nodes - 1):
            procs.append(subprocess.Popen(cli + [f"--address={address}"] + common, env=env, start_new_session=True,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_nodes(nodes)
    except BaseException:
        stop()
        raise
    return address, stop
