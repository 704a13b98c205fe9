"""Our retriever on the real bundled index: it ranks exactly as the llama-index pipeline it
replaced, applies date windows inside retrieval, loads what ingest persisted, picks up a new
ingest without a restart, and keeps torch, gradio and llama-index off the query path."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from assistant import derived
from assistant.dates import date_number
from assistant.embedder import get_embedder
from assistant.retrieve import HybridRetriever
from assistant.settings import REPO_ROOT
from assistant.store import Store

QUESTIONS = [json.loads(line)["question"] for line in (REPO_ROOT / "eval" / "questions.jsonl").open()][:40]


@pytest.fixture(scope="module")
def parts(bundled_index):
    store = Store.open(bundled_index)
    embedder = get_embedder(bundled_index.embed_model, bundled_index.embed_runtime)
    return bundled_index, store, embedder, HybridRetriever(store, derived.load(store, bundled_index), bundled_index)


def test_dense_search_finds_the_nearest_chunks_chroma_finds(parts):
    """The exact search over the serving data's vectors returns Chroma's own similarities for the
    same chunks, and no chunk Chroma's (approximate) index returns beats its k-th."""
    settings, store, embedder, ours = parts
    assert ours.data.vectors is not None and len(ours.data.vectors) == len(ours.data.keyword)
    for question in QUESTIONS[:20]:
        vector = embedder.embed_query(question)
        exact = {cid: sim for cid, sim, _ in ours._dense(vector, 20, None)}
        chroma = {cid: sim for cid, sim, _ in store.query_chunks(vector, 20)}
        assert len(set(exact) & set(chroma)) >= 18, question
        for cid, sim in chroma.items():
            if cid in exact:
                assert abs(exact[cid] - sim) < 1e-5, (question, cid)
            else:
                assert sim <= min(exact.values()) + 1e-6, (question, cid)


