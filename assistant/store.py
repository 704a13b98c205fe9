"""The Chroma index: one collection of chunks (what retrieval searches) and one of sentences
(what answers quote). Ingest writes it, the assistant reads it; nobody else touches Chroma.

How a write can never lose what was there (issue 9):
- A small manifest (the metadata of the `<collection>.manifest` collection) names the active
  chunk and sentence collections and a generation number that changes whenever an ingest changed
  the index; `clean` is False while an update ingest is writing.
- A paper is in the index iff its head row exists: chunk 0, stored under the stable id
  `<paper_id>#0`. The head's `content_hash` names the version readers see. Every other row
  (chunks `<paper_id>@<hash>#<n>`, sentences `<paper_id>@<hash>#s<i>`) carries its version's
  hash; rows of any other version are invisible to readers.
- An update adds the new version's rows, then upserts the head (one row: the switch), and only
  then deletes the old version's rows. A kill at any moment leaves each paper at its old or its
  new version, never neither; the next ingest sweeps the leftovers (manifest not `clean`).
- `--rebuild` and a first ingest build new collections aside and switch the manifest to them
  only when they are complete.
An index written before the manifest existed (collections `<collection>` and
`<collection>_sentences`) reads as generation 0; the next ingest adds a manifest in place.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from typing import Iterator

import numpy as np
from pydantic import BaseModel

from .dates import date_number
from .errors import IndexDamaged, IndexLocked, IndexMissing, ModelMismatch, PaperchatError
from .models import Chunk, Paper
from .settings import Settings

PAPER_FIELDS = ("title", "url", "arxiv_id", "arxiv_url", "code_url", "date", "source")
# Chunk metadata kept for filtering inside Chroma, not shown or indexed as text: the date as a
# YYYYMMDD int (0 = unknown), so a date window is a `where` range (assistant/dates.py).
STORAGE_FIELDS = ("date_num",)
HASH_LEN = 12  # of content_hash in row ids: enough to tell a paper's versions apart
READ_RETRIES = 4  # a read that races an ingest's switch is retried this often
# Rows per page when reading a whole collection: a Chroma server fails an unpaged get of more
# than ~32k rows ("too many SQL variables", from 100k papers on); bigger pages, fewer round trips.
PAGE_ROWS = 5000
SENTENCE_READ_ROWS = 4000  # rows per read by id: one request, not one the size of the corpus


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
    if create:
        path.mkdir(parents=True, exist_ok=True)
    elif _read_only(path):
        path = _private_copy(path)
    try:
        return _own_system_client(path, chroma_settings)
    except Exception as exc:
        raise _unreadable(settings, exc) from None


_SYSTEMS_LOCK = threading.Lock()


def _own_system_client(path: Path, chroma_settings):
    """A PersistentClient on a Chroma System of its own. Chroma shares one System per path in a
    process, and that System's vectors do not follow writes made by other processes: after
    another process ingests, reading new rows' embeddings fails ("Error finding id") and vector
    queries return deleted rows, until the System is replaced. A store that sees a new
    generation therefore opens a new System (same files, another spelling of the path: "dir/.")."""
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient

    with _SYSTEMS_LOCK:
        live = getattr(SharedSystemClient, "_identifier_to_system", {})
        k = 1
        while f"{path}{'/.' * k}" in live:
            k += 1
        return chromadb.PersistentClient(path=f"{path}{'/.' * k}", settings=chroma_settings)


def _close(client) -> None:
    try:
        client.close()
    except Exception:  # already closed, or a client without close(): nothing to release
        pass


# A read-only index larger than this is not copied (see _private_copy).
MAX_PRIVATE_COPY_BYTES = 2 << 30


def _read_only(path: Path) -> bool:
    import os

    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY) or not os.access(path / "chroma.sqlite3", os.W_OK) \
            or not os.access(path, os.W_OK)
    except OSError:
        return False


def _private_copy(path: Path) -> Path:
    """Chroma writes a row into chroma.sqlite3 whenever a client opens it, so it cannot open an
    index on a read-only mount. Readers there get a private copy of the SQLite file (the vector
    segment folders are linked, not copied, and only read), removed when the process exits."""
    import atexit
    import shutil
    import tempfile

    files = [f for f in path.iterdir() if f.name.startswith("chroma.sqlite3")]
    size = sum(f.stat().st_size for f in files)
    if size > MAX_PRIVATE_COPY_BYTES:
        raise IndexLocked(f"the index at {path} is read-only and too large ({size >> 20} MB) to read through a "
                          "private copy: make it writable, or serve it with `chroma run` (PAPERCHAT_CHROMA_URL)")
    copy = Path(tempfile.mkdtemp(prefix="paperchat-readonly-"))
    atexit.register(shutil.rmtree, copy, True)
    for f in files:
        shutil.copy2(f, copy / f.name)
    for d in path.iterdir():
        if d.is_dir():
            (copy / d.name).symlink_to(d.resolve(), target_is_directory=True)
    return copy


def _unreadable(settings: Settings, exc: Exception) -> PaperchatError:
    """A Chroma failure opening an embedded index, as the one line a user can act on."""
    detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
    low = detail.lower()
    if "disk is full" in low or "no space" in low:
        return PaperchatError(f"the disk holding the index at {settings.index_dir} is full ({detail}): free some "
                              "space and run the command again; the index still holds what it held")
    if "readonly" in low or "read-only" in low or "permission" in low:
        return IndexLocked(f"the index at {settings.index_dir} is read-only here ({detail}): "
                           "ingest needs write access; ask and search only read it")
    if "locked" in low:
        return IndexLocked(f"the index at {settings.index_dir} is locked by another process ({detail}); try again")
    if settings.chroma_url:
        return IndexDamaged(f"the index on the Chroma server {settings.chroma_url} is damaged ({detail}): "
                            "run `paperchat ingest --rebuild` to build it again")
    return IndexDamaged(
        f"the index at {settings.index_dir} is damaged ({detail}): move that folder away and run "
        "`paperchat ingest` to build it again"
    )


def collection_names(settings: Settings) -> tuple[str, str]:
    """(chunks, sentences) collection names of an index written before the manifest existed."""
    return settings.collection, f"{settings.collection}_sentences"


def manifest_name(settings: Settings) -> str:
    return f"{settings.collection}.manifest"


def _build_names(settings: Settings, generation: int) -> tuple[str, str]:
    return f"{settings.collection}.g{generation}.chunks", f"{settings.collection}.g{generation}.sentences"


class Manifest(BaseModel):
    chunks: str
    sentences: str
    generation: int = 0
    clean: bool = True  # False from the start of an update ingest's writes to its end


def read_manifest(client, settings: Settings) -> Manifest | None:
    """The active collections, or None when there is no index at all."""
    try:
        meta = client.get_collection(manifest_name(settings)).metadata or {}
        return Manifest(**{k: meta[k] for k in Manifest.model_fields if k in meta})
    except Exception as exc:
        if not _is_missing(exc):
            raise
    chunks, sentences = collection_names(settings)
    try:
        client.get_collection(chunks)
    except Exception as exc:
        if _is_missing(exc):
            return None
        raise
    # Written by code that deleted before it added: it may hold orphan rows, so the next ingest sweeps.
    return Manifest(chunks=chunks, sentences=sentences, generation=0, clean=False)


def _write_manifest(client, settings: Settings, manifest: Manifest) -> None:
    # One metadata update is one SQLite transaction: readers see the old or the new manifest.
    meta = manifest.model_dump()
    coll = client.get_or_create_collection(manifest_name(settings), metadata=meta, embedding_function=None)
    coll.modify(metadata=meta)


def _is_missing(exc: Exception) -> bool:
    from chromadb.errors import NotFoundError

    return isinstance(exc, NotFoundError) or "does not exist" in str(exc)


def _transient(exc: Exception) -> bool:
    """Errors a reader meets while another process writes: ids deleted under a query, a
    collection dropped by a --rebuild switch, SQLite busy."""
    text = str(exc).lower()
    return _is_missing(exc) or any(s in text for s in ("error finding id", "locked", "busy", "not found",
                                                       "missing metadata segment", "missing field"))


def _damaged(exc: Exception) -> bool:
    """Chroma's ways of saying its files are corrupt (not the environment, not a race)."""
    text = str(exc).lower()
    return any(s in text for s in ("malformed", "not a database", "failed to pull logs", "file is encrypted",
                                   "corrupt"))


