"""Scale curve: prints numbers, asserts nothing (a shared 2-core machine; say so when quoting).

    python tests/benchmarks/bench_scale.py [--sizes 1000,10000] [--embed-papers 300] [--ray]
                                           [--json OUT] [--plot PNG] [--keep DIR]

Synthetic corpora are built from the bundled one: real sentences recombined into new abstracts
(4-8 sentences from different papers) with new titles (halves of two real titles) and dates spread
over 2019-2025. Per size it reports:
- ingest papers/s with real embedding (local, and with --ray on a two-node loopback Ray cluster of
  2 one-thread workers), measured on the first --embed-papers papers only: embedding all of them
  takes hours on 2 cores; the 2.5M-paper extrapolation is printed per worker count.
- serving, on an index in a `chroma run` server whose vectors are reused real sentence vectors (a
  sentence's own vector; a chunk's vector = the normalised mean of its sentences'), written through
  the real write path (Store.writer): search and ask p50/p95 over 30 questions, a replica's
  (`paperchat ui`) start time to healthy and its RSS, the Chroma server's RSS, and 30 searches
  with a one-month date window (time, and how many came back empty or with a paper outside it).
With --keep DIR the serving indexes stay in DIR and a later run reuses them (writing 100k papers
takes most of an hour on 2 shared cores); their serving data is rebuilt every run.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
QUESTIONS = [json.loads(line)["question"] for line in (REPO / "eval" / "questions.jsonl").open(encoding="utf-8")][:30]
ARXIV_PAPERS = 2_500_000


def source_material():
    """(titles, [(sentence, vector)]) of the bundled corpus; vectors computed once here."""
    from assistant.embedder import get_embedder
    from assistant.settings import get_settings
    from ingest.pipeline import load_papers
    from ingest.sentences import split_sentences

    settings = get_settings()
    papers, _ = load_papers(None, settings)
    titles = [p.title for p in papers]
    sentences = sorted({s for p in papers for s in split_sentences(p.abstract) if 30 <= len(s) <= 400})
    vectors = get_embedder(settings.embed_model, settings.embed_runtime).embed(sentences, batch_size=32, threads=2)
    return titles, dict(zip(sentences, np.asarray(vectors, dtype=np.float32)))


def synthetic(n: int, titles: list[str], sentences: list[str], seed: int = 7):
    """n new papers as dicts (title, abstract, arxiv_id, date), deterministic per seed."""
    rng = random.Random(seed)
    for i in range(n):
        a, b = rng.sample(titles, 2)
        wa, wb = a.split(), b.split()
        title = " ".join(wa[: max(1, len(wa) // 2)] + wb[len(wb) // 2:])
        abstract = " ".join(rng.sample(sentences, rng.randint(4, 8)))
        yield {"title": f"{title} ({i})", "abstract": abstract, "arxiv_id": f"{2900 + i // 100000}.{i % 100000:05d}",
               "date": f"{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}"}


def write_jsonl(path: Path, rows) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    return path


def ingest_rate(corpus: Path, index: Path, ray_address: str | None) -> dict:
    from assistant.settings import get_settings
    from ingest.pipeline import run_ingest

    settings = get_settings(index_dir=index, chroma_url=None)
    t = time.perf_counter()
    report = run_ingest([corpus], settings, progress=False, ray_address=ray_address)
    seconds = time.perf_counter() - t
    return {"papers": report.added, "seconds": round(seconds, 1), "papers_per_s": round(report.added / seconds, 2),
            "embed_s": report.timings.get("embed"), "write_s": report.timings.get("write")}


def build_served_index(n: int, titles, vectors: dict, url: str, index_dir: Path) -> float:
    """Write n synthetic papers with reused sentence vectors to the server, then build the serving
    data; returns (seconds writing, seconds building serving data)."""
    import shutil

    from assistant.settings import get_settings
    from assistant.store import Store

    settings = get_settings(chroma_url=url, index_dir=index_dir)
    built = index_dir / "written.json"  # a finished write (kept with --keep): reused, not redone
    shutil.rmtree(index_dir / "serving", ignore_errors=True)  # serving data: always rebuilt and timed
    if built.exists():
        written = json.loads(built.read_text())["seconds"]
    else:
        written = _write_all(n, titles, vectors, settings)
        index_dir.mkdir(parents=True, exist_ok=True)
        built.write_text(json.dumps({"papers": n, "seconds": written}))
    # What ingest publishes for serving processes (keyword index, paper metadata), as run_ingest does.
    from assistant import derived

    t = time.perf_counter()
    derived.build(Store.open(settings), settings)
    return written, time.perf_counter() - t


def _write_all(n: int, titles, vectors: dict, settings) -> float:
    from assistant.embedder import get_embedder
    from assistant.store import Store
    from ingest.chunking import make_chunks
    from ingest.papers import build_papers, content_hash
    from ingest.records import RawRecord

    tokenizer = get_embedder(settings.embed_model, settings.embed_runtime)
    sentences = list(vectors)
    writer = Store.writer(settings, model_dim=len(next(iter(vectors.values()))), rebuild=True)
    t = time.perf_counter()
    batch = []
    for row in synthetic(n, titles, sentences):
        batch.append(row)
        if len(batch) == 512:
            _write(batch, writer, vectors, tokenizer, settings, build_papers, content_hash, make_chunks, RawRecord)
            batch = []
    if batch:
        _write(batch, writer, vectors, tokenizer, settings, build_papers, content_hash, make_chunks, RawRecord)
    writer.commit()
    return time.perf_counter() - t


def _write(rows, writer, vectors, tokenizer, settings, build_papers, content_hash, make_chunks, RawRecord):
    from ingest.sentences import split_sentences

    records = [RawRecord(**{k: r[k] for k in ("title", "abstract", "arxiv_id", "date")}, source="bench")
               for r in rows]
    items = []
    for paper in build_papers(records, {}):
        sents = [s for s in split_sentences(paper.abstract)]
        svecs = np.asarray([vectors.get(s, vectors[next(iter(vectors))]) for s in sents], dtype=np.float32)
        chunks, _ = make_chunks(paper.paper_id, paper.title, sents, tokenizer.count_tokens, settings.max_chunk_tokens)
        cvecs = []
        for c in chunks:
            m = svecs[c.sentence_start:c.sentence_end].mean(axis=0)
            cvecs.append(m / max(float(np.linalg.norm(m)), 1e-9))
        items.append((paper, content_hash(paper, settings.embed_model, settings.max_chunk_tokens), chunks,
                      np.asarray(cvecs, dtype=np.float32), sents, svecs))
    writer.put_papers(items)


def pct(xs, p):
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(p * (len(xs) - 1)))], 1)


def serving(url: str, index_dir: Path, chroma_pid: int) -> dict:
    from deploy.procs import free_port, rss_mb, stop, wait_http
    from deploy.loadtest import ask_once

    env = {**os.environ, "PAPERCHAT_CHROMA_URL": url, "PAPERCHAT_INDEX_DIR": str(index_dir), "HF_HUB_OFFLINE": "1",
           "GRADIO_ANALYTICS_ENABLED": "False"}
    port = free_port()
    exe = Path(sys.executable).parent / "paperchat"
    t = time.perf_counter()
    proc = subprocess.Popen([str(exe), "ui", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    out: dict = {}
    try:
        out["replica_start_s"] = round(wait_http(f"http://127.0.0.1:{port}/gradio_api/info", 1800, proc), 1)
        base = f"http://127.0.0.1:{port}"
        ask_ms = []
        for q in QUESTIONS:
            t = time.perf_counter()
            ask_once(base, q, 120)
            ask_ms.append((time.perf_counter() - t) * 1000)
        out.update(ask_http_p50_ms=pct(ask_ms, 0.5), ask_http_p95_ms=pct(ask_ms, 0.95))
        out["replica_rss_mb"] = round(rss_mb(proc.pid))
    finally:
        stop(proc)
    # search / ask in-process (no HTTP): what the assistant itself costs
    # search / ask in-process (no HTTP): what the assistant itself costs. ask follows search of the
    # same question, so its papers' sentences are already read: "ask" is the cached path.
    # Then date windows (one month each, 2019-2025): every hit inside, none missing when the month has papers.
    code = ("import json,sys,time\nfrom assistant.core import Assistant\nfrom assistant.dates import date_number as d\n"
            "a=Assistant()\nqs=json.loads(sys.argv[1])\n"
            "a.ask(qs[0])\nr={}\nfor v in ('search','ask'):\n  ts=[]\n  for q in qs:\n"
            "    t=time.perf_counter(); getattr(a,v)(q); ts.append((time.perf_counter()-t)*1000)\n  r[v]=ts\n"
            "w=r['window']=[];bad=r['window_bad']=[]\n"
            "for i,q in enumerate(qs):\n  m=f'{2019+i%7}-{1+i%12:02d}'\n"
            "  t=time.perf_counter(); h=a.search(q,date_from=m,date_to=m); w.append((time.perf_counter()-t)*1000)\n"
            "  if not h or not all(d(m)<=d(x.date)<=d(m,end=True) for x in h): bad.append(m)\n"
            "print(json.dumps(r))")
    got = subprocess.run([sys.executable, "-c", code, json.dumps(QUESTIONS)], env=env, capture_output=True, text=True)
    if got.returncode == 0:
        r = json.loads(got.stdout.strip().splitlines()[-1])
        out.update(search_p50_ms=pct(r["search"], 0.5), search_p95_ms=pct(r["search"], 0.95),
                   ask_p50_ms=pct(r["ask"], 0.5), ask_p95_ms=pct(r["ask"], 0.95),
                   window_search_p50_ms=pct(r["window"], 0.5), window_search_p95_ms=pct(r["window"], 0.95),
                   window_questions=len(r["window"]), window_empty_or_outside=len(r["window_bad"]))
    else:
        out["assistant_error"] = got.stderr.strip().splitlines()[-1][:200] if got.stderr.strip() else "failed"
    out["chroma_rss_mb"] = round(rss_mb(chroma_pid))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="1000,10000")
    p.add_argument("--embed-papers", type=int, default=300,
                   help="papers really embedded per ingest measurement (0: skip the ingest measurement)")
    p.add_argument("--ray", action="store_true", help="also measure ingest on a 2-worker loopback Ray cluster")
    p.add_argument("--json", type=Path)
    p.add_argument("--plot", type=Path)
    p.add_argument("--keep", type=Path, help="keep the serving indexes here and reuse those already built")
    args = p.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from deploy.procs import start_chroma, stop

    sizes = [int(s) for s in args.sizes.split(",") if s]
    t = time.perf_counter()
    titles, vectors = source_material()
    print(f"source: {len(titles)} titles, {len(vectors)} sentences embedded in {time.perf_counter() - t:.0f} s",
          file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="paperchat-scale-"))
    results = {"machine": f"{os.cpu_count()} cores (shared with other jobs: noisy)", "sizes": {}}

    # ---- ingest with real embedding (a prefix of the synthetic corpus) -----------------------
    ingest: dict = {}
    if args.embed_papers > 0:
        corpus = write_jsonl(tmp / "embed.jsonl", synthetic(args.embed_papers, titles, list(vectors), seed=11))
        ingest["local"] = ingest_rate(corpus, tmp / "ingest-local", None)
        print(f"ingest local: {ingest['local']}", file=sys.stderr)
    if args.ray and args.embed_papers > 0:
        from ingest.ray_cli import start_local_cluster

        address, stop_ray = start_local_cluster(nodes=2, cpus_per_node=1)
        try:
            ingest["ray_2_workers"] = ingest_rate(corpus, tmp / "ingest-ray", address)
        finally:
            stop_ray()
        print(f"ingest ray: {ingest['ray_2_workers']}", file=sys.stderr)
    results["ingest"] = ingest
    rates = {"1 (local, this machine)": ingest["local"]["papers_per_s"]} if "local" in ingest else {}
    if "ray_2_workers" in ingest:
        per_worker = ingest["ray_2_workers"]["papers_per_s"] / 2
        rates.update({f"{w} Ray workers (1 CPU each)": per_worker * w for w in (2, 8, 32, 128)})
    results["extrapolated_2.5M_hours"] = {k: round(ARXIV_PAPERS / r / 3600, 1) for k, r in rates.items() if r}

    # ---- serving at each size ------------------------------------------------------------------
    where = args.keep or tmp
    for n in sizes:
        proc, url = start_chroma(where / f"chroma-{n}")
        try:
            write_s, derived_s = build_served_index(n, titles, vectors, url, where / f"index-{n}")
            row = {"index_write_s": round(write_s, 1), "serving_data_build_s": round(derived_s, 1),
                   **serving(url, where / f"index-{n}", proc.pid)}
        except Exception as exc:  # report what broke at this size and go on
            row = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        finally:
            stop(proc)
        results["sizes"][n] = row
        print(f"{n} papers: {row}", file=sys.stderr)
        if args.json:  # after every size: a long run stopped early still leaves its numbers
            args.json.write_text(json.dumps(results, indent=2))

    results["note"] = ("serving indexes use reused real sentence vectors (chunk = normalised mean of its "
                       "sentences'); ingest rates come from real embedding of the first "
                       f"{args.embed_papers} synthetic papers")
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if args.plot:
        plot(results, args.plot)
    return 0


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [int(n) for n, r in results["sizes"].items() if "error" not in r]
    rows = [results["sizes"][n] if n in results["sizes"] else results["sizes"][str(n)] for n in sizes]
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3.2), dpi=80)
    for key, label in (("search_p50_ms", "search p50"), ("ask_p50_ms", "ask p50"), ("ask_http_p50_ms", "ask via HTTP p50")):
        a.plot(sizes, [r.get(key) for r in rows], marker="o", label=label)
    a.set_xscale("log"), a.set_yscale("log"), a.set_xlabel("papers"), a.set_ylabel("ms"), a.legend(fontsize=7)
    for key, label in (("replica_rss_mb", "replica RSS"), ("chroma_rss_mb", "Chroma server RSS")):
        b.plot(sizes, [r.get(key) for r in rows], marker="o", label=label)
    b.set_xscale("log"), b.set_xlabel("papers"), b.set_ylabel("MB"), b.legend(fontsize=7)
    fig.suptitle("paperchat scale curve (2 shared cores)", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


if __name__ == "__main__":
    sys.exit(main())
