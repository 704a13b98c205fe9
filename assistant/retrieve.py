"""Hybrid retrieval: dense (Chroma) and keyword (BM25) chunk lists fused by reciprocal rank,
then aggregated to papers. llama-index supplies the retrievers and the fusion; the paper-level
aggregation and the relevance score are ours."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from .embedder import Embedder
from .settings import Settings
from .store import Store


@dataclass
class PaperCandidate:
    paper_id: str
    meta: dict  # chunk metadata: title, url, code_url, date, ...
    fused: float = 0.0  # summed reciprocal-rank score of the paper's chunks
    dense: float = 0.0  # best cosine similarity of one of its chunks to the question
    keyword_rank: int | None = None
    chunk_ids: list[str] = field(default_factory=list)


def _embedding_adapter(embedder: Embedder):
    """llama-index wants an embed model object; ours is already loaded, so wrap it."""
    from llama_index.core.base.embeddings.base import BaseEmbedding

    class _Adapter(BaseEmbedding):
        def _get_query_embedding(self, query: str):
            return embedder.embed_query(query).tolist()

        async def _aget_query_embedding(self, query: str):
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str):
            return embedder.embed([text])[0].tolist()

    return _Adapter(model_name=embedder.name, embed_batch_size=64)


def _score_keeping(inner, sink: threading.local, key: str):
    """Fusion overwrites node scores with reciprocal-rank scores; keep the raw ones per thread."""
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore

    class _Keeper(BaseRetriever):
        def _retrieve(self, query_bundle):
            results = inner.retrieve(query_bundle)
            setattr(sink, key, {r.node.node_id: (i, r.score or 0.0) for i, r in enumerate(results)})
            return [NodeWithScore(node=r.node, score=r.score) for r in results]

    return _Keeper()


class HybridRetriever:
    def __init__(self, store: Store, embedder: Embedder, settings: Settings):
        from llama_index.core import VectorStoreIndex
        from llama_index.core.llms import MockLLM
        from llama_index.core.retrievers import QueryFusionRetriever
        from llama_index.core.schema import TextNode
        from llama_index.retrievers.bm25 import BM25Retriever

        self.settings = settings
        self.embedder = embedder
        self._raw = threading.local()
        rows = store.all_chunks()
        self.chunk_meta = {cid: meta for cid, _, meta in rows}
        self.chunk_texts = [text for _, text, _ in rows]
        self.paper_meta = {m["paper_id"]: m for m in self.chunk_meta.values() if m.get("chunk") == 0}
        index = VectorStoreIndex.from_vector_store(store.vector_store(), embed_model=_embedding_adapter(embedder))
        dense = index.as_retriever(similarity_top_k=min(settings.dense_k, max(len(rows), 1)))
        nodes = [TextNode(id_=cid, text=text, metadata=meta) for cid, text, meta in rows]
        keyword = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=min(settings.keyword_k, len(nodes)))
        self.fusion = QueryFusionRetriever(
            [_score_keeping(dense, self._raw, "dense"), _score_keeping(keyword, self._raw, "keyword")],
            llm=MockLLM(),
            mode="reciprocal_rerank",
            num_queries=1,  # no LLM rewrites the query: the question is searched as asked
            use_async=False,
            similarity_top_k=settings.dense_k + settings.keyword_k,
        )

    def retrieve(self, query: str, query_vector: np.ndarray | None = None, limit: int = 30) -> list[PaperCandidate]:
        from llama_index.core.schema import QueryBundle

        if query_vector is None:
            query_vector = self.embedder.embed_query(query)
        bundle = QueryBundle(query_str=query, embedding=query_vector.tolist())
        fused = self.fusion.retrieve(bundle)
        dense_raw = getattr(self._raw, "dense", {})
        keyword_raw = getattr(self._raw, "keyword", {})
        papers: dict[str, PaperCandidate] = {}
        for node in fused:
            cid = node.node.node_id
            meta = self.chunk_meta.get(cid) or node.node.metadata
            pid = meta["paper_id"]
            cand = papers.get(pid)
            if cand is None:
                cand = papers[pid] = PaperCandidate(pid, self.paper_meta.get(pid, meta))
            # A paper's second chunk adds a little: several matching passages beat one.
            cand.fused += (node.score or 0.0) * (1.0 if not cand.chunk_ids else 0.3)
            cand.chunk_ids.append(cid)
            if cid in dense_raw:
                # Chroma reports exp(-cosine distance); turn it back into a cosine similarity.
                cand.dense = max(cand.dense, 1.0 + float(np.log(max(dense_raw[cid][1], 1e-9))))
            if cid in keyword_raw:
                rank = keyword_raw[cid][0]
                cand.keyword_rank = rank if cand.keyword_rank is None else min(cand.keyword_rank, rank)
        ranked = sorted(papers.values(), key=lambda c: c.fused, reverse=True)
        return ranked[:limit]