def get_pages(collection, include: list[str], where: dict | None = None, read=lambda fn: fn()) -> Iterator[dict]:
    """collection.get of every matching row, PAGE_ROWS at a time (a Chroma server refuses much
    bigger gets); `read` runs each page's get (Store._read: retried when it races an ingest)."""
    offset = 0
    while True:
        got = read(lambda: collection.get(where=where, include=include, limit=PAGE_ROWS, offset=offset))
        yield got
        if len(got["ids"]) < PAGE_ROWS:
            return
        offset += PAGE_ROWS


def get_all(collection, include: list[str], where: dict | None = None) -> dict:
    """collection.get of every matching row, PAGE_ROWS at a time, as one result."""
    out: dict = {"ids": [], **{k: [] for k in include}}
    for got in get_pages(collection, include, where):
        out["ids"] += got["ids"]
        for k in include:
            out[k] += list(got[k]) if got.get(k) is not None else []
    return out


def row_version(content_hash: str) -> str:
    return content_hash[:HASH_LEN]


def head_id(paper_id: str) -> str:
    return f"{paper_id}#0"


class Store:
    """Chunks and sentences of every paper, with the embedding model recorded on the collection."""

    def __init__(self, settings: Settings, *, create: bool = False, model_dim: int | None = None,
                 manifest: Manifest | None = None, client=None):
        self.settings = settings
        self.client = client or _client(settings, create)
        self._release = weakref.finalize(self, _close, self.client) if client is None else None
        self._lock = threading.RLock()
        self.model_dim = model_dim
        try:
            self.manifest = manifest or read_manifest(self.client, settings)
        except Exception as exc:
            raise _unreadable(settings, exc) from None
        if self.manifest is None:
            if not create:
                where = settings.chroma_url or settings.index_dir
                raise IndexMissing(f"no index at {where}: run `paperchat ingest` first")
            self.manifest = Manifest(chunks="", sentences="", generation=0)
            self.chunks = self.sentences = None
            return
        self._open_collections(create)
        if not create:
            self._check_not_empty()

    def _check_not_empty(self) -> None:
        """Rows but no complete paper: an ingest by an older paperchat was killed mid-write."""
        try:
            if self.chunks.get(where={"chunk": 0}, limit=1, include=[])["ids"]:
                return
            rows = self.chunks.count() + self.sentences.count()
        except Exception as exc:
            if _damaged(exc):
                raise _unreadable(self.settings, exc) from None
            return  # a race with a writer: the reads themselves retry
        if rows:
            where = self.settings.chroma_url or self.settings.index_dir
            raise IndexDamaged(f"the index at {where} holds {rows} rows but no complete paper (an ingest was "
                               "interrupted): run `paperchat ingest` to finish it")

    def _open_collections(self, create: bool = False) -> None:
        try:
            self.chunks = self._collection(self.manifest.chunks, create, self.model_dim)
            self.sentences = self._collection(self.manifest.sentences, create, self.model_dim)
            # A collection handle keeps its Store (and so its System) alive: `Store.open(s).chunks`
            # must stay usable after the Store itself is dropped.
            for coll in (self.chunks, self.sentences):
                try:
                    object.__setattr__(coll, "_paperchat_store", self)
                except (AttributeError, TypeError):
                    pass
        except sqlite3.OperationalError as exc:
            raise IndexLocked(f"the index at {self.settings.index_dir} is locked or unreadable ({exc})") from None
        self.chunks_name, self.sentences_name = self.manifest.chunks, self.manifest.sentences

    @classmethod
    def open(cls, settings: Settings) -> "Store":
        return cls(settings, create=False)

    def _collection(self, name: str, create: bool, model_dim: int | None):
        meta = {"embedding_model": self.settings.embed_model, "dimension": model_dim or 0,
                "embedding_runtime": self.settings.embed_runtime}
        if create:
            coll = self.client.get_or_create_collection(
                name, metadata=meta, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
            )
        else:
            try:
                coll = self.client.get_collection(name, embedding_function=None)
            except PaperchatError:
                raise
            except Exception as exc:
                if not _is_missing(exc):
                    raise _unreadable(self.settings, exc) from None
                where = self.settings.chroma_url or self.settings.index_dir
                raise IndexMissing(f"no index at {where}: run `paperchat ingest` first") from None
        recorded = (coll.metadata or {}).get("embedding_model")
        if recorded and recorded != self.settings.embed_model:
            raise ModelMismatch(
                f"the index at {self.settings.chroma_url or self.settings.index_dir} was built with "
                f"{recorded}, not {self.settings.embed_model}: run `paperchat ingest --rebuild`"
            )
        # Indexes from before the runtime was recorded were all built by torch.
        runtime = (coll.metadata or {}).get("embedding_runtime", "torch") if recorded else None
        if runtime and runtime != self.settings.embed_runtime:
            raise ModelMismatch(
                f"the index at {self.settings.chroma_url or self.settings.index_dir} was embedded by the "
                f"{runtime} runtime, not {self.settings.embed_runtime}: run `paperchat ingest --rebuild` "
                f"(or set PAPERCHAT_EMBED_RUNTIME={runtime})"
            )
        dim = (coll.metadata or {}).get("dimension")
        if model_dim and dim and dim != model_dim:
            raise ModelMismatch(
                f"the index has {dim}-dimensional vectors, the model makes {model_dim}: "
                "run `paperchat ingest --rebuild`"
            )
        return coll

    # ---- reading ---------------------------------------------------------------------------
    def generation(self) -> int:
        """Changes whenever an ingest changed the index (read fresh each call): a serving
        process compares it with the one it loaded to pick up new papers without a restart."""
        try:
            manifest = read_manifest(self.client, self.settings)
        except Exception:
            return self.manifest.generation
        return manifest.generation if manifest else -1

    def complete(self) -> bool:
        """False when the last ingest stopped before it finished (the next ingest sweeps)."""
        try:
            manifest = read_manifest(self.client, self.settings)
        except Exception:
            return self.manifest.clean
        return bool(manifest and manifest.clean)

    def refresh(self, reopen: bool | None = None) -> None:
        """Follow the manifest to the currently active collections (after a --rebuild switch),
        on a fresh Chroma System when the generation moved on (or `reopen`): see
        _own_system_client. Safe to call from several threads."""
        with self._lock:
            manifest = read_manifest(self.client, self.settings)
            if manifest is None:
                where = self.settings.chroma_url or self.settings.index_dir
                raise IndexMissing(f"no index at {where}: run `paperchat ingest` first")
            if reopen is None:
                reopen = manifest.generation != self.manifest.generation
            if reopen and self._release is not None and not self.settings.chroma_url:
                old = self._release
                self.client = _client(self.settings, create=False)
                self._release = weakref.finalize(self, _close, self.client)
                self.manifest = manifest
                self._open_collections()
                old()  # after the swap: a read still on the old System retries on the new one
            elif (manifest.chunks, manifest.sentences) != (self.manifest.chunks, self.manifest.sentences):
                self.manifest = manifest
                self._open_collections()
            else:
                self.manifest = manifest

    def _read(self, fn):
        """Run a read; when it races an ingest (rows deleted or a collection switched under it,
        vectors another process wrote) follow the manifest again on a fresh System and retry,
        so asks never fail because someone is ingesting."""
        for attempt in range(READ_RETRIES):
            client = self.client
            try:
                return fn()
            except PaperchatError:
                raise
            except Exception as exc:
                if client is not self.client and attempt < READ_RETRIES - 1:
                    continue  # another thread replaced the System under this read: read again
                if _damaged(exc):
                    raise _unreadable(self.settings, exc) from None
                if not _transient(exc) or attempt == READ_RETRIES - 1:
                    raise
                time.sleep(0.05 * attempt)
                try:
                    self.refresh(reopen=True)
                except PaperchatError:
                    raise
                except Exception:
                    pass

    def count_papers(self) -> int:
        return len(self.paper_hashes())

    def has_papers(self) -> bool:
        """Whether any paper is in the index: one row read, where count_papers reads every head."""
        return bool(self._read(lambda: self.chunks.get(where={"chunk": 0}, limit=1, include=[]))["ids"])

    def paper_hashes(self, paper_ids: list[str] | None = None) -> dict[str, str]:
        """paper_id -> content_hash of the version readers see (its head row); of these papers only
        when given (read by head id: an ingest asks a batch at a time, never for the whole index)."""
        if paper_ids is not None:
            heads = [head_id(p) for p in paper_ids]
            got = self._read(lambda: self.chunks.get(ids=heads, include=["metadatas"])) if heads else {"metadatas": []}
        else:
            got = self._read(lambda: get_all(self.chunks, where={"chunk": 0}, include=["metadatas"]))
        return {m["paper_id"]: m["content_hash"] for m in got["metadatas"] if m and "paper_id" in m}

    def paper_id_pages(self) -> Iterator[list[str]]:
        """Every indexed paper's id, PAGE_ROWS at a time (memory bounded however large the index)."""
        for got in get_pages(self.chunks, ["metadatas"], where={"chunk": 0}, read=self._read):
            yield [m["paper_id"] for m in got["metadatas"] if m and "paper_id" in m]

    def all_chunks(self, storage_fields: bool = False) -> list[tuple[str, str, dict]]:
        """(chunk_id, text, metadata) for every chunk of every paper's current version: feeds
        the keyword index. Rows of other versions (an ingest in progress or interrupted) are left out.
        Fields stored only for filtering (date_num) are left out unless asked for."""
        got = self._read(lambda: get_all(self.chunks, include=["documents", "metadatas"]))
        rows = list(zip(got["ids"], got["documents"], got["metadatas"]))
        heads = {m["paper_id"]: m.get("content_hash") for _, _, m in rows if m and m.get("chunk") == 0}
        rows = [r for r in rows if r[2] and _current(r[2], heads)]
        if storage_fields:
            return rows
        return [(cid, text, {k: v for k, v in meta.items() if k not in STORAGE_FIELDS}) for cid, text, meta in rows]

    def chunk_pages(self) -> Iterator[list[tuple[str, str, dict]]]:
        """all_chunks() a page at a time, in the same order (memory bounded however large the index):
        each page's rows checked against the heads of that page's papers: those in the page (most:
        an ingest writes a batch's heads right after its chunks), the others read by id."""
        for got in get_pages(self.chunks, ["documents", "metadatas"], read=self._read):
            rows = [r for r in zip(got["ids"], got["documents"], got["metadatas"]) if r[2] and "paper_id" in r[2]]
            heads = {m["paper_id"]: m.get("content_hash") for cid, _, m in rows if cid == head_id(m["paper_id"])}
            pids = [p for p in dict.fromkeys(m["paper_id"] for _, _, m in rows) if p not in heads]
            for start in range(0, len(pids), SENTENCE_READ_ROWS):
                ids = [head_id(p) for p in pids[start:start + SENTENCE_READ_ROWS]]
                heads.update({m["paper_id"]: m.get("content_hash") for m in
                              self._read(lambda: self.chunks.get(ids=ids, include=["metadatas"]))["metadatas"]
                              if m and "paper_id" in m})
            yield [(cid, text, {k: v for k, v in meta.items() if k not in STORAGE_FIELDS})
                   for cid, text, meta in rows if _current(meta, heads)]

    def chunk_vectors(self, rows: list[tuple[str, str, dict]], batch: int = 1000) -> np.ndarray | None:
        """The stored vectors of these all_chunks() rows, in their order; None when a row changed
        version since it was read (an ingest is writing: the caller then queries Chroma instead).
        Read 1,000 at a time into one array: a reply's vectors arrive as Python lists (~30x their
        float32 size), so big pages made this the peak of a serving-data build."""
        out = None
        for start in range(0, len(rows), batch):
            part = rows[start:start + batch]
            ids = [cid for cid, _, _ in part]
            got = self._read(lambda: self.chunks.get(ids=ids, include=["embeddings", "metadatas"]))
            found = {cid: (vec, meta) for cid, vec, meta in zip(got["ids"], got["embeddings"], got["metadatas"])}
            for i, (cid, _, meta) in enumerate(part, start):
                vec, stored = found.get(cid, (None, None))
                if vec is None or not stored or stored.get("content_hash") != meta.get("content_hash"):
                    return None
                if out is None:
                    out = np.empty((len(rows), len(vec)), dtype=np.float32)
                out[i] = vec
        return out

    def query_chunks(self, vector: np.ndarray, k: int, where: dict | None = None, ids: list[str] | None = None,
                     metadata: bool = True) -> list[tuple[str, float, dict | None]]:
        """The k chunks nearest to a query vector, best first, as (chunk_id, cosine similarity,
        metadata); `where` or `ids` restrict the search inside Chroma (e.g. a date_num range, the
        chunks of a date window). metadata=False leaves it out (None): a chunk's metadata is most
        of what a query transfers, and costs more than the search itself at k in the hundreds.
        Rows of any version may come back while an ingest writes; the caller keeps the versions it knows."""
        if k <= 0:
            return []
        vector = np.asarray(vector, dtype=np.float32)
        include = ["metadatas", "distances"] if metadata else ["distances"]
        got = self._read(lambda: self.chunks.query(query_embeddings=[vector], n_results=k, where=where, ids=ids,
                                                   include=include))
        metas = got["metadatas"][0] if metadata else [None] * len(got["ids"][0])
        return [(cid, 1.0 - float(d), m) for cid, d, m in zip(got["ids"][0], got["distances"][0], metas)]

    def papers(self, paper_ids: list[str] | None = None) -> dict[str, Paper]:
        where = {"chunk": 0} if paper_ids is None else {"$and": [{"chunk": 0}, {"paper_id": {"$in": list(paper_ids)}}]}
        metas = [m for m in self._read(lambda: get_all(self.chunks, where=where, include=["metadatas"]))["metadatas"]
                 if m and "paper_id" in m]
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

    def sentences_of(self, paper_ids: list[str], with_vectors: bool = False,
                     known: dict[str, tuple[str, int]] | None = None,
                     exact: bool = False) -> dict[str, tuple[list[str], np.ndarray | None]]:
        """Each paper's abstract sentences in order (of the version its head names), and their
        embeddings when asked for. A paper absent from the index is absent from the result.
        `known` (paper_id -> (content_hash, sentence count), from the serving data) lets them be read
        by id, one lookup per row; a `where` on paper_id costs time growing with the collection.
        A paper whose rows are not all there (an ingest replaced it) is read the careful way, or
        with `exact`, left out: only the versions `known` names come back (the serving data's build)."""
        if not paper_ids:
            return {}
        paper_ids = list(dict.fromkeys(paper_ids))
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        out: dict = {}
        todo = paper_ids
        if known:
            todo = self._sentences_by_id(paper_ids, known, include, with_vectors, out)
            if not todo or exact:
                return out
        for _ in range(READ_RETRIES):
            # Heads first, then sentences: a version's sentences are written before its head and
            # deleted only after a newer head, so a miss means the head moved on: read again.
            heads = self._read(lambda: self.chunks.get(ids=[head_id(p) for p in todo], include=["metadatas"]))
            versions = {m["paper_id"]: m.get("content_hash") for m in heads["metadatas"] if m and "paper_id" in m}
            if not versions:
                break
            got = self._read(lambda: self.sentences.get(where={"paper_id": {"$in": list(versions)}}, include=include))
            retry = self._collect(got, versions, with_vectors, out)
            if not retry:
                break
            todo = retry
        return out

    def _sentences_by_id(self, paper_ids: list[str], known: dict[str, tuple[str, int]], include: list[str],
                         with_vectors: bool, out: dict) -> list[str]:
        """Fill `out` from rows read by id; return the papers still to read."""
        wanted = [pid for pid in paper_ids if pid in known]
        todo = [pid for pid in paper_ids if pid not in known]
        retry: list[str] = []
        start = 0
        while start < len(wanted):  # batches of ~SENTENCE_READ_ROWS rows: warm() reads every paper
            batch, rows = [], 0
            while start < len(wanted) and (not batch or rows + known[wanted[start]][1] <= SENTENCE_READ_ROWS):
                batch.append(wanted[start])
                rows += known[wanted[start]][1]
                start += 1
            ids = [f"{pid}@{row_version(known[pid][0])}#s{i}" for pid in batch for i in range(known[pid][1])]
            got = self._read(lambda: self.sentences.get(ids=ids, include=include))
            retry += self._collect(got, {pid: known[pid][0] for pid in batch}, with_vectors, out)
        for pid in wanted:  # all of a paper's rows, or it is read again through its head
            if pid in out and len(out[pid][0]) != known[pid][1]:
                del out[pid]
                retry.append(pid)
        return todo + [pid for pid in retry if pid not in todo]

    @staticmethod
    def _collect(got: dict, versions: dict[str, str | None], with_vectors: bool, out: dict) -> list[str]:
        """Fill `out` with the sentences of each paper's head version; return papers to re-read."""
        rows: dict[str, dict] = {}
        vectors = got.get("embeddings") if with_vectors else None
        for i, (doc, meta) in enumerate(zip(got["documents"], got["metadatas"])):
            if not meta or "paper_id" not in meta:
                continue
            vec = vectors[i] if vectors is not None else None
            # Rows written before versions existed carry no hash: they are the only version.
            rows.setdefault(meta["paper_id"], {}).setdefault(meta.get("content_hash"), []).append(
                (meta["sentence"], doc, vec))
        retry = []
        for pid, version in versions.items():
            by_version = rows.get(pid, {})
            items = by_version.get(version) or by_version.get(None)
            if not items:
                retry.append(pid)
                continue
            items.sort(key=lambda t: t[0])
            vecs = np.asarray([t[2] for t in items], dtype=np.float32) if with_vectors else None
            out[pid] = ([t[1] for t in items], vecs)
        return retry

    # ---- writing (ingest only) -------------------------------------------------------------
    @classmethod
    def writer(cls, settings: Settings, model_dim: int, rebuild: bool = False) -> "IndexWriter":
        """The one way ingest changes the index. The caller holds the ingest lock."""
        return IndexWriter(settings, model_dim, rebuild)

    def vector_store(self):
        """The chunk collection as a llama-index vector store."""
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self.chunks)


