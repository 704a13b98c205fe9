"""One ingest's inputs held on disk, not in memory: records are merged into papers as they are
read (the same rules as papers.merge_records), then read back in input order a batch at a time.

The store is a private SQLite temp file (`sqlite3.connect("")`): SQLite unlinks it the moment it
is opened, so it is gone when the ingest ends in any way, a SIGKILL included, and the next run
never meets a leftover. It lives in SQLite's temp folder (SQLITE_TMPDIR, else TMPDIR, else
/var/tmp or /tmp) and takes about as much disk as the records' text (~2.5 kB a paper)."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from typing import Iterator

from assistant.ids import normalise_title
from assistant.models import Paper

from .links import strip_version
from .papers import resolve_id
from .records import RawRecord

# Pages SQLite keeps in memory (negative = KiB): what the spool costs in RAM however large the corpus.
CACHE_KIB = 8192

# A paper's state after comparing with the index.
ADDED, CHANGED, UNCHANGED = 0, 1, 2

_SCHEMA = """
CREATE TABLE groups (id INTEGER PRIMARY KEY, rid TEXT);          -- one per paper, in first-seen order
CREATE TABLE keys (key TEXT PRIMARY KEY, grp INTEGER) WITHOUT ROWID;  -- "a:<arXiv id>" / "t:<title>"
CREATE TABLE records (seq INTEGER PRIMARY KEY, grp INTEGER, data TEXT);  -- every copy, input order
CREATE TABLE papers (grp INTEGER PRIMARY KEY, paper_id TEXT, hash TEXT, state INTEGER, data TEXT);
CREATE TABLE ids (paper_id TEXT PRIMARY KEY) WITHOUT ROWID;      -- every paper id in the inputs
CREATE TABLE gone (n INTEGER PRIMARY KEY, paper_id TEXT);        -- indexed, not in the inputs
"""


class Spool:
    def __init__(self, id_map: dict[str, str]):
        self.id_map = id_map
        self.db = sqlite3.connect("", isolation_level=None)
        self.db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self.db.executescript(_SCHEMA)
        self.records = 0  # kept records so far

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Spool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- pass 1: records in, merged on insert ---------------------------------------------------
    def begin_file(self) -> None:
        """A file's records go in as one transaction: a file found unreadable half-way is dropped whole."""
        self.db.execute("BEGIN")
        self._file_records = 0

    def end_file(self, keep: bool) -> None:
        self.db.execute("COMMIT" if keep else "ROLLBACK")
        if keep:
            self.records += self._file_records

    def add(self, record: RawRecord) -> None:
        """papers.merge_records, one record at a time: same arXiv id, or same normalised title and
        no conflicting id, is the same paper."""
        rid = resolve_id(record, self.id_map)
        tkey = f"t:{normalise_title(record.title)}"
        akey = f"a:{strip_version(rid)}" if rid else None
        group = self._key(akey) if akey else None
        if group is None:
            group = self._key(tkey)
            # Two different ids with one title (arXiv "Erratum", "Comment on ...") stay two papers.
            if group is not None and rid and self._rid(group):
                group = None
        if group is None:
            group = self.db.execute("INSERT INTO groups (rid) VALUES (NULL)").lastrowid
        self.db.execute("INSERT INTO records (grp, data) VALUES (?, ?)", (group, json.dumps(asdict(record))))
        self._file_records += 1
        group_rid = self._rid(group)
        if not group_rid and rid:
            group_rid = rid
            self.db.execute("UPDATE groups SET rid = ? WHERE id = ?", (rid, group))
        self.db.execute("INSERT OR IGNORE INTO keys VALUES (?, ?)", (tkey, group))
        if group_rid:
            self.db.execute("INSERT OR IGNORE INTO keys VALUES (?, ?)", (f"a:{strip_version(group_rid)}", group))

    def _key(self, key: str) -> int | None:
        row = self.db.execute("SELECT grp FROM keys WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _rid(self, group: int) -> str | None:
        return self.db.execute("SELECT rid FROM groups WHERE id = ?", (group,)).fetchone()[0]

    def finish_reading(self) -> None:
        self.db.execute("CREATE INDEX records_grp ON records (grp, seq)")

    @property
    def papers(self) -> int:
        return self.db.execute("SELECT count(*) FROM groups").fetchone()[0]

    # ---- pass 2: papers out, in input order -----------------------------------------------------
    def merged(self, size: int) -> Iterator[list[tuple[int, RawRecord, str | None, list[RawRecord]]]]:
        """Batches of (paper number, best record, arXiv id, all copies), as merge_records returns them."""
        after = 0
        while True:
            groups = self.db.execute("SELECT id, rid FROM groups WHERE id > ? ORDER BY id LIMIT ?",
                                     (after, size)).fetchall()
            if not groups:
                return
            copies: dict[int, list[RawRecord]] = {g: [] for g, _ in groups}
            for g, data in self.db.execute("SELECT grp, data FROM records WHERE grp BETWEEN ? AND ? ORDER BY grp, seq",
                                           (groups[0][0], groups[-1][0])):
                copies[g].append(RawRecord(**json.loads(data)))
            # max() keeps the first of equally long abstracts, so the earliest file stays the source.
            yield [(g, max(copies[g], key=lambda r: len(r.abstract)), rid, copies[g]) for g, rid in groups]
            after = groups[-1][0]

    def mark(self, rows: list[tuple[int, Paper, str, int]]) -> None:
        """(paper number, paper, content hash, state) after comparing with the index; the paper
        itself is kept only when it is to be written."""
        self.db.execute("BEGIN")
        self.db.executemany(
            "INSERT INTO papers VALUES (?, ?, ?, ?, ?)",
            [(g, p.paper_id, h, state, None if state == UNCHANGED else p.model_dump_json()) for g, p, h, state in rows])
        self.db.executemany("INSERT OR IGNORE INTO ids VALUES (?)", [(p.paper_id,) for _, p, _, _ in rows])
        self.db.execute("COMMIT")

    def count(self, state: int) -> int:
        return self.db.execute("SELECT count(*) FROM papers WHERE state = ?", (state,)).fetchone()[0]

    def has(self, paper_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM ids WHERE paper_id = ?", (paper_id,)).fetchone() is not None

    def todo(self, size: int) -> Iterator[list[tuple[Paper, str]]]:
        """Batches of (paper, content hash) to write, in input order."""
        after = -1
        while True:
            rows = self.db.execute("SELECT grp, data, hash FROM papers WHERE grp > ? AND state != ? ORDER BY grp LIMIT ?",
                                   (after, UNCHANGED, size)).fetchall()
            if not rows:
                return
            yield [(Paper.model_validate_json(data), h) for _, data, h in rows]
            after = rows[-1][0]

    def add_gone(self, paper_ids: list[str]) -> None:
        self.db.execute("BEGIN")
        self.db.executemany("INSERT INTO gone (paper_id) VALUES (?)", [(p,) for p in paper_ids])
        self.db.execute("COMMIT")

    def gone_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM gone").fetchone()[0]

    def gone(self, size: int) -> Iterator[list[str]]:
        """The indexed papers not in the inputs, `size` ids at a time, in index order."""
        after = 0
        while True:
            rows = self.db.execute("SELECT n, paper_id FROM gone WHERE n > ? ORDER BY n LIMIT ?", (after, size)).fetchall()
            if not rows:
                return
            yield [pid for _, pid in rows]
            after = rows[-1][0]
