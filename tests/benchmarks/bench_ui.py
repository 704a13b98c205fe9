"""Load test of the browser chat's server: start the real UI on a free loopback port, fire N
simultaneous gradio_client users at it and print latency percentiles (no assertions on times).

    .venv/bin/python benchmarks/bench_ui.py                      # the configured index (PAPERCHAT_INDEX_DIR)
    .venv/bin/python benchmarks/bench_ui.py --index-dir /path/to/index
    .venv/bin/python benchmarks/bench_ui.py --tmp-index          # embed the bundled corpus into a tmp index first
    .venv/bin/python benchmarks/bench_ui.py --url http://127.0.0.1:7860/   # an already running `paperchat ui`

Each user connects its own Client and asks one question through the /ask endpoint (the same
Assistant, queue and concurrency limit the chat uses). Latency is per request, measured from the
moment all users are released together, so it includes time spent waiting in Gradio's queue and,
unless --warm-clients, each fresh client's first-call set-up. Then (unless --page 0) the page itself
in Chromium: load to the input and examples shown, and Enter to the finished answer.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

QUESTIONS = [
    "which papers merge models without retraining?",
    "which papers make sampling from diffusion models faster?",
    "what work is there on click-through rate prediction?",
    "which papers study protein folding?",
    "where is the code for PLeaS?",
]


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20, help="simultaneous users (default 20)")
    parser.add_argument("--rounds", type=int, default=1, help="questions per user (default 1)")
    parser.add_argument("--index-dir", type=Path, help="index to serve (default: settings)")
    parser.add_argument("--tmp-index", action="store_true", help="build the bundled corpus into a tmp index")
    parser.add_argument("--url", help="benchmark a running UI instead of starting one")
    parser.add_argument("--page", type=int, default=3, metavar="N",
                        help="also time the page in Chromium N times: load to input shown, and question to "
                             "finished answer (0 to skip; default 3)")
    parser.add_argument("--warm-clients", action="store_true",
                        help="let each client make one request before the burst (excludes gradio_client's "
                             "first-call set-up, e.g. fetching the API info, from the latencies)")
    args = parser.parse_args(argv)

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from gradio_client import Client

    running = None
    tmp = None
    if args.url:
        url = args.url
    else:
        from assistant.settings import get_settings
        from ui.app import DEFAULT_CONCURRENCY, DEFAULT_QUEUE_SIZE, serve

        overrides = {}
        if args.tmp_index:
            tmp = tempfile.TemporaryDirectory(prefix="paperchat-bench-")
            overrides["index_dir"] = Path(tmp.name) / "index"
        elif args.index_dir:
            overrides["index_dir"] = args.index_dir
        settings = get_settings(**overrides)
        if args.tmp_index:
            from ingest.pipeline import ensure_index

            t = time.perf_counter()
            ensure_index(settings, progress=False)
            print(f"built tmp index in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        running = serve(settings, host="127.0.0.1")
        url = running.url
        print(f"server up at {url} in {time.perf_counter() - t:.1f} s (model + index load + warm-up); "
              f"concurrency limit {DEFAULT_CONCURRENCY}, queue size {DEFAULT_QUEUE_SIZE}")

    try:
        clients = [Client(url, verbose=False) for _ in range(args.users)]
        if args.warm_clients:
            for c in clients:
                c.predict(QUESTIONS[0], None, 0, "", "", api_name="/ask")
        jobs = [(i, QUESTIONS[(i + r) % len(QUESTIONS)]) for r in range(args.rounds) for i in range(args.users)]
        start = threading.Event()
        results: list[tuple[str, float, dict | None, str | None]] = []
        lock = threading.Lock()

        def user(i: int) -> None:
            start.wait()
            for _, q in [j for j in jobs if j[0] == i]:
                t = time.perf_counter()
                try:
                    r = clients[i].predict(q, None, 0, "", "", api_name="/ask")
                    err = r.get("error") if isinstance(r, dict) else "bad response"
                except Exception as exc:  # a failed request is a result too
                    r, err = None, f"{type(exc).__name__}: {exc}"
                with lock:
                    results.append((q, time.perf_counter() - t, r, err))

        with ThreadPoolExecutor(max_workers=args.users) as pool:
            futures = [pool.submit(user, i) for i in range(args.users)]
            t0 = time.perf_counter()
            start.set()
            for f in futures:
                f.result()
            wall = time.perf_counter() - t0
        page_times = time_page(url, args.page) if args.page > 0 else None
    finally:
        if running is not None:
            running.close()
        if tmp is not None:
            tmp.cleanup()

    lat = [r[1] for r in results if r[3] is None]
    failed = [r for r in results if r[3] is not None]
    print(f"requests: {len(results)} from {args.users} simultaneous users; answered {len(lat)}, failed {len(failed)}")
    if lat:
        print(f"latency s: p50 {percentile(lat, 50):.2f}  p95 {percentile(lat, 95):.2f}  "
              f"min {min(lat):.2f}  max {max(lat):.2f}  mean {statistics.mean(lat):.2f}")
        server = [r[2]["timings_ms"].get("total_ms", 0) / 1000 for r in results if r[3] is None and r[2].get("timings_ms")]
        if server:
            print(f"server-side answer time s (excl. queue): p50 {percentile(server, 50):.2f}  "
                  f"p95 {percentile(server, 95):.2f}")
    print(f"wall time {wall:.2f} s, throughput {len(results) / wall:.2f} answers/s")
    for q, _, _, err in failed[:5]:
        print(f"  failed: {q!r}: {err}")
    if page_times:
        for label, values in page_times.items():
            print(f"page in Chromium, {label} s: p50 {percentile(values, 50):.2f}  max {max(values):.2f}  "
                  f"(n={len(values)})")
    return 0 if not failed else 1


def time_page(url: str, n: int) -> dict[str, list[float]] | None:
    """Load the page N times in a fresh Chromium context at 1366x768: time to the input box being
    shown, and from Enter to the finished answer (rendered, sources listed)."""
    try:
        from playwright.sync_api import sync_playwright

        from ui.testing import launch_chromium
    except ImportError:
        print("page timing skipped: playwright is not installed")
        return None
    shown, answered = [], []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            for i in range(n):
                context = browser.new_context(viewport={"width": 1366, "height": 768})
                page = context.new_page()
                t = time.perf_counter()
                page.goto(url)
                page.wait_for_selector("#pc-question textarea", state="visible", timeout=60_000)
                page.wait_for_selector(".pc-examples .pc-chip", state="visible", timeout=60_000)
                shown.append(time.perf_counter() - t)
                box = page.locator("#pc-question textarea")
                box.fill(QUESTIONS[i % len(QUESTIONS)])
                t = time.perf_counter()
                box.press("Enter")
                page.wait_for_selector("#pc-transcript article.pc-bot[data-done]", timeout=120_000)
                answered.append(time.perf_counter() - t)
                context.close()
        finally:
            browser.close()
    return {"load to input and examples shown": shown, "Enter to finished answer": answered}


if __name__ == "__main__":
    sys.exit(main())