def _toy_retriever(texts: dict[str, str], vectors: dict[str, list[float]]) -> HybridRetriever:
    """Real bm25s and exact dense search over a three-paper corpus (no store needed)."""
    import numpy as np

    from assistant.keyword import KeywordIndex
    from assistant.settings import Settings

    rows = [(f"{pid}#0", f"Title {pid}\n{text}", {"paper_id": pid, "authors": "[]"}) for pid, text in texts.items()]
    keyword = KeywordIndex.build(rows, np.zeros(len(rows), dtype=np.int32))
    matrix = np.asarray([vectors[pid] for pid in texts], dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    data = derived.ServingData(generation="t", keyword=keyword, paper_meta={p: {"title": p} for p in texts},
                               folder=None, vectors=matrix)
    return HybridRetriever(None, data, Settings(_env_file=None))


def test_a_chunk_both_searches_find_sums_its_reciprocal_ranks():
    # dense: b (0.99) > a (0.9) > c; keyword ("zebra"): a only. Alone, b's first dense place and
    # a's first keyword place score the same 1/60; a, found by both, also adds 1/61 and leads.
    ours = _toy_retriever(
        {"a": "zebra stripes measured in the wild", "b": "horses grazing in a field", "c": "cats indoors"},
        {"a": [0.9, 0.435, 0.0], "b": [0.99, 0.141, 0.0], "c": [0.0, 0.0, 1.0]})
    got = ours.retrieve("zebra", [1.0, 0.0, 0.0], limit=3)
    assert [c.paper_id for c in got] == ["a", "b", "c"]
    assert got[0].fused == pytest.approx(1 / 60 + 1 / 61) and got[0].keyword_rank == 0
    assert got[1].fused == pytest.approx(1 / 60)


def test_keyword_ranking_does_not_depend_on_paths_hashes_or_urls(parts):
    """Metadata is not keyword text: the corpus' folder, a content hash or a URL host matches
    nothing, and moving the corpus elsewhere leaves every keyword ranking as it was."""
    import numpy as np

    from assistant.keyword import KeywordIndex

    settings, store, _, ours = parts
    rows = store.all_chunks()
    cid, _, meta = rows[0]
    source_file = meta["source"].rsplit("/", 1)[-1].rsplit(".", 1)[0]  # e.g. 000_5679ef6d27212b72
    for probe in (meta["content_hash"], "huggingface", "arxiv abs", source_file, "sentence_start"):
        hits = ours.data.keyword.search(probe, 5)
        assert hits == [], (probe, hits)
    moved = [(c, text, {**m, "source": "/elsewhere/another/checkout/papers.jsonl", "url": "https://example.org/x"})
             for c, text, m in rows]
    dates = np.zeros(len(rows), dtype=np.int32)
    here, there = KeywordIndex.build(rows, dates), KeywordIndex.build(moved, dates)
    for question in QUESTIONS[:20]:
        assert here.search(question, 20) == there.search(question, 20), question


def test_llamaindex_adapter_returns_the_same_papers(parts):
    settings, store, embedder, ours = parts
    ours.embedder = embedder
    question = "which papers merge models without retraining?"
    nodes = ours.as_llamaindex(limit=10).retrieve(question)
    assert [n.node.node_id for n in nodes] == [c.paper_id for c in ours.retrieve(question, limit=10)]
    assert nodes[0].node.text == ours.paper_meta[nodes[0].node.node_id]["title"]


def test_date_window_returns_in_window_papers_even_when_the_top_hits_are_outside(parts):
    settings, store, embedder, ours = parts
    question = "which papers merge models without retraining?"
    vector = embedder.embed_query(question)
    unfiltered = ours.retrieve(question, vector, limit=200)
    top_dates = {c.meta.get("date", "")[:7] for c in unfiltered[:15]}
    months = sorted({m.get("date", "")[:7] for m in ours.paper_meta.values() if m.get("date")})
    month = next(m for m in months if m not in top_dates)  # a month none of the best hits is from
    in_window = {pid for pid, m in ours.paper_meta.items() if (m.get("date") or "").startswith(month)}
    got = ours.retrieve(question, vector, limit=200, date_from=month, date_to=month)
    assert got, f"no paper returned for {month} though {len(in_window)} exist"
    assert {c.paper_id for c in got} <= in_window
    if len(in_window) <= 10:  # a small window: every paper in it is a candidate
        assert {c.paper_id for c in got} == in_window
    assert all(date_number(month) <= date_number(c.meta["date"]) <= date_number(month, end=True) for c in got)


def test_serving_data_is_loaded_not_rebuilt(parts, monkeypatch):
    settings, store, _, _ = parts
    calls = []
    monkeypatch.setattr(Store, "all_chunks", lambda self, *a, **k: calls.append(1) or [])
    data = derived.load(store, settings)
    assert calls == [] and len(data.keyword) > len(data.paper_meta) > 200
    from assistant.vocabulary import load_vocabulary
    assert "merg" in load_vocabulary(store, data).stems and calls == []  # word frequencies published too


def test_serving_sentences_are_exactly_the_stores(parts):
    """Answers read every paper's sentences and sentence vectors from the serving data (memory-mapped),
    not from Chroma: the same texts in the same order and the same float32 vectors, bit for bit."""
    import numpy as np

    from assistant.evidence import sentence_terms

    settings, store, _, _ = parts
    data = derived.load(store, settings)
    pids = sorted(data.paper_meta)
    ours, chroma = data.sentences_of(pids), store.sentences_of(pids, with_vectors=True)
    assert set(ours) == set(chroma) == set(pids)
    for pid in pids:
        assert ours[pid][0] == chroma[pid][0] and ours[pid][1].dtype == np.float32
        assert np.array_equal(ours[pid][1], chroma[pid][1]), pid
        assert ours[pid][2] == [sentence_terms(s) for s in chroma[pid][0]], pid  # the words an answer compares


def test_stored_sentence_terms_made_by_other_code_are_not_used(parts, monkeypatch):
    """Terms stored by a paperchat whose word splitting differs would answer differently: they are
    ignored (computed per question), the sentences and vectors still served."""
    from assistant import sentencedata

    settings, store, _, _ = parts
    folder, pids = derived.load(store, settings).folder, sorted(store.paper_hashes())[:5]
    assert all(v[2] is not None for v in sentencedata.SentenceTable.open(folder).read(pids).values())
    monkeypatch.setattr(sentencedata, "terms_key", lambda: "other code")
    got = sentencedata.SentenceTable.open(folder).read(pids)
    assert set(got) == set(pids) and all(v[2] is None and len(v[0]) == len(v[1]) for v in got.values())


def test_a_new_ingest_is_picked_up_without_restart(bundled_index, tmp_path, monkeypatch):
    import numpy as np

    from assistant.core import Assistant
    from ingest.pipeline import run_ingest

    settings = bundled_index.model_copy(update={"index_dir": tmp_path / "index", "reload_check_s": 0.0})
    shutil.copytree(bundled_index.index_dir, settings.index_dir)
    shutil.rmtree(settings.index_dir / "serving")  # built for the copy's own path (carried over only there)
    assistant = Assistant(settings)
    question = "which papers teach quadruped robots to herd sheep with origami grippers?"
    assert all("Origami" not in h.title for h in assistant.search(question))
    new = tmp_path / "new.jsonl"
    new.write_text(json.dumps({
        "arxiv_id": "2501.00001", "title": "Origami Grippers for Quadruped Robots Herding Sheep",
        "abstract": "We teach quadruped robots to herd sheep using origami grippers. Our robots herd "
                    "sheep in the field with foldable origami grippers mounted on their backs.",
        "date": "2025-01-02"}) + "\n")
    with monkeypatch.context() as m:  # the new generation reads only the new paper's sentences from Chroma
        reads, real = [], Store.sentences_of
        m.setattr(Store, "sentences_of", lambda self, ids, **k: reads.append(list(ids)) or real(self, ids, **k))
        run_ingest([new], settings, progress=False)
    assert [pid for r in reads for pid in r] == ["2501.00001"]
    # Same process, no restart; the sentences of the new generation come from its serving data
    # (the other papers' rows carried over from the previous one), never from Chroma.
    store_read = assistant.store.sentences_of
    monkeypatch.setattr(assistant.store, "sentences_of", lambda *a, **k: pytest.fail("sentences read from Chroma"))
    hits = assistant.search(question)
    assert hits[0].title.startswith("Origami Grippers") and assistant.paper_count == len(assistant.paper_meta)
    assert "“We teach quadruped robots to herd sheep using origami grippers.”" in assistant.ask(question).answer
    pids = sorted(assistant.paper_meta)
    ours, chroma = assistant.serving.sentences_of(pids), store_read(pids, with_vectors=True)
    assert set(ours) == set(chroma) == set(pids) and "2501.00001" in ours
    assert all(ours[p][0] == chroma[p][0] and np.array_equal(ours[p][1], chroma[p][1]) for p in pids)


def test_ask_and_search_import_neither_torch_gradio_nor_llamaindex(bundled_index):
    code = (
        "import sys; from ui.cli import main\n"
        "assert main(['search', 'model merging']) == 0\n"
        "assert main(['ask', 'which papers merge models without retraining?']) == 0\n"
        "print(json.dumps(sorted(m for m in ('torch', 'gradio', 'llama_index', 'transformers', "
        "'sentence_transformers') if m in sys.modules)))"
    )
    env = {**os.environ, "PAPERCHAT_INDEX_DIR": str(bundled_index.index_dir), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", "import json\n" + code], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_an_index_built_by_the_other_runtime_is_refused_with_the_fix(bundled_index, monkeypatch, capsys):
    from ui.cli import main

    monkeypatch.setenv("PAPERCHAT_INDEX_DIR", str(bundled_index.index_dir))
    monkeypatch.setenv("PAPERCHAT_EMBED_RUNTIME", "torch")
    assert main(["search", "model merging"]) == 2
    err = capsys.readouterr().err
    assert "onnx runtime, not torch" in err and "paperchat ingest --rebuild" in err and err.count("\n") == 1


def test_every_date_window_search_path_returns_the_same_papers(parts):
    """A date window's dense search goes one of three ways by the window's share of the corpus
    (over-fetch and keep the window, list its chunk ids, Chroma's `where`): all agree. (Chroma's
    paths: without the chunk vectors a corpus above exact_dense_max_chunks has no exact search.)"""
    from dataclasses import replace

    settings, store, embedder, _ = parts
    data = replace(derived.load(store, settings), vectors=None)
    question = "which papers merge models without retraining?"
    vector = embedder.embed_query(question)
    paths = {"over-fetch": dict(dense_window_min_share=0.001, dense_window_max_k=100000),
             "chunk ids": dict(dense_window_min_share=1.0, dense_window_max_ids=1000000),
             "where": dict(dense_window_min_share=1.0, dense_window_max_ids=0)}
    for date_from, date_to in (("2023-01", "2025-12"), ("2024-03", "2024-04")):
        got = {}
        for name, knobs in paths.items():
            retriever = HybridRetriever(store, data, settings.model_copy(update=knobs))
            got[name] = [c.paper_id for c in retriever.retrieve(question, vector, limit=30,
                                                                   date_from=date_from, date_to=date_to)]
        assert got["over-fetch"], f"nothing found in {date_from}..{date_to}"
        assert got["over-fetch"] == got["chunk ids"] == got["where"], (date_from, date_to, got)


def test_sentences_read_by_id_equal_the_careful_read(parts):
    settings, store, _, _ = parts
    data = derived.load(store, settings)
    pids = sorted(data.paper_meta)[:25]
    careful = store.sentences_of(pids, with_vectors=True)
    known = data.sentence_rows(pids)
    assert set(known) == set(pids)
    known[pids[0]] = ("0" * 32, known[pids[0]][1])  # a version that is gone: read through its head
    fast = store.sentences_of(pids, with_vectors=True, known=known)
    assert list(careful) and set(fast) == set(careful)
    for pid in careful:
        assert fast[pid][0] == careful[pid][0] and (fast[pid][1] == careful[pid][1]).all()


def test_whole_collection_reads_are_paged(parts, monkeypatch):
    """A Chroma server refuses an unpaged get of more than ~32k rows (100k papers): whole-collection
    reads go page by page and return the same rows as one read."""
    import assistant.store as store_module

    settings, store, _, _ = parts
    whole, hashes = store.all_chunks(), store.paper_hashes()
    monkeypatch.setattr(store_module, "PAGE_ROWS", 7)
    assert store.all_chunks() == whole and store.paper_hashes() == hashes and len(whole) > 70
    assert store.has_papers()
