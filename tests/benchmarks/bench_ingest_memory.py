"""Ingest peak memory against corpus size: prints numbers, asserts nothing (shared 2-core machine).

    python tests/benchmarks/bench_ingest_memory.py [--sizes 10000,50000,100000] [--before COMMIT]
                                                   [--store server|embedded] [--dim 384] [--json OUT]

Per size, a synthetic JSONL corpus (real sentences of the bundled corpus recombined into new
abstracts, new titles; every 20th paper repeated in a second file with a cut-off abstract, so
repeats are merged across files) is ingested by `run_ingest` in a fresh process into a new index,
and that process's peak RSS is read from the kernel (wait4). Then, in another fresh process, the
serving data (`derived.build`: keyword index, paper metadata) is built and its peak RSS read.

The embedding model is replaced by tests/fake_embedder.py's FakeEmbedder (deterministic vectors
from a hash of each text, token counts from words): embedding 100k papers for real takes hours on 2 cores, and the point is
the pipeline's memory, not the model's (~500 MB, loaded once, the same at any size). Everything
else is real: the parsers, the spool, chunking, the write path into a real Chroma. With the
default `--store server` the rows go to a `chroma run` server on loopback, so the ingest process
holds no vector index of its own (an embedded Chroma keeps its HNSW vector index in the writing
process's memory, which grows with the corpus whatever the pipeline does; `--store embedded`).

--before COMMIT runs the same measurement with the code of COMMIT (exported with `git archive` into
a temporary folder), e.g. the commit before streaming ingest, for a before/after table; --now COMMIT
measures that commit's code instead of the working tree (so editing it during a long run is safe).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Run in the measured child: the ingest with the fake embedder, serving data left for later.
INGEST = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import assistant.derived, ingest.pipeline
from assistant.settings import get_settings
from pathlib import Path

sys.path.insert(0, TESTS)
from fake_embedder import FakeEmbedder  # a FAKE model: hashed vectors

ingest.pipeline._load_embedder = lambda settings: FakeEmbedder(int(sys.argv[4]))
assistant.derived.build = lambda store, settings: None  # measured in its own process
settings = get_settings(index_dir=Path(sys.argv[2]), chroma_url=sys.argv[3] or None)
t = time.perf_counter()
r = ingest.pipeline.run_ingest([Path(p) for p in sys.argv[5:]], settings, progress=False)
print(json.dumps({"papers": r.papers, "added": r.added, "warnings": len(r.warnings), "code": ingest.pipeline.__file__,
                  "seconds": round(time.perf_counter() - t, 1)}))
"""

DERIVED = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from assistant import derived
from assistant.settings import get_settings
from assistant.store import Store
settings = get_settings(index_dir=Path(sys.argv[2]), chroma_url=sys.argv[3] or None)
t = time.perf_counter()
derived.build(Store.open(settings), settings)
print(json.dumps({"seconds": round(time.perf_counter() - t, 1)}))
"""


def run_child(code: str, args: list[str], env: dict) -> tuple[dict, float]:
    proc = subprocess.Popen([sys.executable, "-c", code, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    # wait4 reaps the child and returns its own peak RSS (KiB on Linux), not its parent's.
    out = proc.stdout.read().decode()
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"child failed ({proc.returncode}): {err[-2000:]}")
    return json.loads(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def corpus(n: int, folder: Path) -> list[Path]:
    from assistant.settings import get_settings
    from bench_scale import synthetic
    from ingest.pipeline import load_papers
    from ingest.sentences import split_sentences

    papers, _ = load_papers(None, get_settings())
    titles = [p.title for p in papers]
    sentences = sorted({s for p in papers for s in split_sentences(p.abstract) if 30 <= len(s) <= 400})
    main, repeats = folder / f"papers-{n}.jsonl", folder / f"papers-{n}-repeats.jsonl"
    with main.open("w", encoding="utf-8") as a, repeats.open("w", encoding="utf-8") as b:
        for i, row in enumerate(synthetic(n, titles, sentences)):
            a.write(json.dumps(row) + "\n")
            if i % 20 == 0:  # a repeat with a cut-off abstract: the merge must keep the full one
                b.write(json.dumps({**row, "abstract": row["abstract"][: len(row["abstract"]) // 2]}) + "\n")
    return [main, repeats]


def code_of(commit: str | None, tmp: Path) -> Path:
    if not commit:
        return REPO
    folder = tmp / f"code-{commit[:12]}"
    if not folder.exists():
        folder.mkdir()
        archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,50000,100000")
    ap.add_argument("--before", default="", help="also measure the code of this commit")
    ap.add_argument("--now", default="", help="measure this commit's code instead of the working tree")
    ap.add_argument("--store", choices=("server", "embedded"), default="server")
    ap.add_argument("--dim", type=int, default=384, help="FakeEmbedder's vector size (the real model's: 384)")
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    from deploy.procs import rss_mb, start_chroma, stop

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PAPERCHAT_PROGRESS": "0"}
    env.pop("PAPERCHAT_CHROMA_URL", None)
    rows = []
    print("embedding: FakeEmbedder (a FAKE model: hashed vectors), everything else real; "
          f"store: {'a `chroma run` server on loopback' if args.store == 'server' else 'embedded Chroma'}",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-mem-") as tmp:
        tmp = Path(tmp)
        for n in [int(s) for s in args.sizes.split(",") if s]:
            files = corpus(n, tmp)
            for label, commit in ([("before", args.before)] if args.before else []) + [("now", args.now)]:
                code = code_of(commit, tmp)
                index = tmp / f"index-{n}-{label}"
                server, url = (start_chroma(index / "chroma") if args.store == "server" else (None, ""))
                try:
                    got, ingest_mb = run_child(INGEST.replace("TESTS", repr(str(REPO / "tests"))), [str(code), str(index), url, str(args.dim), *map(str, files)], env)
                    built, derived_mb = run_child(DERIVED, [str(code), str(index), url], env)
                    server_mb = rss_mb(server.pid) if server else None
                finally:
                    if server:
                        stop(server)
                assert got["code"].startswith(str(code)), f"ran {got['code']}, not the code of {label}"
                row = {"papers": n, "code": label + (f" ({commit})" if commit else ""), "ingest_peak_mb": round(ingest_mb),
                       "ingest_s": got["seconds"], "distinct_papers": got["papers"],
                       "serving_data_peak_mb": round(derived_mb), "serving_data_s": built["seconds"],
                       "chroma_server_rss_mb": round(server_mb) if server_mb else None}
                rows.append(row)
                print(json.dumps(row), flush=True)
                import shutil

                shutil.rmtree(index, ignore_errors=True)
    report(rows, args.json, {
        "papers": lambda r: f"{r['papers']:,}", "code": lambda r: r["code"],
        "ingest peak RSS (FakeEmbedder)": lambda r: f"{r['ingest_peak_mb']} MB", "ingest time": lambda r: f"{r['ingest_s']} s",
        "serving-data build peak RSS": lambda r: f"{r['serving_data_peak_mb']} MB",
        "build time": lambda r: f"{r['serving_data_s']} s",
        "Chroma server RSS after": lambda r: f"{r['chroma_server_rss_mb'] or '-'} MB"})


def report(rows: list[dict], json_path: str, columns: dict) -> None:
    """The rows as a markdown table (header -> how a row shows in that column), and as JSON."""
    print("\n| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for r in rows:
        print("| " + " | ".join(show(r) for show in columns.values()) + " |")
    if json_path:
        Path(json_path).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
