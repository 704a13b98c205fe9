"""Serving-data build (`derived.build`) and replica memory against corpus size: prints numbers,
asserts nothing (a shared 2-core machine: timings are noisy).

    python tests/benchmarks/bench_build.py --keep /tmp/scale-work/keep [--sizes 10000,100000]
                                           [--before COMMIT] [--now COMMIT] [--json OUT]

Reuses the Chroma server indexes that `bench_scale.py --keep DIR` wrote (DIR/chroma-N: N synthetic
papers, real sentences and reused real sentence vectors); nothing is written into them. Per size
and code version, in fresh processes against a `chroma run` server on loopback:
  build:   `derived.build` into a new temporary index_dir; its peak RSS read from the kernel (wait4)
  replica: an Assistant over that serving data asks 10 questions; its RSS after them (VmRSS; of
           it RssAnon, the private part: the rest is mapped files shared by every replica) and its peak. An in-process Assistant, not the Gradio UI (which adds a constant ~150 MB).
--before COMMIT measures that commit's code too (exported with `git archive`), --now COMMIT
measures a commit instead of the working tree (so editing it during a long run is safe)."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest_memory import DERIVED, code_of, report, run_child  # noqa: E402

REPLICA = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from assistant.core import Assistant
a = Assistant()
for q in json.loads(sys.argv[2]):
    a.ask(q)
status = {l.split(":")[0]: int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(("VmRSS", "RssAnon"))}
print(json.dumps({"rss_mb": round(status["VmRSS"] / 1024), "anon_mb": round(status["RssAnon"] / 1024),
                  "code": __import__("assistant.core").__file__}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", type=Path, required=True, help="the --keep folder of bench_scale.py")
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--before", default="")
    ap.add_argument("--now", default="")
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    from bench_scale import QUESTIONS
    from deploy.procs import start_chroma, stop

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PAPERCHAT_PROGRESS": "0"}
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        tmp = Path(tmp)
        for n in [int(s) for s in args.sizes.split(",") if s]:
            server, url = start_chroma(args.keep / f"chroma-{n}")
            try:
                for label, commit in ([("before", args.before)] if args.before else []) + [("now", args.now)]:
                    code, index = code_of(commit, tmp), tmp / f"index-{n}-{label}"
                    built, build_mb = run_child(DERIVED, [str(code), str(index), url], env)
                    replica_env = {**env, "PAPERCHAT_CHROMA_URL": url, "PAPERCHAT_INDEX_DIR": str(index)}
                    replica, replica_peak = run_child(REPLICA, [str(code), json.dumps(QUESTIONS[:10])], replica_env)
                    assert replica["code"].startswith(str(code)), f"ran {replica['code']}, not the code of {label}"
                    row = {"papers": n, "code": label + (f" ({commit})" if commit else ""),
                           "build_peak_mb": round(build_mb), "build_s": built["seconds"],
                           "replica_rss_mb": replica["rss_mb"], "replica_anon_mb": replica["anon_mb"],
                           "replica_peak_mb": round(replica_peak)}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    shutil.rmtree(index, ignore_errors=True)
            finally:
                stop(server)
    report(rows, args.json, {
        "papers": lambda r: f"{r['papers']:,}", "code": lambda r: r["code"],
        "build peak RSS": lambda r: f"{r['build_peak_mb']} MB", "build time": lambda r: f"{r['build_s']} s",
        "replica RSS after 10 asks (of it private)": lambda r: f"{r['replica_rss_mb']} MB ({r['replica_anon_mb']} MB)",
        "replica peak": lambda r: f"{r['replica_peak_mb']} MB"})


if __name__ == "__main__":
    main()
