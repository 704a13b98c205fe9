"""Paper metadata of one serving generation, on disk and read on demand: a read-only SQLite file
(`papers.sqlite` beside the keyword index) that every process on the machine shares through the
page cache, instead of a dict of every paper in every process (which grew with the corpus: about
1.2 kB a paper, over 1 GB per replica at a million papers).

It is a Mapping paper_id -> metadata (what chunk 0 of the paper carries), so code written for the
dict keeps working; recent lookups are cached, and `many()` fetches a batch in one query."""
from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path

FILE = "papers.sqlite"
CACHE_PAPERS = 20_000  # metadata kept in memory per process (~1.2 kB each): more is more RSS, fewer misses
BATCH = 500  # ids per `IN (...)` query: under SQLite's variable limit


def title_key(title: str) -> str:
    """A title as the words a user types ("similar to “<title>”" finds it by these)."""
    from .words import words

    return " ".join(words(title or ""))


def write(papers, folder: Path) -> None:
    """Write the table from (paper_id, metadata) pairs, streamed (the caller publishes the folder atomically)."""
    db = sqlite3.connect(folder / FILE)
    try:
        db.execute("CREATE TABLE papers (paper_id TEXT PRIMARY KEY, url TEXT, title_key TEXT, meta TEXT) WITHOUT ROWID")
        db.executemany("INSERT INTO papers VALUES (?, ?, ?, ?)",
                       ((pid, m.get("url") or "", title_key(m.get("title", "")), json.dumps(m, ensure_ascii=False))
                        for pid, m in papers))
        db.execute("CREATE INDEX papers_url ON papers (url)")
        db.execute("CREATE INDEX papers_title ON papers (title_key)")
        db.commit()
    finally:
        db.close()


class PaperTable(Mapping):
    def __init__(self, folder: Path, count: int):
        # immutable=1: the file never changes once published, so no locks and no journal reads,
        # and it opens on a read-only mount; a pruned generation's file stays readable while open.
        self._db = sqlite3.connect(f"file:{folder / FILE}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        self._lock = threading.Lock()  # one connection, used by the UI's worker threads in turn
        self._count = count
        self._cache: OrderedDict[str, dict | None] = OrderedDict()

    def _query(self, sql: str, args=()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _remember(self, pid: str, meta: dict | None) -> None:
        self._cache[pid] = meta
        if len(self._cache) > CACHE_PAPERS:
            self._cache.popitem(last=False)

    def many(self, paper_ids) -> dict[str, dict]:
        """The metadata of these papers (those that exist), read in batches, cached."""
        out, missing = {}, []
        for pid in dict.fromkeys(paper_ids):
            if pid in self._cache:
                self._cache.move_to_end(pid)
                if self._cache[pid] is not None:
                    out[pid] = self._cache[pid]
            else:
                missing.append(pid)
        for start in range(0, len(missing), BATCH):
            part = missing[start:start + BATCH]
            rows = self._query(f"SELECT paper_id, meta FROM papers WHERE paper_id IN ({','.join('?' * len(part))})", part)
            found = {pid: json.loads(meta) for pid, meta in rows}
            for pid in part:
                self._remember(pid, found.get(pid))
            out.update(found)
        return out

    def __getitem__(self, paper_id: str) -> dict:
        meta = self.many([paper_id]).get(paper_id)
        if meta is None:
            raise KeyError(paper_id)
        return meta

    def __contains__(self, paper_id) -> bool:
        return isinstance(paper_id, str) and paper_id in self.many([paper_id])

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        return iter([pid for (pid,) in self._query("SELECT paper_id FROM papers")])

    def items(self):
        """Every paper, streamed from the file (uncached): for scripts and the eval, not per question."""
        return [(pid, json.loads(meta)) for pid, meta in self._query("SELECT paper_id, meta FROM papers")]

    def values(self):
        return [meta for _, meta in self.items()]

    def by_url(self, url: str) -> str | None:
        rows = self._query("SELECT paper_id FROM papers WHERE url = ? LIMIT 1", (url,))
        return rows[0][0] if rows else None

    def by_title(self, key: str) -> str | None:
        """The paper whose title has these words (title_key), if any."""
        rows = self._query("SELECT paper_id FROM papers WHERE title_key = ? ORDER BY paper_id LIMIT 1", (key,))
        return rows[0][0] if rows else None


class UrlIndex:
    """url -> paper_id, the one lookup core.py makes (`.get`), answered from the table."""

    def __init__(self, table: PaperTable):
        self.table = table

    def get(self, url: str, default=None):
        return self.table.by_url(url) or default
