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
