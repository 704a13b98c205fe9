"""Hybrid retrieval: dense (Chroma) and keyword (BM25) chunk lists fused by reciprocal rank, then
aggregated to papers.

The interface every caller uses (the Assistant, the eval):

    retrieve(query, query_vector, limit, date_from=None, date_to=None) -> list[PaperCandidate]

Date windows are applied inside both searches (a Chroma `where` on the chunks' numeric date, a
mask over the keyword index), so a window returns in-window papers whenever they exist rather than
whatever survives of an unfiltered top 40.

This used to be llama-index's QueryFusionRetriever over a BM25Retriever built from every chunk at
start-up; it is now ours so a query imports neither llama-index nor torch and starts in
milliseconds. Dense search on a small corpus is an exact dot product over the chunk vectors the
serving data keeps (0.02 ms for the bundled corpus against ~1 ms for a Chroma query of ids and
distances, ~5 ms with metadata); a large corpus queries Chroma's HNSW index."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .dates import date_number, window
from .derived import ServingData
from .settings import Settings
from .store import Store, row_version


def chunk_paper(chunk_id: str) -> tuple[str, str | None]:
    """(paper id, row version) from a chunk row id (assistant/store.py); version None for a head."""
    rest, _, _ = chunk_id.rpartition("#")
    pid, at, version = rest.rpartition("@")
    return (pid, version) if at else (rest, None)


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

    def _dense(self, query_vector: np.ndarray, k: int, dates: tuple[int, int] | None) -> list[tuple[str, float, str]]:
        """(chunk id, cosine similarity, paper id), best first, of the chunk versions the loaded
        serving data names. With the serving data's chunk vectors (a corpus up to
        settings.exact_dense_max_chunks), an exact search in memory. Else Chroma returns ids and
        distances only: the paper's metadata is in the serving data, and fetching chunk metadata
        was most of a query's time. A date window is
        searched inside Chroma without its `where`, whose cost grows with the collection."""
        vector = np.asarray(query_vector, dtype=np.float32)
        if self.data.vectors is not None:
            return self._exact(self.data.vectors, vector, k, dates)
        if dates is None:
            return self._current(self.store.query_chunks(vector, k, metadata=False))[:k]
        s, keyword = self.settings, self.data.keyword
        inside = keyword.positions_in(dates)  # the window's chunks, from the mapped date column
        if not len(inside):
            return []
        want = min(k, len(inside))
        share = len(inside) / max(len(keyword), 1)
        if share >= s.dense_window_min_share and want / share * 2 <= s.dense_window_max_k:
            # A wide window: the nearest chunks overall, kept to the window, hold enough of it.
            nearest = self.store.query_chunks(vector, int(want / share * 2), metadata=False)
            found = [c for c in self._current(nearest) if self._in_window(c[2], dates)]
            if len(found) >= want:
                return found[:k]
        if len(inside) <= s.dense_window_max_ids:
            ids = [keyword.chunk_ids[int(i)] for i in inside]
            return self._current(self.store.query_chunks(vector, want, ids=ids, metadata=False))[:k]
        where = {"$and": [{"date_num": {"$gte": dates[0]}}, {"date_num": {"$lte": dates[1]}}]}
        return self._current(self.store.query_chunks(vector, want, where=where, metadata=False))[:k]

    def _current(self, found: list[tuple[str, float, dict | None]]) -> list[tuple[str, float, str]]:
        """Rows of the versions the serving data names. While an ingest writes, rows of a paper's
        next version sit beside the current ones; a row id carries its version
        (`<paper>@<version>#<n>`), except a paper's head (`<paper>#0`), which is the version
        readers see."""
        out = []
        ids = [(cid, sim, *chunk_paper(cid)) for cid, sim, _ in found]
        metas = self.data.papers(pid for _, _, pid, _ in ids)  # one read, not one per row
        for cid, sim, pid, version in ids:
            meta = metas.get(pid)
            if meta is not None and (version is None or version == row_version(meta.get("content_hash") or "")):
                out.append((cid, sim, pid))
        return out

    def _in_window(self, pid: str, dates: tuple[int, int]) -> bool:
        return dates[0] <= date_number(self.paper_meta[pid].get("date")) <= dates[1]

    def _exact(self, vectors: np.ndarray, query_vector: np.ndarray, k: int,
               dates: tuple[int, int] | None) -> list[tuple[str, float, str]]:
        """Exact cosine search over the serving data's chunk vectors (unit length: a dot product).
        They are the loaded generation's rows by construction; the date window is a mask."""
        keyword = self.data.keyword
        # einsum, not `@`: numpy's BLAS starts threads for a large matrix-vector product, which
        # on a shared 2-core machine spin against other processes (0.5-10 ms measured at 5-20k
        # chunks under load); einsum stays on this thread (0.02 ms at 600 chunks, 1 ms at 20k).
        sims = np.einsum("ij,j->i", vectors, query_vector)
        if dates is not None:
            inside = (keyword.date_nums >= dates[0]) & (keyword.date_nums <= dates[1])
            sims = np.where(inside, sims, -np.inf)
            k = min(k, int(inside.sum()))
        k = min(k, len(sims))
        if k <= 0:
            return []
        top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(keyword.chunk_ids[i], float(sims[i]), keyword.paper_ids[i]) for i in top.tolist()]

    def retrieve(self, query: str, query_vector: np.ndarray | None = None, limit: int = 30,
                 date_from: str | None = None, date_to: str | None = None) -> list[PaperCandidate]:
        if query_vector is None:
            query_vector = self.embedder.embed_query(query, self.settings.query_threads)
        dates = window(date_from, date_to)
        n_chunks = len(self.data.keyword)
        dense = self._dense(query_vector, min(self.settings.dense_k, max(n_chunks, 1)), dates)
        keyword = self.data.keyword.search(query, self.settings.keyword_k, dates)

        # Reciprocal-rank fusion (Cormack et al. 2009): a chunk scores the sum of 1/(rank + k) over
        # the lists that found it, so a chunk both searches found beats one found by a single search
        # at the same rank. (The llama-index QueryFusionRetriever this replaced kept only the better
        # entry: it keyed the sum by a node hash that differed between the two lists.)
        rrf_k = float(self.settings.rrf_k)
        fused: dict[str, float] = {}
        chunk_paper: dict[str, str] = {}
        for hits in ([(cid, pid) for cid, _, pid in dense], [(cid, pid) for cid, pid, _ in keyword]):
            for rank, (cid, pid) in enumerate(hits):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (rank + rrf_k)
                chunk_paper[cid] = pid
        # Best first; ties keep first-seen order (dense before keyword): sorted() is stable.
        order = sorted(fused.items(), key=lambda item: item[1], reverse=True)

        dense_sim = {cid: sim for cid, sim, _ in dense}
        keyword_rank = {cid: rank for rank, (cid, _, _) in enumerate(keyword)}
        papers: dict[str, PaperCandidate] = {}
        self.data.papers(pid for pid in chunk_paper.values())  # read in one go (cached for the lookups below)
        for cid, score in order:
            pid = chunk_paper[cid]
            meta = self.paper_meta.get(pid)
            if meta is None:  # a paper newer than the loaded serving data: it joins at the reload
                continue
            cand = papers.get(pid)
            if cand is None:
                cand = papers[pid] = PaperCandidate(pid, meta)
            # A paper's second chunk adds a little: several matching passages beat one.
            cand.fused += score * (1.0 if not cand.chunk_ids else 0.3)
            cand.chunk_ids.append(cid)
            if cid in dense_sim:
                cand.dense = max(cand.dense, dense_sim[cid])
            if cid in keyword_rank:
                rank = keyword_rank[cid]
                cand.keyword_rank = rank if cand.keyword_rank is None else min(cand.keyword_rank, rank)
        ranked = sorted(papers.values(), key=lambda c: c.fused, reverse=True)
        return ranked[:limit]

    def as_llamaindex(self, limit: int = 10, date_from: str | None = None, date_to: str | None = None):
        """This retriever as a llama-index BaseRetriever (imports llama-index; nothing on the
        query path calls it). Nodes are papers: text = title, score = fused score."""
        from .llamaindex_adapter import PaperRetrieverAdapter

        return PaperRetrieverAdapter(self, limit=limit, date_from=date_from, date_to=date_to)
