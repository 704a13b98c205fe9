"""The serving data built a few chunks at a time (assistant/serving_build.py) is the serving data
built in one piece: keyword search results and scores, paper metadata, sentences, word
frequencies and dates. Real Chroma and the real embedding model (the bundled corpus index);
the keyword index is also checked against bm25s indexing every chunk at once, as builds did before."""
from __future__ import annotations

import json

import numpy as np
import pytest

from assistant import papertable, sentencedata, serving_build, store as store_module
from assistant.keyword import TOKEN_PATTERN, KeywordIndex, MappedVocab, _stemmer, keyword_text
from assistant.store import Store
from assistant.vocabulary import CACHE, _document_frequencies

QUESTIONS = ["model merging without retraining", "speech recognition benchmark", "diffusion image generation",
             "graph neural networks for molecules", "the", "zorblax", "reinforcement learning from human feedback"]


@pytest.fixture(scope="module")
def builds(bundled_index, tmp_path_factory, monkeypatch_module):
    store = Store.open(bundled_index)
    out = {}
    for name, page_rows, entries in (("whole", 100_000, 100_000_000), ("paged", 37, 1000)):
        monkeypatch_module.setattr(store_module, "PAGE_ROWS", page_rows)
        folder = tmp_path_factory.mktemp(name)
        settings = bundled_index.model_copy(update={"keyword_build_entries": entries})
        out[name] = (folder, serving_build.write(store, settings, folder, previous=None))
        out[name + "_pages"] = [[(cid, meta["paper_id"]) for cid, _, meta in page] for page in store.chunk_pages()]
    return store, out


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_the_paged_build_really_pages(builds):
    _, out = builds
    pages = out["paged_pages"]
    assert len(out["whole_pages"]) == 1 and len(pages) > 5
    first_page = {}
    for i, page in enumerate(pages):
        for _, pid in page:
            first_page.setdefault(pid, i)
    split = {pid for i, page in enumerate(pages) for _, pid in page if first_page[pid] != i}
    assert split, "no paper's chunks fall in two pages: the per-paper merging is not exercised"


def test_keyword_search_is_the_one_piece_build_and_bm25s_own(builds):
    import bm25s

    store, out = builds
    whole, paged = (KeywordIndex.load(out[n][0] / "keyword") for n in ("whole", "paged"))
    rows = store.all_chunks()
    # As builds did before: bm25s tokenizing and indexing every chunk's text at once.
    reference = bm25s.BM25()
    reference.index(bm25s.tokenize([keyword_text(t, m) for _, t, m in rows], stopwords="en", stemmer=_stemmer(),
                                   token_pattern=TOKEN_PATTERN, show_progress=False), show_progress=False)
    assert list(paged.chunk_ids) == list(whole.chunk_ids) == [cid for cid, _, _ in rows]
    assert list(paged.paper_ids) == [m["paper_id"] for _, _, m in rows]
    assert np.array_equal(paged.date_nums, whole.date_nums)
    titles = [m["title"] for _, _, m in rows if m.get("chunk") == 0][:40]
    for q in QUESTIONS + titles:
        got = paged.search(q, k=30)
        assert got == whole.search(q, k=30), q
        tokens = bm25s.tokenize(q, stemmer=_stemmer(), token_pattern=TOKEN_PATTERN, show_progress=False)
        docs, scores = reference.retrieve(tokens, k=30, show_progress=False)
        expected = [(rows[int(d)][0], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]
        assert [(cid, score) for cid, _, score in got] == expected, q  # scores to the bit
    # Queries looked their words up in the memory-mapped sorted vocabulary: the ids bm25s saved.
    vocab = json.loads((out["paged"][0] / "keyword" / "vocab.index.json").read_text())
    assert isinstance(paged.bm25.vocab_dict, MappedVocab) and len(vocab) > 1000
    assert all(paged.bm25.vocab_dict[t] == i for t, i in vocab.items())
    assert "zorblax" not in paged.bm25.vocab_dict and "x" * 300 not in paged.bm25.vocab_dict
    window = (int(paged.date_nums[paged.date_nums > 0].min()), int(np.median(paged.date_nums[paged.date_nums > 0])))
    assert paged.search("learning", k=20, date_window=window) == whole.search("learning", k=20, date_window=window)


def test_papers_sentences_words_and_dates_are_those_of_the_one_piece_build(builds):
    store, out = builds
    (whole, whole_stats), (paged, paged_stats) = out["whole"], out["paged"]
    assert paged_stats == whole_stats and paged_stats["papers"] > 200 and paged_stats["dates"][0]
    tables = [dict(papertable.PaperTable(f, 0).items()) for f in (whole, paged)]
    assert tables[0] == tables[1]
    # As builds did before: chunk 0's metadata and the highest sentence end of the paper's chunks.
    rows = store.all_chunks()
    ends = {}
    for _, _, m in rows:
        ends[m["paper_id"]] = max(ends.get(m["paper_id"], 0), int(m.get("sentence_end") or 0))
    assert tables[1] == {m["paper_id"]: {**m, "n_sentences": ends[m["paper_id"]]} for _, _, m in rows if m["chunk"] == 0}
    pids = sorted(tables[0])
    sentences = [sentencedata.SentenceTable.open(f).read(pids) for f in (whole, paged)]
    assert sentences[0].keys() == sentences[1].keys() and len(sentences[0]) == len(pids)
    for pid in pids:
        (texts_a, vecs_a, terms_a), (texts_b, vecs_b, terms_b) = sentences[0][pid], sentences[1][pid]
        assert texts_a == texts_b and terms_a == terms_b and np.array_equal(vecs_a, vecs_b)
    words = [json.loads((f / CACHE).read_text()) for f in (whole, paged)]
    df, n, defined = _document_frequencies(store)  # counted over every chunk at once, as before
    from assistant.acronyms import tables
    assert words[0] == words[1] == {"papers": n, "df": df, "acronyms": list(tables(defined))}
    assert np.array_equal(np.load(whole / "vectors.npy"), np.load(paged / "vectors.npy"))
