"""Hybrid retrieval: dense (Chroma) and keyword (BM25) chunk lists fused by reciprocal rank, then
aggregated to papers.

The interface every caller uses (the Assistant, the eval):

    retrieve(query, query_vector, limit, date_from=None, date_to=None) -> list[PaperCandidate]

Date windows are applied inside both searches (a Chroma `where` on the chunks' numeric date, a
mask over the keyword index), so a window returns in-window papers whenever they exist rather than
whatever survives of an unfiltered top 40.

This used to be llama-index's QueryFusionRetriever over a BM25Retriever built from every chunk at
start-up; it is now ours so a query imports neither llama-index nor torch and starts in
milliseconds. The fusion reproduces llama-index's reciprocal-rank fusion as it behaved here
(see retrieve()), so the ranking is unchanged; tests/test_retrieve.py checks it against llama-index. `as_llamaindex()` wraps it back into a llama-index retriever for code
that wants one."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .dates import window
from .derived import ServingData
from .settings import Settings
from .store import Store

RRF_K = 60.0  # llama-index's (and the original paper's) reciprocal-rank constant


@dataclass
class PaperCandidate:
    paper_id: str
    meta: dict  # chunk metadata: title, url, code_url, date, ...
    fused: float = 0.0  # summed reciprocal-rank score of the paper's chunks
    dense: float = 0.0  # best cosine similarity of one of its chunks to the question
    keyword_rank: int | None = None
    chunk_ids: list[str] = field(default_factory=list)


class Retriever(Protocol):
    def retrieve(self, query: str, query_vector: np.ndarray, limit: int = 30,
                 date_from: str | None = None, date_to: str | None = None) -> list[PaperCandidate]: ...


class HybridRetriever:
    def __init__(self, store: Store, data: ServingData, settings: Settings, embedder=None):
        self.store = store
        self.data = data
        self.settings = settings
        self.embedder = embedder  # only for retrieve() calls that bring no query vector
        self.paper_meta = data.paper_meta
        # Indexes written before chunks carried a numeric date are filtered after retrieval.
        first = next(iter(self.paper_meta.values()), {})
        self.dates_in_store = "date_num" in first

    def _dense(self, query_vector: np.ndarray, k: int, dates: tuple[int, int] | None) -> list[tuple[str, float, dict]]:
        """(chunk id, cosine similarity, metadata), best first."""
        where = None
        if dates is not None and self.dates_in_store:
            where = {"$and": [{"date_num": {"$gte": dates[0]}}, {"date_num": {"$lte": dates[1]}}]}
        found = self.store.query_chunks(np.asarray(query_vector, dtype=np.float32), k, where=where)
        # While an ingest writes, rows of a paper's next version sit beside the current ones:
        # keep the version the loaded serving data names (the keyword index holds only that one).
        return [(cid, sim, meta) for cid, sim, meta in found
                if meta and meta.get("content_hash") == self.paper_meta.get(meta.get("paper_id"), {}).get("content_hash")]

    def retrieve(self, query: str, query_vector: np.ndarray | None = None, limit: int = 30,
                 date_from: str | None = None, date_to: str | None = None) -> list[PaperCandidate]:
        if query_vector is None:
            query_vector = self.embedder.embed_query(query)
        dates = window(date_from, date_to)
        n_chunks = len(self.data.keyword)
        dense = self._dense(query_vector, min(self.settings.dense_k, max(n_chunks, 1)), dates)
        keyword = self.data.keyword.search(query, self.settings.keyword_k, dates)

        # Reciprocal-rank fusion as llama-index's QueryFusionRetriever computed it for us: each list
        # entry scores 1/(rank + k), entries sorted by score (dense first on ties), and a chunk
        # found by both searches keeps its better entry instead of the sum (llama-index keyed the
        # sum by node hash, which differed between the two lists, then kept the first node per
        # id). Kept as it was so answers and eval numbers did not move with this rewrite; summing
        # is a ranking change to evaluate on its own.
        entries = [(cid, 1.0 / (rank + RRF_K)) for rank, (cid, _, _) in enumerate(dense)]
        entries += [(cid, 1.0 / (rank + RRF_K)) for rank, (cid, _, _) in enumerate(keyword)]
        entries.sort(key=lambda item: item[1], reverse=True)
        order: dict[str, float] = {}
        for cid, score in entries[: self.settings.dense_k + self.settings.keyword_k]:
            order.setdefault(cid, score)

        dense_by_id = {cid: (sim, meta) for cid, sim, meta in dense}
        chunk_paper = {cid: meta.get("paper_id") for cid, _, meta in dense}
        chunk_paper.update({cid: pid for cid, pid, _ in keyword})
        keyword_rank = {cid: rank for rank, (cid, _, _) in enumerate(keyword)}
        papers: dict[str, PaperCandidate] = {}
        for cid, score in order.items():
            pid = chunk_paper.get(cid)
            meta = self.paper_meta.get(pid)
            if meta is None:  # a paper newer than the loaded serving data: it joins at the reload
                continue
            cand = papers.get(pid)
            if cand is None:
                cand = papers[pid] = PaperCandidate(pid, meta)
            # A paper's second chunk adds a little: several matching passages beat one.
            cand.fused += score * (1.0 if not cand.chunk_ids else 0.3)
            cand.chunk_ids.append(cid)
            if cid in dense_by_id:
                cand.dense = max(cand.dense, dense_by_id[cid][0])
            if cid in keyword_rank:
                rank = keyword_rank[cid]
                cand.keyword_rank = rank if cand.keyword_rank is None else min(cand.keyword_rank, rank)
        ranked = sorted(papers.values(), key=lambda c: c.fused, reverse=True)
        if dates is not None and not self.dates_in_store:
            from .dates import date_number

            ranked = [c for c in ranked if dates[0] <= date_number(c.meta.get("date")) <= dates[1]]
        return ranked[:limit]

    def as_llamaindex(self, limit: int = 10, date_from: str | None = None, date_to: str | None = None):
        """This retriever as a llama-index BaseRetriever (imports llama-index; nothing on the
        query path calls it). Nodes are papers: text = title, score = fused score."""
        from .llamaindex_adapter import PaperRetrieverAdapter

        return PaperRetrieverAdapter(self, limit=limit, date_from=date_from, date_to=date_to)
