"""Writes one generation's serving data (assistant/derived.py) from the store a page of chunks at a
time, so the build's memory is flat in corpus size: it used to read every chunk (text and metadata,
~570 MB at 100k papers) and keep every paper's metadata at once (peak ~1.3 GB at 100k, ~30 GB
extrapolated to 2.5M papers).

Per page (`Store.chunk_pages`, the order all_chunks had, so keyword-index rows keep theirs): the
keyword index (assistant/keyword_build.py), each paper's head (chunk 0) and highest sentence end,
each paper's content word ids, and for a small corpus the chunk vectors. A paper's chunks may lie
in several pages (an updated paper's head keeps its old place), so what needs a paper whole (its
sentence count, its words counted once) goes to a scratch SQLite file beside the build, and is
read back paper by paper in paper_id order when every page is done."""
from __future__ import annotations

import gc
from collections import Counter
import json
import sqlite3
from itertools import groupby
from pathlib import Path

import numpy as np

from . import papertable, sentencedata
from .dates import date_number
from .keyword_build import KeywordBuilder, npy_from_raw
from .settings import Settings


def write(store, settings: Settings, folder: Path, previous: Path | None) -> dict:
    """Write the serving files into folder; returns the stats DONE records."""
    work = folder / ".work"
    work.mkdir()
    db = sqlite3.connect(work / "build.sqlite")
    db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"  # scratch: lost with the build on a crash
                     "CREATE TABLE heads (paper_id TEXT PRIMARY KEY, content_hash TEXT, meta TEXT) WITHOUT ROWID;"
                     "CREATE TABLE ends (paper_id TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID;"
                     "CREATE TABLE words (paper_id TEXT, ids BLOB);"
                     "CREATE TABLE defined (paper_id TEXT, short TEXT, long TEXT);")
    keyword = KeywordBuilder(folder / "keyword", work, settings.keyword_build_entries)
    vectors = _Vectors(work, settings.exact_dense_max_chunks)
    words = _Words()
    dates: set[str] = set()
    chunks = 0
    # Objects made before the build (modules, caches) move out of the collector's way, so the full
    # collections the build runs after each Chroma read (see sentencedata.write) cost ~ms, not ~40 ms.
    gc.freeze()
    try:
        for rows in store.chunk_pages():
            chunks += len(rows)
            keyword.add(rows, [date_number(meta.get("date")) for _, _, meta in rows])
            vectors.add(store, rows)
            heads = [meta for _, _, meta in rows if meta.get("chunk") == 0]
            # OR REPLACE: offset paging under a concurrent ingest can show a row twice (the last wins, as in a dict)
            db.executemany("INSERT OR REPLACE INTO heads VALUES (?, ?, ?)",
                           ((m["paper_id"], m.get("content_hash"), json.dumps(m, ensure_ascii=False)) for m in heads))
            dates.update(m["date"] for m in heads if m.get("date"))
            # How many sentence rows each paper has (its last chunk's end), so a reader can fetch
            # them by id instead of by a `where` over the whole sentence collection.
            ends: dict[str, int] = {}
            for _, _, meta in rows:
                ends[meta["paper_id"]] = max(ends.get(meta["paper_id"], 0), int(meta.get("sentence_end") or 0))
            db.executemany("INSERT INTO ends VALUES (?, ?) ON CONFLICT (paper_id) DO UPDATE SET n = max(n, excluded.n)",
                           ends.items())
            db.executemany("INSERT INTO words VALUES (?, ?)", words.of_page(rows))
            db.executemany("INSERT INTO defined VALUES (?, ?, ?)", words.definitions_of_page(rows))
            gc.collect()  # the page's Chroma reply, kept by reference cycles (see sentencedata.write)
        keyword.finish()
        vectors.finish(folder / "vectors.npy", chunks)
        db.execute("CREATE INDEX words_paper ON words (paper_id)")
        words.save(db, folder)
        papers = db.execute("SELECT count(*) FROM heads").fetchone()[0]
        papertable.write(((pid, {**json.loads(meta), "n_sentences": n}) for pid, meta, n in db.execute(
            "SELECT paper_id, meta, coalesce(n, 0) FROM heads LEFT JOIN ends USING (paper_id) ORDER BY paper_id")),
            folder)
        with_sentences = "FROM heads JOIN ends USING (paper_id) WHERE n > 0"
        total = db.execute(f"SELECT coalesce(sum(n), 0) {with_sentences}").fetchone()[0]
        held = sentencedata.write(store, db.execute(f"SELECT paper_id, content_hash, n {with_sentences} ORDER BY paper_id"),
                                  total, folder, previous=previous)
    finally:
        gc.unfreeze()
        db.close()
        for f in work.iterdir():
            f.unlink()
        work.rmdir()
    return {"chunks": chunks, "papers": papers, "sentence_papers": held, **date_stats(dates)}


