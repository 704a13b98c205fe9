"""Core benchmark: prints numbers, asserts nothing (times flake on a shared 2-core machine).

    python tests/benchmarks/bench_core.py [--index DIR] [--json OUT] [--runtime onnx|torch] [--quick]

In one run, on the bundled corpus (issue 10's table):
  cold ingest (wall, peak RSS, phases), unchanged re-ingest, cold `paperchat ask` (median of 3
  fresh processes; wall and peak RSS), `paperchat ui` from start to serving (and to warmed up) with
  its RSS, search and ask p50/p95 over the question set in a warm process, the naive LlamaIndex
  starter's p50 on the same questions in the same process and our ratio to it, query-embedding
  p50 (one thread), and what the ask path spends importing (python -X importtime).
Every process's peak RSS is its own (os.wait4), not the largest of all children.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ASK = "which papers merge models without retraining?"
QUESTIONS = [json.loads(line)["question"] for line in (REPO / "eval" / "questions.jsonl").open(encoding="utf-8")]

WARM = """
import json, resource, statistics, sys, time
from assistant.core import Assistant
qs = json.loads(sys.argv[1]); starter = sys.argv[2] == "1"
a = Assistant(); a.warm(); a.ask(qs[0])
def pcts(times):
    times = sorted(times)
    return {"p50": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))]}
out = {}
for verb in ("search", "ask"):
    times = []
    for q in qs:
        t = time.perf_counter(); getattr(a, verb)(q); times.append((time.perf_counter() - t) * 1000)
    out[verb] = pcts(times)
times = []
for q in qs:
    t = time.perf_counter(); a.embedder.embed_query(q, a.settings.query_threads); times.append((time.perf_counter() - t) * 1000)
out["embed"] = pcts(times); out["embed_threads"] = a.settings.query_threads
times = []
for q in qs:
    t = time.perf_counter(); a.embedder.embed_query(q, 1); times.append((time.perf_counter() - t) * 1000)
out["embed_1"] = pcts(times)
out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
if starter:
    from eval.baselines import Baselines
    b = Baselines(a, names=("starter",)); b.rank("starter", qs[0])
    times = []
    for q in qs:
        t = time.perf_counter(); b.rank("starter", q); times.append((time.perf_counter() - t) * 1000)
    out["starter"] = pcts(times); b.close()
    from assistant.embedder import get_embedder
    torch_embedder = get_embedder(a.settings.embed_model, "torch"); torch_embedder.embed_query(qs[0])
    times = []
    for q in qs:
        t = time.perf_counter(); torch_embedder.embed_query(q); times.append((time.perf_counter() - t) * 1000)
    out["embed_torch"] = pcts(times)
print(json.dumps(out))
"""


def run_measured(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """Wall seconds, the child's own peak RSS in MB (wait4), stdout (through a temp file, so a
    full pipe cannot stall the child while we wait)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            sys.exit(f"benchmark: {' '.join(cmd[:4])} failed:\n{err.read()[-2000:]}")
        return seconds, usage.ru_maxrss / 1024, out.read()


