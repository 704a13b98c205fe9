"""The corpus vocabulary on disk: a read-only SQLite file (`words-N.sqlite` beside the serving data)
holding each word's and each stem's document frequency and the deletion index typo correction
searches. Every process on the machine shares it through the page cache; a dict of every word
and of every word's one-letter deletions in each replica grew with the corpus (48 MB at 100k
papers, 1-2 GB with the few million distinct words of arXiv).

`Vocabulary.open(path)` reads it through the small Mapping-like views below, so the answerer's
code is the same for the file and for an in-memory Vocabulary (tests, older serving folders)."""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path


def write(df: dict[str, int], n_docs: int, path: Path, acronyms: tuple[dict[str, str], dict[str, str]] = ({}, {})) -> None:
    """Write the tables for these document frequencies and the corpus's abbreviations
    (assistant/acronyms.py; the caller renames the file into place)."""
    from .words import deletion_index, stem_counts

    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("CREATE TABLE meta (k TEXT PRIMARY KEY, v INTEGER)")
        db.execute("CREATE TABLE df (k TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID")
        db.execute("CREATE TABLE stems (k TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID")
        db.execute("CREATE TABLE deletes (k TEXT, w TEXT, PRIMARY KEY (k, w)) WITHOUT ROWID")
        db.execute("CREATE TABLE acronyms (k TEXT PRIMARY KEY, n TEXT) WITHOUT ROWID")  # "tts" -> "text-to-speech|..."
        db.execute("CREATE TABLE longforms (k TEXT PRIMARY KEY, n TEXT) WITHOUT ROWID")  # "text-to-speech" -> "tts"
        db.executemany("INSERT INTO acronyms VALUES (?, ?)", acronyms[0].items())
        db.executemany("INSERT INTO longforms VALUES (?, ?)", acronyms[1].items())
        db.execute("INSERT INTO meta VALUES ('n_docs', ?)", (n_docs,))
        db.executemany("INSERT INTO df VALUES (?, ?)", df.items())
        db.executemany("INSERT INTO stems VALUES (?, ?)", stem_counts(df).items())
        # executemany reads the generator row by row: memory stays one row however large the vocabulary.
        db.executemany("INSERT OR IGNORE INTO deletes VALUES (?, ?)", deletion_index(df))
        db.commit()
    finally:
        db.close()


class Connection:
    """One read-only connection, used by the UI's worker threads in turn."""

    def __init__(self, path: Path):
        # immutable=1: the file never changes once published (no locks, no journal reads).
        self._db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        self._lock = threading.Lock()

    def rows(self, sql: str, args=()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()


class Counts(Mapping):
    """word (or stem) -> document frequency, read from one table (or, for the abbreviation
    tables, abbreviation <-> long forms)."""

    def __init__(self, db: Connection, table: str):
        self._db, self._table = db, table

    def __getitem__(self, key: str) -> int:
        rows = self._db.rows(f"SELECT n FROM {self._table} WHERE k = ?", (key,))
        if not rows:
            raise KeyError(key)
        return rows[0][0]

    def __iter__(self) -> Iterator[str]:  # the whole table: only for inspection, never per question
        return iter([k for (k,) in self._db.rows(f"SELECT k FROM {self._table}")])

    def __len__(self) -> int:
        return self._db.rows(f"SELECT count(*) FROM {self._table}")[0][0]

    def starting(self, prefix: str) -> list[str]:
        """The words that begin with prefix, in order (an index range, not a scan)."""
        return [k for (k,) in self._db.rows(f"SELECT k FROM {self._table} WHERE k >= ? AND k < ? ORDER BY k",
                                            (prefix, prefix + "\U0010ffff"))]


class Deletes:
    """deletion -> the corpus words it comes from (typo correction's index)."""

    def __init__(self, db: Connection):
        self._db = db

    def get(self, key: str, default=()) -> list[str]:
        return [w for (w,) in self._db.rows("SELECT w FROM deletes WHERE k = ?", (key,))] or list(default)