def date_stats(dates) -> dict:
    """Date range and months of the corpus, kept in DONE: asked per answer (range) and per page."""
    known = sorted(dates)
    months = sorted({d[:7] for d in known if len(d) >= 7 and d[4] == "-"})
    return {"dates": [known[0], known[-1]] if known else [None, None], "months": months}


class _Words:
    """Each corpus word's document frequency in papers (assistant/vocabulary.py), with a paper's
    words counted once however its chunks fall into pages: word ids per (page, paper) spilled,
    then merged paper by paper."""

    def __init__(self):
        self.ids: dict[str, int] = {}  # word -> id: the vocabulary, as big as the result

    def of_page(self, rows):
        from .words import content_words, prose

        by_paper: dict[str, set[int]] = {}
        for _, text, meta in rows:
            by_paper.setdefault(meta["paper_id"], set()).update(
                self.ids.setdefault(w, len(self.ids)) for w in content_words(prose(text)))
        return ((pid, np.asarray(sorted(ids), dtype=np.int32).tobytes()) for pid, ids in by_paper.items())

    @staticmethod
    def definitions_of_page(rows):
        """(paper, abbreviation, long form) rows; a paper whose chunks straddle pages is merged in save."""
        from .acronyms import definitions
        from .words import prose

        for _, text, meta in rows:
            for short, long in definitions(prose(text)):
                yield meta["paper_id"], short, long

    def save(self, db: sqlite3.Connection, folder: Path) -> None:
        from .vocabulary import CACHE, publish_table

        df = np.zeros(len(self.ids), dtype=np.int64)
        papers = 0
        rows = db.execute("SELECT paper_id, ids FROM words ORDER BY paper_id")
        for _, parts in groupby(rows, key=lambda r: r[0]):
            parts = [np.frombuffer(blob, dtype=np.int32) for _, blob in parts]
            df[parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts))] += 1
            papers += 1
        from .acronyms import tables

        counts = {w: int(df[i]) for w, i in self.ids.items() if df[i]}
        # papers defining each (abbreviation, long form), whatever pages their chunks fell on
        acronyms = tables(Counter({(short, long): n for short, long, n in db.execute(
            "SELECT short, long, count(DISTINCT paper_id) FROM defined GROUP BY short, long")}))
        (folder / CACHE).write_text(json.dumps({"papers": papers, "df": counts, "acronyms": acronyms}, ensure_ascii=False),
                                    encoding="utf-8")
        publish_table(counts, papers, folder, acronyms)  # what serving processes read, instead of the JSON as a dict


class _Vectors:
    """The chunk vectors of a corpus of at most `limit` chunks (exact dense search), spilled page
    by page; none when the corpus is bigger or a chunk changed under the build."""

    def __init__(self, work: Path, limit: int):
        self.raw, self.limit, self.count, self.dim, self.ok = work / "vectors.f32", limit, 0, None, True

    def add(self, store, rows) -> None:
        self.count += len(rows)
        if not self.ok or not rows or self.count > self.limit:
            self.ok = self.ok and self.count <= self.limit
            return
        vecs = store.chunk_vectors(rows)
        if vecs is None:
            self.ok = False
            return
        self.dim = vecs.shape[1]
        with open(self.raw, "ab") as out:
            out.write(np.ascontiguousarray(vecs, dtype=np.float32).tobytes())

    def finish(self, path: Path, chunks: int) -> None:
        if self.ok and chunks and self.dim is not None:
            npy_from_raw(self.raw, path, np.float32, (chunks, self.dim))