def _current(meta: dict, heads: dict[str, str | None]) -> bool:
    pid = meta.get("paper_id")
    return pid in heads and meta.get("content_hash") == heads[pid]


class IndexWriter:
    """Writes one ingest: update in place (versioned rows, head switch, then delete old rows) or
    build aside (new collections, manifest switch at commit). Nothing a reader sees is removed
    before its replacement is written."""

    def __init__(self, settings: Settings, model_dim: int, rebuild: bool):
        self.settings = settings
        self.where = settings.chroma_url or str(settings.index_dir)
        self.model_dim = model_dim
        try:
            self.client = _client(settings, create=True)
            self._release = weakref.finalize(self, _close, self.client)
            self.previous = read_manifest(self.client, settings)
            self.aside = rebuild or self.previous is None
            self._drop_abandoned()
            if self.aside:
                generation = (self.previous.generation if self.previous else 0) + 1
                chunks, sentences = _build_names(settings, generation)
                for name in (chunks, sentences):  # a build killed at this generation before
                    self._drop(name)
                target = Manifest(chunks=chunks, sentences=sentences, generation=generation)
            else:
                target = self.previous
            self.store = Store(settings, create=True, model_dim=model_dim, manifest=target, client=self.client)
            if not self.aside:
                if not self.previous.clean:
                    self.sweep()
                _write_manifest(self.client, settings, self.previous.model_copy(update={"clean": False}))
        except PaperchatError:
            raise
        except Exception as exc:
            raise self._failed(exc) from None
        self.wrote = False

    # ---- the steps ---------------------------------------------------------------------------
    def put_papers(self, items: list[tuple[Paper, str, list[Chunk], np.ndarray, list[str], np.ndarray]]) -> None:
        """Write papers' new versions: rows of the new version, then the heads, then delete
        their old versions' rows. A few large calls, because Chroma pays a fixed cost per call."""
        if not items:
            return
        rows = self._rows(items)
        try:
            self._add(self.store.sentences, rows["sentences"])
            self._add(self.store.chunks, rows["chunks"])
            self._add(self.store.chunks, rows["heads"])  # the switch, paper by paper
            if not self.aside:
                self._delete_other_versions({item[0].paper_id: item[1] for item in items})
        except Exception as exc:
            raise self._failed(exc) from None
        self.wrote = True

    def delete_papers(self, paper_ids: list[str]) -> None:
        """Remove papers: heads first (the paper is gone for readers at once), then the rest."""
        if not paper_ids:
            return
        try:
            self.store.chunks.delete(ids=[head_id(p) for p in paper_ids])
            for coll in (self.store.chunks, self.store.sentences):
                coll.delete(where={"paper_id": {"$in": list(paper_ids)}})
        except Exception as exc:
            raise self._failed(exc) from None
        self.wrote = True

    def close(self) -> None:
        _close(self.client)

    def commit(self) -> int:
        """Make the ingest visible as a whole: a new generation (and the new collections, for a
        build aside). Returns the generation readers now see."""
        try:
            if self.aside:
                _write_manifest(self.client, self.settings, self.store.manifest.model_copy(update={"clean": True}))
                if self.previous is not None:
                    for name in (self.previous.chunks, self.previous.sentences):
                        self._drop(name)
                    self._sweep_segment_folders()
                return self.store.manifest.generation
            generation = self.previous.generation + (1 if self.wrote else 0)
            _write_manifest(self.client, self.settings,
                            self.previous.model_copy(update={"clean": True, "generation": generation}))
            return generation
        except Exception as exc:
            raise self._failed(exc) from None

    # ---- helpers -----------------------------------------------------------------------------
    def _rows(self, items) -> dict[str, list[tuple]]:
        out: dict[str, list[tuple]] = {"sentences": [], "chunks": [], "heads": []}
        for paper, content_hash, chunks, chunk_vectors, sentences, sentence_vectors in items:
            if len(chunks) != len(chunk_vectors) or len(sentences) != len(sentence_vectors):
                raise ValueError(f"{paper.paper_id}: one vector per chunk and per sentence expected")
            version = row_version(content_hash)
            base = {k: (getattr(paper, k) or "") for k in PAPER_FIELDS}
            base.update(paper_id=paper.paper_id, authors=json.dumps(paper.authors), content_hash=content_hash)
            chunk_base = {**base, "date_num": date_number(paper.date)}
            for i, (c, vec) in enumerate(zip(chunks, np.asarray(chunk_vectors, dtype=np.float32))):
                meta = {**chunk_base, "chunk": i, "sentence_start": c.sentence_start, "sentence_end": c.sentence_end}
                if i == 0:
                    out["heads"].append((head_id(paper.paper_id), c.text, vec, meta))
                else:
                    out["chunks"].append((f"{paper.paper_id}@{version}#{i}", c.text, vec, meta))
            for i, (text, vec) in enumerate(zip(sentences, np.asarray(sentence_vectors, dtype=np.float32))):
                meta = {"paper_id": paper.paper_id, "sentence": i, "content_hash": content_hash}
                out["sentences"].append((f"{paper.paper_id}@{version}#s{i}", text, vec, meta))
        return out

    def _add(self, collection, rows: list[tuple]) -> None:
        # upsert, not add: a re-run after a kill writes the same ids again.
        step = max(1, int(self.client.get_max_batch_size()))
        for start in range(0, len(rows), step):
            batch = rows[start:start + step]
            collection.upsert(
                ids=[r[0] for r in batch],
                documents=[r[1] for r in batch],
                embeddings=np.asarray([r[2] for r in batch], dtype=np.float32),
                metadatas=[r[3] for r in batch],
            )

    def _delete_other_versions(self, versions: dict[str, str]) -> None:
        """Delete every row of these papers that is not of the given version (the head stays)."""
        for coll in (self.store.chunks, self.store.sentences):
            got = coll.get(where={"paper_id": {"$in": list(versions)}}, include=["metadatas"])
            stale = [rid for rid, m in zip(got["ids"], got["metadatas"])
                     if m.get("content_hash") != versions.get(m.get("paper_id"))]
            self._delete_ids(coll, stale)

    def sweep(self) -> int:
        """After an interrupted ingest: delete rows of versions no head names (new rows written
        before the kill, old rows not yet deleted). Returns how many rows went. Rows are read a
        page at a time and checked against the heads of that page's papers only, so a resumed
        ingest's memory does not grow with the index (the stale rows are one interrupted batch's)."""
        step = max(1, int(self.client.get_max_batch_size()))
        removed = 0
        for coll in (self.store.chunks, self.store.sentences):
            stale = []
            for got in get_pages(coll, ["metadatas"]):
                pids = list({m["paper_id"] for m in got["metadatas"] if m and m.get("paper_id")})
                heads = {}
                for start in range(0, len(pids), step):
                    part = [head_id(p) for p in pids[start:start + step]]
                    heads.update({m["paper_id"]: m.get("content_hash")
                                  for m in self.store.chunks.get(ids=part, include=["metadatas"])["metadatas"]
                                  if m and m.get("chunk") == 0 and "paper_id" in m})
                for rid, m in zip(got["ids"], got["metadatas"]):
                    if coll is self.store.chunks:
                        bad = not m or not _current(m, heads)
                    else:
                        bad = (not m or m.get("paper_id") not in heads
                               or m.get("content_hash") not in (None, heads[m.get("paper_id")]))
                    if bad:
                        stale.append(rid)
            removed += self._delete_ids(coll, stale)
        return removed

    def _delete_ids(self, coll, ids: list[str]) -> int:
        step = max(1, int(self.client.get_max_batch_size()))
        for start in range(0, len(ids), step):
            coll.delete(ids=ids[start:start + step])
        return len(ids)

    def _drop(self, name: str) -> None:
        try:
            self.client.delete_collection(name)
        except Exception as exc:
            if not _is_missing(exc):
                raise

    def _sweep_segment_folders(self) -> None:
        """Chroma's embedded delete_collection forgets a collection's vector folder but leaves it on
        disk, so every --rebuild would leave the old index's HNSW files behind. Remove the folders no
        segment refers to any more; only after the new collections are committed, and never on a
        server (whose files are its own). A reader still mapping an old file keeps it until it closes."""
        if self.settings.chroma_url:
            return
        import re
        import shutil

        root = Path(self.settings.index_dir)
        try:
            db = sqlite3.connect(f"file:{root / 'chroma.sqlite3'}?mode=ro", uri=True, timeout=5)
            try:
                live = {row[0] for row in db.execute("SELECT id FROM segments")}
            finally:
                db.close()
        except sqlite3.Error:
            return  # cannot tell which folders are live: leave them all
        uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        for folder in root.iterdir():
            if folder.is_dir() and uuid.match(folder.name) and folder.name not in live:
                shutil.rmtree(folder, ignore_errors=True)

    def _drop_abandoned(self) -> None:
        """Collections of a build that never switched (killed or failed --rebuild)."""
        active = {self.previous.chunks, self.previous.sentences} if self.previous else set()
        prefix = f"{self.settings.collection}.g"
        dropped = False
        for coll in self.client.list_collections():
            name = getattr(coll, "name", coll)
            if name.startswith(prefix) and name not in active:
                self._drop(name)
                dropped = True
        if dropped:
            self._sweep_segment_folders()

    def _disk_nearly_full(self) -> bool:
        # Chroma reports a full disk met while applying its log as "Error in compaction".
        if self.settings.chroma_url:
            return False
        import shutil

        try:
            return shutil.disk_usage(self.settings.index_dir).free < 1 << 20
        except OSError:
            return False

    def _failed(self, exc: Exception) -> PaperchatError:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        low = detail.lower()
        if "disk is full" in low or "no space" in low or "quota" in low or self._disk_nearly_full():
            cause = f"the disk holding the index is full ({detail}): free some space"
        elif "readonly" in low or "read-only" in low or "permission" in low:
            cause = f"the index is not writable here ({detail}): ingest where you have write access"
        else:
            cause = f"{type(exc).__name__}: {detail}"
        return PaperchatError(
            f"writing the index at {self.where} failed, {cause}; the index still answers as before "
            "and running `paperchat ingest` again finishes the work"
        )