def ui_start(cli: list[str], env: dict) -> dict:
    """Seconds from `paperchat ui` to the page answering, RSS then, seconds to warmed up."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tempfile.NamedTemporaryFile("w+", delete=False)
    start = time.perf_counter()
    proc = subprocess.Popen(cli + ["ui", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=log)
    serving = warmed = None
    rss = 0.0
    deadline = start + 180
    while time.perf_counter() < deadline and proc.poll() is None:
        if serving is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    if r.status == 200:
                        serving = time.perf_counter() - start
                        rss = _rss_mb(proc.pid)
            except OSError:
                pass
        if warmed is None and "warmed up" in Path(log.name).read_text(errors="replace"):
            warmed = time.perf_counter() - start
        if serving is not None and warmed is not None:
            break
        time.sleep(0.05)
    rss_warm = _rss_mb(proc.pid)
    proc.send_signal(signal.SIGINT)
    _, _, usage = os.wait4(proc.pid, 0)
    Path(log.name).unlink(missing_ok=True)
    return {"serving_s": serving, "warmed_s": warmed, "rss_serving_mb": rss, "rss_warm_mb": rss_warm,
            "peak_mb": usage.ru_maxrss / 1024}


def _rss_mb(pid: int) -> float:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    m = re.search(r"VmRSS:\s+(\d+) kB", text)
    return int(m.group(1)) / 1024 if m else float("nan")


def import_costs(env: dict) -> list[tuple[str, float]]:
    """Top-level modules by cumulative import time on the `paperchat search` path."""
    code = f"from ui.cli import main; main(['search', {ASK!r}])"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env, capture_output=True, text=True)
    costs = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)
        if m and not m.group(2).startswith(" ") and "." not in m.group(2):
            costs.append((m.group(2), int(m.group(1)) / 1e6))
    return sorted(costs, key=lambda c: -c[1])[:8]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="index folder to use (default: a new temporary one)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--runtime", choices=["onnx", "torch"], default=os.environ.get("PAPERCHAT_EMBED_RUNTIME", "onnx"))
    parser.add_argument("--quick", action="store_true", help="skip the LlamaIndex starter (it embeds the corpus again)")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="paperchat-bench-")
    index = args.index or Path(tmp.name) / "index"
    env = {**os.environ, "PAPERCHAT_INDEX_DIR": str(index), "HF_HUB_OFFLINE": "1", "PAPERCHAT_EMBED_RUNTIME": args.runtime}
    cli = [sys.executable, "-m", "ui.cli"]
    rows: list[tuple[str, str, str]] = []

    seconds, rss, out = run_measured(cli + ["ingest", "--json"], env)
    report = json.loads(out)
    phases = ", ".join(f"{k} {v:.1f}" for k, v in report.get("timings", {}).items())
    rows.append(("cold ingest (bundled corpus)", f"{seconds:.1f} s, {rss:.0f} MB ({phases})", "<= 30 s"))
    seconds, _, out = run_measured(cli + ["ingest", "--json"], env)
    rows.append(("unchanged re-ingest", f"{seconds:.1f} s ({json.loads(out).get('embedded_texts', '?')} texts embedded)", "<= 5 s"))

    colds = [run_measured(cli + ["ask", ASK, "--json"], env) for _ in range(3)]
    walls = sorted(c[0] for c in colds)
    rows.append(("cold `paperchat ask`, median of 3", f"{statistics.median(walls):.2f} s, {max(c[1] for c in colds):.0f} MB peak "
                 f"(runs {', '.join(f'{w:.2f}' for w in walls)})", "<= 2.5 s, <= 350 MB"))

    ui = ui_start(cli, env)
    serving = f"{ui['serving_s']:.1f} s" if ui["serving_s"] is not None else "never"
    warmed = f"{ui['warmed_s']:.1f} s" if ui["warmed_s"] is not None else "-"
    rows.append(("`paperchat ui` start to serving", f"{serving}, {ui['rss_serving_mb']:.0f} MB RSS "
                 f"(warmed up {warmed}, {ui['rss_warm_mb']:.0f} MB)", "<= 5 s, <= 450 MB"))

    _, rss_warm, out = run_measured([sys.executable, "-c", WARM, json.dumps(QUESTIONS), "0" if args.quick else "1"], env)
    warm = json.loads(out.strip().splitlines()[-1])
    n = len(QUESTIONS)
    rows.append((f"search p50 / p95 ({n} warm questions)", f"{warm['search']['p50']:.1f} / {warm['search']['p95']:.1f} ms",
                 "p50 <= 0.8x starter"))
    rows.append((f"ask p50 / p95 ({n} warm questions)", f"{warm['ask']['p50']:.1f} / {warm['ask']['p95']:.1f} ms", ""))
    if "starter" in warm:
        ratio = warm["search"]["p50"] / warm["starter"]["p50"]
        rows.append(("naive LlamaIndex starter p50 (same questions)", f"{warm['starter']['p50']:.1f} ms "
                     f"(our search / starter = {ratio:.2f}x)", "reference"))
    n = warm.get("embed_threads", 1)
    embed = f"{warm['embed']['p50']:.2f} ms ({args.runtime}, {n} thread{'s' if n > 1 else ''}, as `ask` runs it)"
    if "embed_1" in warm and n > 1:
        embed += f"; 1 thread {warm['embed_1']['p50']:.2f} ms"
    if "embed_torch" in warm:
        embed += f"; torch {warm['embed_torch']['p50']:.2f} ms"
    rows.append(("query embedding p50", embed, "<= 5 ms"))
    rows.append(("peak RSS of the warm process" + (" (starter loaded)" if "starter" in warm else ""),
                 f"{rss_warm:.0f} MB", ""))

    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure':<{width}}  {'measured':<60}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<60}  {target}")
    costs = import_costs(env)
    print("\nimports on the `paperchat search` path (python -X importtime, cumulative s): "
          + ", ".join(f"{name} {sec:.2f}" for name, sec in costs))
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
    if args.json:
        args.json.write_text(json.dumps({"rows": {name: value for name, value, _ in rows}, "imports": costs,
                                         "raw": {"warm": warm, "ui": ui}}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
