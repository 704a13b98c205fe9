"""Core benchmark: prints numbers, asserts nothing (times flake on a shared 2-core machine).

    python tests/benchmarks/bench_core.py [--index DIR] [--json OUT]

Measures, on the bundled corpus: cold ingest, unchanged re-ingest, search and ask p50/p95 over 50
warm queries, time from a cold process to its first answer, and peak RSS of each process.
Targets (2 cores): cold ingest <= 45 s, re-ingest <= 5 s, search p50 <= 20 ms, ask p50 <= 50 ms,
first answer <= 12 s, RSS <= 1 GB.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = [json.loads(line)["question"] for line in (REPO / "eval" / "questions.jsonl").open(encoding="utf-8")]
WARM = """
import json, resource, statistics, sys, time
from assistant import Assistant
a = Assistant()
qs = json.loads(sys.argv[1])
a.ask(qs[0])
out = {}
for verb in ("search", "ask"):
    times = []
    for q in qs:
        t = time.perf_counter(); getattr(a, verb)(q); times.append((time.perf_counter() - t) * 1000)
    times.sort()
    out[verb] = {"p50": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))]}
out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def timed(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) of the child, stdout."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"benchmark: {' '.join(cmd[:3])} failed:\n{proc.stderr[-2000:]}")
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, rss, proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="index folder to use (default: a new temporary one)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="paperchat-bench-")
    index = args.index or Path(tmp.name) / "index"
    env = {**os.environ, "PAPERCHAT_INDEX_DIR": str(index), "HF_HUB_OFFLINE": "1"}
    cli = [sys.executable, "-m", "ui.cli"]
    rows = []

    cold, rss_ingest, _ = timed(cli + ["ingest", "--json"], env)
    rows.append(("cold ingest (bundled corpus)", f"{cold:.1f} s", "<= 45 s"))
    again, _, out = timed(cli + ["ingest", "--json"], env)
    report = json.loads(out)
    rows.append(("unchanged re-ingest", f"{again:.1f} s ({report.get('embedded_texts', '?')} texts embedded)", "<= 5 s"))

    first, rss_ask, _ = timed(cli + ["ask", "which papers merge models without retraining?", "--json"], env)
    rows.append(("cold process to first answer", f"{first:.1f} s", "<= 12 s"))

    questions = (QUESTIONS * 2)[:50]
    _, rss_warm, out = timed([sys.executable, "-c", WARM, json.dumps(questions)], env)
    warm = json.loads(out.strip().splitlines()[-1])
    rows.append(("search p50 / p95 (50 warm queries)", f"{warm['search']['p50']:.1f} / {warm['search']['p95']:.1f} ms", "p50 <= 20 ms"))
    rows.append(("ask p50 / p95 (50 warm queries)", f"{warm['ask']['p50']:.1f} / {warm['ask']['p95']:.1f} ms", "p50 <= 50 ms"))
    rows.append(("peak RSS (ingest / serving)", f"{rss_ingest:.0f} / {warm['rss_mb']:.0f} MB", "<= 1024 MB"))

    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure':<{width}}  {'measured':<34}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<34}  {target}")
    if args.json:
        args.json.write_text(json.dumps({name: value for name, value, _ in rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
