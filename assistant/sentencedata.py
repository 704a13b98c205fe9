"""Every paper's abstract sentences and their vectors, as one serving generation holds them
(assistant/derived.py): what an answer re-scores sentence by sentence. Reading them from Chroma
per question was most of a search at 100k papers (~40 ms of a 60 ms search through a Chroma
server: dozens of papers' vectors as JSON over HTTP); here they are a memory-mapped file that
every process on the machine shares through the page cache, so a replica holds none of it.

    sentences.npy     float32 (rows, dim): the vectors exactly as Chroma stores them, paper after paper
    sentences.sqlite  paper_id -> content_hash, first row, row count, sentence texts (JSON list),
                      each sentence's content terms (JSON list of space-joined terms)

Written by paging through the store a bounded number of rows at a time (memory flat in corpus
size), copying the rows of papers the previous generation already holds at the same version, so
an ingest of a few papers reads only those from Chroma. A paper whose rows changed under the
build (an ingest racing it) is left out: readers fall back to Chroma for it.

The terms are what an answer would otherwise compute per candidate sentence on every question
(evidence.sentence_terms: half a search at 100k papers). They are valid for the code that made them
only: stored with a hash of that code, and ignored (computed per question, as before) by a
paperchat whose words.py or sentence_terms differ."""
from __future__ import annotations

import gc
import hashlib
import inspect
import json
import sqlite3
import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

VECTORS = "sentences.npy"
TABLE = "sentences.sqlite"
SOURCE = "sentences.json"  # which collection the rows came from: a previous generation is reused only if the same
READ_ROWS = 1000  # sentence rows per store read: the build's memory (~65 MB over its start at 1,000; ~390 MB at 4,000, vectors come as JSON floats), not its time
BATCH = 500  # ids per `IN (...)` query: under SQLite's variable limit


@lru_cache(maxsize=1)
def terms_key() -> str | None:
    """A hash of the code that makes sentence terms (None: its source is not readable here)."""
    from . import evidence, words

    try:
        code = inspect.getsource(words) + inspect.getsource(evidence.sentence_terms)
    except (OSError, TypeError):
        return None
    return hashlib.sha256(code.encode("utf-8")).hexdigest()[:16]


def _terms_of(texts: list[str]) -> str:
    from .evidence import sentence_terms

    return json.dumps([" ".join(sorted(sentence_terms(t))) for t in texts], ensure_ascii=False)


def _source_of(store) -> dict:
    return {"index": store.settings.chroma_url or str(Path(store.settings.index_dir).resolve()),
            "collection": getattr(store, "sentences_name", None)}


def write(store, papers: Iterable[tuple[str, str, int]], total: int, folder: Path,
          previous: Path | None = None) -> int:
    """Write the sentence files of these papers ((paper_id, content_hash, n_sentences > 0) in
    paper_id order, streamed; `total` is the sum of their n_sentences) into folder; returns how
    many papers they hold."""
    start = 0
    source = _source_of(store)
    old = _reusable(previous, source)
    db = sqlite3.connect(folder / TABLE)
    written, header = 0, None
    try:
        # Plain writes at each paper's offset, not a writable memory map: the build's memory stays
        # one batch, without the whole file's pages counted against it.
        with open(folder / VECTORS, "wb") as out:
            db.execute("CREATE TABLE sentences (paper_id TEXT PRIMARY KEY, content_hash TEXT, start INTEGER, "
                       "n INTEGER, texts TEXT, terms TEXT)")
            key = terms_key()
            for batch in _batches(papers):
                known = {pid: (content_hash, n) for pid, content_hash, n in batch}
                starts = {}
                for pid, _, n in batch:  # rows laid out paper after paper, in paper_id order
                    starts[pid], start = start, start + n
                got = old.read(known, raw_terms=True) if old is not None else {}
                fetch = {pid: v for pid, v in known.items() if pid not in got}
                if fetch:
                    got.update(store.sentences_of(list(fetch), with_vectors=True, known=fetch, exact=True))
                    # The Chroma client's replies (~10 MB each here) sit in reference cycles until a
                    # full collection, which came too rarely: they piled up with the corpus (+285 MB at 100k).
                    gc.collect()
                rows = []
                for pid in known:
                    texts, vecs, *kept = got.get(pid, (None, None))
                    if texts is None or len(texts) != known[pid][1] or vecs is None or len(vecs) != len(texts):
                        continue  # changed under the build: served from Chroma
                    vecs = np.ascontiguousarray(vecs, dtype=np.float32)
                    if header is None:
                        header = _start_npy(out, total, vecs.shape[1])
                    out.seek(header + starts[pid] * vecs.shape[1] * 4)
                    out.write(vecs.tobytes())
                    terms = kept[0] if kept and kept[0] is not None else (_terms_of(texts) if key else None)
                    rows.append((pid, known[pid][0], starts[pid], len(texts), json.dumps(texts, ensure_ascii=False),
                                 terms))
                db.executemany("INSERT INTO sentences VALUES (?, ?, ?, ?, ?, ?)", rows)
                written += len(rows)
        db.commit()
    finally:
        db.close()
        if old is not None:
            old.close()
    if header is None:
        (folder / VECTORS).unlink()
    (folder / SOURCE).write_text(json.dumps({**source, "terms_key": terms_key()}))
    return written


