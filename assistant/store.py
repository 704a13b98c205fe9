"""The Chroma index: one collection of chunks (what retrieval searches) and one of sentences
(what answers quote). Ingest writes it, the assistant reads it; nobody else touches Chroma."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np

from .errors import IndexLocked, IndexMissing, ModelMismatch, PaperchatError
from .models import Chunk, Paper
from .settings import Settings

PAPER_FIELDS = ("title", "url", "arxiv_id", "arxiv_url", "code_url", "date", "source")


def _client(settings: Settings, create: bool):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.chroma_url)
        try:
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as exc:  # the client raises several unrelated types for "not there"
            raise PaperchatError(
                f"cannot reach the Chroma server at {settings.chroma_url}: start it with "
                f"`chroma run` or unset PAPERCHAT_CHROMA_URL ({type(exc).__name__})"
            ) from None
        return client
    path = Path(settings.index_dir)
    if not create and not (path / "chroma.sqlite3").exists():
        raise IndexMissing(f"no index at {path}: run `paperchat ingest` first")
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def collection_names(settings: Settings) -> tuple[str, str]:
    """(chunks, sentences) collection names of an index."""
    return settings.collection, f"{settings.collection}_sentences"


class Store:
    """Chunks and sentences of every paper, with the embedding model recorded on the collection."""

    def __init__(self, settings: Settings, *, create: bool = False, model_dim: int | None = None):
        self.settings = settings
        self.client = _client(settings, create)
        self.chunks_name, self.sentences_name = collection_names(settings)
        try:
            self.chunks = self._collection(self.chunks_name, create, model_dim)
            self.sentences = self._collection(self.sentences_name, create, model_dim)
        except sqlite3.OperationalError as exc:
            raise IndexLocked(f"the index at {settings.index_dir} is locked or unreadable ({exc})") from None

    @classmethod
    def open(cls, settings: Settings) -> "Store":
        return cls(settings, create=False)

    def _collection(self, name: str, create: bool, model_dim: int | None):
        meta = {"embedding_model": self.settings.embed_model, "dimension": model_dim or 0}
        if create:
            coll = self.client.get_or_create_collection(
                name, metadata=meta, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
            )
        else:
            try:
                coll = self.client.get_collection(name, embedding_function=None)
            except Exception:
                where = self.settings.chroma_url or self.settings.index_dir
                raise IndexMissing(f"no index at {where}: run `paperchat ingest` first") from None
        recorded = (coll.metadata or {}).get("embedding_model")
        if recorded and recorded != self.settings.embed_model:
            raise ModelMismatch(
                f"the index at {self.settings.index_dir} was built with {recorded}, not "
                f"{self.settings.embed_model}: run `paperchat ingest --rebuild`"
            )
        dim = (coll.metadata or {}).get("dimension")
        if model_dim and dim and dim != model_dim:
            raise ModelMismatch(
                f"the index has {dim}-dimensional vectors, the model makes {model_dim}: "
                "run `paperchat ingest --rebuild`"
            )
        return coll

    # ---- reading ---------------------------------------------------------------------------
    def count_papers(self) -> int:
        return len(self.paper_hashes())

    def paper_hashes(self) -> dict[str, str]:
        got = self.chunks.get(where={"chunk": 0}, include=["metadatas"])
        return {m["paper_id"]: m["content_hash"] for m in got["metadatas"]}

    def all_chunks(self) -> list[tuple[str, str, dict]]:
        """(chunk_id, text, metadata) for every chunk: feeds the keyword index."""
        got = self.chunks.get(include=["documents", "metadatas"])
        return list(zip(got["ids"], got["documents"], got["metadatas"]))

    def papers(self, paper_ids: list[str] | None = None) -> dict[str, Paper]:
        where = {"chunk": 0} if paper_ids is None else {"$and": [{"chunk": 0}, {"paper_id": {"$in": paper_ids}}]}
        metas = self.chunks.get(where=where, include=["metadatas"])["metadatas"]
        sentences = self.sentences_of([m["paper_id"] for m in metas])
        return {m["paper_id"]: self._paper(m, sentences.get(m["paper_id"], ([], None))[0]) for m in metas}

    @staticmethod
    def _paper(meta: dict, sentences: list[str]) -> Paper:
        return Paper(
            paper_id=meta["paper_id"],
            abstract=" ".join(sentences),
            authors=json.loads(meta.get("authors") or "[]"),
            **{k: (meta.get(k) or None) for k in PAPER_FIELDS if k != "source"},
            source=meta.get("source") or "",
        )

    def sentences_of(self, paper_ids: list[str], with_vectors: bool = False) -> dict[str, tuple[list[str], np.ndarray | None]]:
        """Each paper's abstract sentences in order, and their embeddings when asked for."""
        if not paper_ids:
            return {}
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        got = self.sentences.get(where={"paper_id": {"$in": list(paper_ids)}}, include=include)
        rows: dict[str, list] = {}
        vectors = got.get("embeddings") if with_vectors else None
        for i, (doc, meta) in enumerate(zip(got["documents"], got["metadatas"])):
            vec = vectors[i] if vectors is not None else None
            rows.setdefault(meta["paper_id"], []).append((meta["sentence"], doc, vec))
        out = {}
        for pid, items in rows.items():
            items.sort(key=lambda t: t[0])
            vecs = np.asarray([t[2] for t in items], dtype=np.float32) if with_vectors else None
            out[pid] = ([t[1] for t in items], vecs)
        return out

    # ---- writing (ingest only) -------------------------------------------------------------
    def put_paper(
        self,
        paper: Paper,
        content_hash: str,
        chunks: list[Chunk],
        chunk_vectors: np.ndarray,
        sentences: list[str],
        sentence_vectors: np.ndarray,
    ) -> None:
        """Replace one paper's chunks and sentences; old rows go first so no stale chunk survives."""
        self.put_papers([(paper, content_hash, chunks, chunk_vectors, sentences, sentence_vectors)])

    def put_papers(self, items: list[tuple[Paper, str, list[Chunk], np.ndarray, list[str], np.ndarray]]) -> None:
        """put_paper for many papers: one delete and a few large adds, because Chroma pays a
        fixed cost per call (three calls per paper made writing the corpus take ~4x longer).
        Sentences go in before chunks: a paper counts as indexed (paper_hashes) only once its
        chunk 0 exists, so an interrupted write is redone by the next ingest."""
        if not items:
            return
        self.delete_papers([item[0].paper_id for item in items])
        chunk_rows: list[tuple] = []
        sentence_rows: list[tuple] = []
        for paper, content_hash, chunks, chunk_vectors, sentences, sentence_vectors in items:
            if len(chunks) != len(chunk_vectors) or len(sentences) != len(sentence_vectors):
                raise ValueError(f"{paper.paper_id}: one vector per chunk and per sentence expected")
            base = {k: (getattr(paper, k) or "") for k in PAPER_FIELDS}
            base.update(paper_id=paper.paper_id, authors=json.dumps(paper.authors), content_hash=content_hash)
            for i, (c, vec) in enumerate(zip(chunks, np.asarray(chunk_vectors, dtype=np.float32))):
                meta = {**base, "chunk": i, "sentence_start": c.sentence_start, "sentence_end": c.sentence_end}
                chunk_rows.append((c.chunk_id, c.text, vec, meta))
            for i, (text, vec) in enumerate(zip(sentences, np.asarray(sentence_vectors, dtype=np.float32))):
                sentence_rows.append((f"{paper.paper_id}#s{i}", text, vec, {"paper_id": paper.paper_id, "sentence": i}))
        step = max(1, int(self.client.get_max_batch_size()))
        for collection, rows in ((self.sentences, sentence_rows), (self.chunks, chunk_rows)):
            for start in range(0, len(rows), step):
                batch = rows[start:start + step]
                collection.add(
                    ids=[r[0] for r in batch],
                    documents=[r[1] for r in batch],
                    embeddings=np.asarray([r[2] for r in batch], dtype=np.float32),
                    metadatas=[r[3] for r in batch],
                )

    def delete_papers(self, paper_ids: list[str]) -> None:
        if paper_ids:
            self.chunks.delete(where={"paper_id": {"$in": list(paper_ids)}})
            self.sentences.delete(where={"paper_id": {"$in": list(paper_ids)}})

    @classmethod
    def drop_index(cls, settings: Settings) -> None:
        """Delete both collections whatever model built them (the --rebuild path, which must be
        able to remove an index that Store() refuses to open)."""
        client = _client(settings, create=True)
        for name in collection_names(settings):
            try:
                client.delete_collection(name)
            except Exception:  # absent already: nothing to drop
                pass

    def vector_store(self):
        """The chunk collection as a llama-index vector store."""
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self.chunks)
