"""Our hybrid retriever as a llama-index BaseRetriever, for code built on llama-index (query
engines, the optional LLM path). Imported only through HybridRetriever.as_llamaindex(): nothing on
the ask/search path loads llama-index."""
from __future__ import annotations

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode


class PaperRetrieverAdapter(BaseRetriever):
    """One node per paper, best first: text = the paper's title, metadata = its chunk-0
    metadata, score = the fused reciprocal-rank score. Date windows pass through."""

    def __init__(self, retriever, limit: int = 10, date_from: str | None = None, date_to: str | None = None):
        super().__init__()
        self._inner = retriever
        self._limit = limit
        self._dates = (date_from, date_to)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        import numpy as np

        vector = np.asarray(query_bundle.embedding, dtype=np.float32) if query_bundle.embedding else None
        found = self._inner.retrieve(query_bundle.query_str, vector, limit=self._limit,
                                     date_from=self._dates[0], date_to=self._dates[1])
        return [NodeWithScore(node=TextNode(id_=c.paper_id, text=c.meta.get("title", ""), metadata=dict(c.meta)),
                              score=c.fused) for c in found]
