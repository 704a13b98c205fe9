"""Simulated users against the front door: each user asks a question through the stateless answer
endpoint (POST /gradio_api/run/ask), reads the answer for a while, and asks again, until the time is
up. Optionally SIGKILLs one replica mid-run. Loopback only, bounded in users and seconds.

    python -m deploy.loadtest --url http://127.0.0.1:8080 --users 100 --seconds 40 --kill-after 15 \
        --state .paperchat/cluster/run/state.json
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

QUESTIONS = [
    "which papers merge models without retraining?",
    "which papers make sampling from diffusion models faster?",
    "what work is there on click-through rate prediction?",
    "where is the code for PLeaS?",
    "which papers study protein folding?",
    "which papers improve long-context language models?",
    "what methods compress large language models?",
    "which papers use reinforcement learning from human feedback?",
]


@dataclass
class Result:
    served: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    first_errors: list[tuple[float, str]] = field(default_factory=list)  # (seconds into the run, error)
    killed: dict | None = None

    def summary(self) -> dict:
        lat = sorted(self.latencies)

        def pct(p):
            return round(lat[min(len(lat) - 1, int(p * len(lat)))], 3) if lat else None

        return {"served": self.served, "failed": self.failed, "p50_s": pct(0.5), "p95_s": pct(0.95),
                "max_s": round(lat[-1], 3) if lat else None,
                "mean_s": round(statistics.fmean(lat), 3) if lat else None,
                "errors": self.errors, "first_errors": self.first_errors, "killed": self.killed}


def ask_once(url: str, question: str, timeout: float) -> dict:
    body = json.dumps({"data": [question, [], 0, "", ""]}).encode()
    req = urllib.request.Request(url.rstrip("/") + "/gradio_api/run/ask", data=body,
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())["data"][0]


def run_load(url: str, users: int, seconds: float, think: tuple[float, float] = (2.0, 8.0),
             timeout: float = 60.0, kill_after: float | None = None, state: Path | None = None,
             seed: int = 0) -> Result:
    host = urlparse(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"load tests run on loopback only, not {host}")
    result = Result()
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + seconds

    def user(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        time.sleep(rng.uniform(0, think[1]))  # users arrive spread out, not in one burst
        while time.monotonic() < deadline:
            q = rng.choice(QUESTIONS)
            t = time.perf_counter()
            try:
                answer = ask_once(url, q, timeout)
                ok = bool(answer.get("answer")) and not answer.get("error")
                why = None if ok else f"bad answer: {answer.get('error')}"
            except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
                ok, why = False, f"{type(exc).__name__}: {getattr(exc, 'code', '') or str(exc)[:80]}"
            took = time.perf_counter() - t
            with lock:
                if ok:
                    result.served += 1
                    result.latencies.append(took)
                else:
                    result.failed += 1
                    result.errors[why] = result.errors.get(why, 0) + 1
                    if len(result.first_errors) < 10:
                        result.first_errors.append((round(time.monotonic() - started, 2), why))
            time.sleep(rng.uniform(*think))  # reading the answer

    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(users)]
    for t in threads:
        t.start()
    if kill_after is not None and state is not None:
        time.sleep(kill_after)
        victim = json.loads(Path(state).read_text())["replicas"][0]
        os.kill(victim["pid"], signal.SIGKILL)
        result.killed = {"replica_port": victim["port"], "pid": victim["pid"], "at_s": kill_after}
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()) + timeout + 5)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:8080")
    p.add_argument("--users", type=int, default=100)
    p.add_argument("--seconds", type=float, default=40)
    p.add_argument("--kill-after", type=float, help="SIGKILL the first replica after this many seconds")
    p.add_argument("--state", type=Path, default=Path(".paperchat/cluster/run/state.json"))
    args = p.parse_args(argv)
    if not 1 <= args.users <= 500 or not 0 < args.seconds <= 600:
        print("loadtest: --users 1..500 and --seconds up to 600", file=sys.stderr)
        return 2
    res = run_load(args.url, args.users, args.seconds, kill_after=args.kill_after, state=args.state)
    print(json.dumps(res.summary(), indent=2))
    return 0 if res.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