# ---- the ingest lease (one writer per index, across hosts) ------------------------------------
class Lease(BaseModel):
    owner: str  # host:pid:random, unique per ingest run
    expires_at: float  # epoch seconds; past it, another ingest may take the lease over
    acquired_at: float


def lease_name(settings: Settings) -> str:
    return f"{settings.collection}.lease"


def lease_owner() -> str:
    """Who holds a lease: "host:pid:token" (read back by _holder_gone)."""
    import os
    import secrets
    import socket

    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _holder_gone(owner: str) -> bool:
    """Only a holder on this very host (lease_owner's host) can be seen to be gone; another host's
    lease is left to expire."""
    import os
    import socket

    rest = owner.split(":")
    if len(rest) < 3 or not rest[-2].isdigit():
        return False
    host, pid = ":".join(rest[:-2]), int(rest[-2])
    if host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


class IngestLease:
    """A lease on the index recorded in Chroma itself, so it holds for every host that writes to
    one Chroma server (a file lock only holds on one machine). Creating a collection is the atomic
    step: of two ingests creating the lease collection at once, one fails. The holder renews it;
    an ingest that was killed stops renewing and its lease expires."""

    def __init__(self, settings: Settings, owner: str, seconds: float):
        self.settings, self.owner, self.seconds = settings, owner, seconds
        self.client = _client(settings, create=True)
        self.name = lease_name(settings)

    def _meta(self, acquired_at: float) -> dict:
        now = time.time()
        return Lease(owner=self.owner, expires_at=now + self.seconds, acquired_at=acquired_at).model_dump()

    def current(self) -> Lease | None:
        try:
            meta = self.client.get_collection(self.name, embedding_function=None).metadata or {}
        except Exception as exc:
            if _is_missing(exc):
                return None
            raise
        try:
            return Lease(**meta)
        except Exception:  # a half-written or foreign collection: treat as expired
            return Lease(owner="?", expires_at=0, acquired_at=0)

    def acquire(self) -> Lease | None:
        """Take the lease; returns None on success, the holder's lease when someone else has it."""
        for _ in range(3):
            try:
                self.client.create_collection(self.name, metadata=self._meta(time.time()), embedding_function=None)
            except Exception as exc:
                if "already exists" not in str(exc).lower():
                    raise
            else:
                return None
            held = self.current()
            if held is None:
                continue  # released between our create and our read: try again
            if held.owner == self.owner:
                return None
            if held.expires_at > time.time() and not _holder_gone(held.owner):
                return held
            # Expired, or its holder was a process on this host that no longer runs (killed:
            # no need to wait out the expiry). Drop it and race for a fresh one (create decides).
            try:
                self.client.delete_collection(self.name)
            except Exception as exc:
                if not _is_missing(exc):
                    raise
        return self.current()

    def renew(self) -> bool:
        """Extend the lease; False when it is no longer ours (expired and taken over)."""
        held = self.current()
        if held is None or held.owner != self.owner:
            return False
        self.client.get_collection(self.name, embedding_function=None).modify(metadata=self._meta(held.acquired_at))
        return True

    def release(self) -> None:
        held = self.current()
        if held is not None and held.owner == self.owner:
            try:
                self.client.delete_collection(self.name)
            except Exception as exc:
                if not _is_missing(exc):
                    raise
