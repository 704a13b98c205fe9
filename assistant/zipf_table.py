"""wordfreq's Zipf frequencies, read from a SQLite table instead of wordfreq's in-memory lists.

Deciding a question's language and its filler words looks up each word in seven languages;
wordfreq loads each language's whole list (300k-630k words) on first use: ~1.7 CPU-seconds and
~230 MB in every fresh `paperchat ask`. The table holds the same values for plain lowercase words
(`[a-z]+`, which wordfreq tokenizes to themselves), built once into the user's cache (`make install`
does it) and written aside then renamed, so concurrent first uses cannot corrupt it. Any other
word, or a missing table, goes to wordfreq itself. tests/test_zipf_table.py compares the two.
"""
from __future__ import annotations

import math
import os
import re
import sqlite3
import tempfile
import threading
from importlib import metadata
from pathlib import Path

LANGS = ("en", "es", "fr", "de", "it", "pt", "nl")
PLAIN = re.compile(r"^[a-z]+$")
_local = threading.local()


def table_path() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "paperchat" / "wordfreq"
    try:
        version = metadata.version("wordfreq")
    except metadata.PackageNotFoundError:
        version = "none"
    return base / f"zipf-{version}-{'-'.join(LANGS)}.sqlite"


def _zipf_of(freq: float) -> float:
    """wordfreq.zipf_frequency's arithmetic (minimum 0, i.e. 1e-9) for a word found with freq."""
    freq = 1.0 / (1.0 / freq)  # as _word_frequency combines one token's frequency
    unrounded = max(freq, 1e-9)
    leading_zeroes = math.floor(-math.log(unrounded, 10))
    return round(math.log(round(unrounded, leading_zeroes + 3), 10) + 9, 2)


def build(path: Path | None = None) -> Path:
    from wordfreq import get_frequency_dict

    path = path or table_path()
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".zipf-", suffix=".sqlite", dir=path.parent)
    os.close(fd)
    try:
        db = sqlite3.connect(tmp)
        db.execute("CREATE TABLE zipf (lang TEXT, word TEXT, value REAL, PRIMARY KEY (lang, word)) WITHOUT ROWID")
        for lang in LANGS:
            rows = ((lang, w, _zipf_of(f)) for w, f in get_frequency_dict(lang, wordlist="best").items()
                    if PLAIN.match(w))
            db.executemany("INSERT INTO zipf VALUES (?, ?, ?)", rows)
        db.commit()
        db.close()
        os.replace(tmp, path)  # concurrent builders write the same content; the last rename wins
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _db():
    db = getattr(_local, "db", None)
    if db is None:
        path = table_path()
        if not path.exists():
            try:
                build(path)
            except Exception:  # no cache dir, no wordfreq data: wordfreq answers directly
                _local.db = False
                return False
        db = _local.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    return db


def zipf_frequency(word: str, lang: str = "en") -> float:
    """Same value as wordfreq.zipf_frequency(word, lang)."""
    if lang in LANGS and PLAIN.match(word):
        db = _db()
        if db:
            row = db.execute("SELECT value FROM zipf WHERE lang = ? AND word = ?", (lang, word)).fetchone()
            return row[0] if row else 0.0
    from wordfreq import zipf_frequency as exact

    return exact(word, lang)


if __name__ == "__main__":
    print(f"paperchat: word frequency table at {build()}")
