"""Baselines run in the same eval, each returning papers ranked for a question:

- bm25:    llama-index BM25Retriever alone over our chunks, aggregated to papers;
- dense:   the Chroma chunk collection alone (same embedding model), aggregated to papers;
- starter: what the LlamaIndex starter tutorial builds — Documents of title+abstract, default
           SentenceSplitter chunking, a VectorStoreIndex over a fresh Chroma collection in a temp
           folder, HuggingFaceEmbedding of the same model, top 10 nodes. With no LLM, its "answer"
           cites the papers its retriever returned (it never refuses).

A paper's rank is the rank of its best chunk."""
from __future__ import annotations

import shutil
import tempfile
import time
from typing import Callable

CHUNKS_PER_QUERY = 60  # chunks fetched so that 10 distinct papers remain after aggregation


def aggregate(node_paper_ids: list[str], k: int) -> list[str]:
    return list(dict.fromkeys(node_paper_ids))[:k]


def hf_embedding(settings):
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    from assistant.embedder import model_path

    return HuggingFaceEmbedding(model_name=str(model_path(settings.embed_model)), device="cpu",
                                embed_batch_size=32)


class Baselines:
    """Builds each baseline once; `rank(name, question, k)` returns paper ids."""

    def __init__(self, assistant, names: tuple[str, ...] = ("bm25", "dense", "starter")):
        self.assistant = assistant
        self.names = names
        self.build_seconds: dict[str, float] = {}
        self._tmp: str | None = None
        self._embed = None
        self._rankers: dict[str, Callable[[str, int], list[str]]] = {}
        rows = assistant.store.all_chunks()
        for name in names:
            started = time.perf_counter()
            self._rankers[name] = getattr(self, f"_build_{name}")(rows)
            self.build_seconds[name] = round(time.perf_counter() - started, 2)

    def rank(self, name: str, question: str, k: int = 10) -> list[str]:
        return self._rankers[name](question, k)

    def _embedding(self):
        if self._embed is None:
            self._embed = hf_embedding(self.assistant.settings)
        return self._embed

    # ---- (a) BM25 alone -------------------------------------------------------------------
    def _build_bm25(self, rows):
        from llama_index.core.schema import TextNode
        from llama_index.retrievers.bm25 import BM25Retriever

        nodes = [TextNode(id_=cid, text=text, metadata=meta) for cid, text, meta in rows]
        retriever = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=min(CHUNKS_PER_QUERY, len(nodes)))

        def rank(question: str, k: int) -> list[str]:
            return aggregate([n.node.metadata["paper_id"] for n in retriever.retrieve(question)], k)

        return rank

    # ---- (b) dense alone ------------------------------------------------------------------
    def _build_dense(self, rows):
        from llama_index.core import VectorStoreIndex

        index = VectorStoreIndex.from_vector_store(self.assistant.store.vector_store(), embed_model=self._embedding())
        retriever = index.as_retriever(similarity_top_k=min(CHUNKS_PER_QUERY, len(rows)))
        meta = {cid: m for cid, _, m in rows}

        def rank(question: str, k: int) -> list[str]:
            found = retriever.retrieve(question)
            return aggregate([(meta.get(n.node.node_id) or n.node.metadata)["paper_id"] for n in found], k)

        return rank

    # ---- (c) the LlamaIndex starter pipeline ---------------------------------------------
    def _build_starter(self, rows):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from llama_index.core import Document, StorageContext, VectorStoreIndex
        from llama_index.vector_stores.chroma import ChromaVectorStore

        papers = self.assistant.store.papers()
        docs = [
            Document(
                text=f"{p.title}\n\n{p.abstract}",
                metadata={"paper_id": pid},
                # The id is bookkeeping, not content: keep it out of what gets embedded.
                excluded_embed_metadata_keys=["paper_id"],
                excluded_llm_metadata_keys=["paper_id"],
            )
            for pid, p in sorted(papers.items())
        ]
        self._tmp = tempfile.mkdtemp(prefix="paperchat-starter-")
        client = chromadb.PersistentClient(path=self._tmp, settings=ChromaSettings(anonymized_telemetry=False))
        collection = client.get_or_create_collection("starter")
        storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
        # Default transformations: SentenceSplitter() with its default chunk size and overlap.
        index = VectorStoreIndex.from_documents(docs, storage_context=storage, embed_model=self._embedding())
        retriever = index.as_retriever(similarity_top_k=10)
        self.starter_chunks = collection.count()

        def rank(question: str, k: int) -> list[str]:
            return aggregate([n.node.metadata["paper_id"] for n in retriever.retrieve(question)], k)

        return rank

    def close(self) -> None:
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