def _start_npy(out, rows: int, dim: int) -> int:
    """Write the .npy header of a (rows, dim) float32 array and size the file; returns the header length."""
    np.lib.format.write_array_header_1_0(out, {"descr": "<f4", "fortran_order": False, "shape": (rows, dim)})
    header = out.tell()
    out.truncate(header + rows * dim * 4)  # rows of papers left out stay zero (a sparse hole)
    return header


def _batches(papers: Iterable[tuple[str, str, int]]):
    batch, rows = [], 0
    for paper in papers:
        if batch and rows + paper[2] > READ_ROWS:
            yield batch
            batch, rows = [], 0
        batch.append(paper)
        rows += paper[2]
    if batch:
        yield batch


def _reusable(previous: Path | None, source: dict) -> "SentenceTable | None":
    """The previous generation's sentences, when they came from the same collection (a --rebuild
    writes new collections, possibly with another embedding runtime: nothing is reused then)."""
    if previous is None:
        return None
    try:
        if {k: v for k, v in json.loads((previous / SOURCE).read_text()).items() if k != "terms_key"} != source:
            return None
        return SentenceTable.open(previous)
    except (OSError, ValueError, sqlite3.Error):
        return None


class SentenceTable:
    """The sentence files of one generation, read-only: texts from SQLite, vectors as views into
    the memory-mapped array (nothing copied; pages shared by every process)."""

    def __init__(self, db: sqlite3.Connection, vectors: np.ndarray | None, terms_valid: bool = False):
        self._db, self._vectors, self._terms_valid = db, vectors, terms_valid
        self._lock = threading.Lock()  # one connection, used by the UI's worker threads in turn

    @classmethod
    def open(cls, folder: Path) -> "SentenceTable | None":
        """None when the folder has no sentence files (written by an older paperchat)."""
        if not (folder / TABLE).exists():
            return None
        # immutable=1: the file never changes once published (see assistant/papertable.py).
        db = sqlite3.connect(f"file:{folder / TABLE}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        # A plain ndarray over the map: slicing an np.memmap costs ~50 µs a slice (its __array_finalize__).
        vectors = np.asarray(np.load(folder / VECTORS, mmap_mode="r")) if (folder / VECTORS).exists() else None
        try:
            key = json.loads((folder / SOURCE).read_text()).get("terms_key")
        except (OSError, ValueError):
            key = None
        return cls(db, vectors, terms_valid=key is not None and key == terms_key())

    def read(self, wanted: dict[str, tuple[str, int]] | list[str], raw_terms: bool = False) -> dict[str, tuple]:
        """paper_id -> (sentences, vectors, each sentence's terms or None when they were made by other
        code) for the papers held here; with a dict of paper_id -> (content_hash, count), only those
        at that version. raw_terms: the terms as stored (for the next generation's build)."""
        ids = list(dict.fromkeys(wanted))
        out = {}
        for start in range(0, len(ids), BATCH):
            part = ids[start:start + BATCH]
            with self._lock:
                rows = self._db.execute("SELECT paper_id, content_hash, start, n, texts, terms FROM sentences "
                                        f"WHERE paper_id IN ({','.join('?' * len(part))})", part).fetchall()
            for pid, content_hash, first, n, texts, terms in rows:
                if isinstance(wanted, dict) and wanted[pid] != (content_hash, n):
                    continue
                if not self._terms_valid or terms is None:
                    terms = None
                elif not raw_terms:
                    terms = [set(t.split()) for t in json.loads(terms)]
                out[pid] = (json.loads(texts), self._vectors[first:first + n], terms)
        return out

    def close(self) -> None:
        self._db.close()
        self._vectors = None
