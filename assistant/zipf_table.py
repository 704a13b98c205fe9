"""wordfreq's Zipf frequencies, read from a SQLite table instead of wordfreq's in-memory lists.

Deciding a question's language and its filler words looks up each word in seven languages;
wordfreq loads each language's whole list (300k-630k words) on first use: ~1.7 CPU-seconds and
~230 MB in every fresh `paperchat ask` and every replica. The table holds wordfreq's frequency of
every lowercase letters-and-digits token (`[a-z0-9]+`, which wordfreq tokenizes to itself; numbers
0-9999 as wordfreq estimates them), built once into the user's cache (`make install` does it) and
written aside then renamed, so concurrent first uses cannot corrupt it. A word made of such tokens
("fine-tuned", "gpt-2", "text-to-image", "2024") is combined the way wordfreq combines tokens
(1/f = 1/f1 + 1/f2 ...), so it gets the same value without wordfreq. Any other word ("1.5b",
accented or non-Latin letters), or a missing table, goes to wordfreq itself.
tests/test_zipf_table.py compares the two.
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
TOKEN = re.compile(r"^[a-z0-9]+$")
# A run of digits: wordfreq looks such a token up with its digits as zeros plus an estimate for the
# number, so the table holds only whole numbers up to 4 digits (computed by wordfreq) and leaves other
# tokens with one ("gpt2024") to wordfreq.
MULTI_DIGIT = re.compile(r"\d\d")
# How wordfreq splits an English-like word into tokens here: at hyphens (other punctuation inside a
# word, e.g. "1.5b", is left to wordfreq).
SPLIT = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SCHEMA = 2  # 2: raw frequencies of [a-z0-9]+ tokens and numbers (1: Zipf values of [a-z]+ words)
_local = threading.local()


def table_path() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "paperchat" / "wordfreq"
    try:
        version = metadata.version("wordfreq")
    except metadata.PackageNotFoundError:
        version = "none"
    return base / f"zipf{SCHEMA}-{version}-{'-'.join(LANGS)}.sqlite"


def _zipf_of(freq: float) -> float:
    """wordfreq.zipf_frequency's arithmetic (minimum 0, i.e. 1e-9) for a word found with freq."""
    unrounded = max(freq, 1e-9)
    leading_zeroes = math.floor(-math.log(unrounded, 10))
    return round(math.log(round(unrounded, leading_zeroes + 3), 10) + 9, 2)


def _rounded(freq: float) -> float:
    """wordfreq.word_frequency's rounding to 3 significant digits."""
    if freq <= 0.0:
        return 0.0
    return round(freq, math.floor(-math.log(freq, 10)) + 3)


def build(path: Path | None = None) -> Path:
    from wordfreq import get_frequency_dict, word_frequency

    path = path or table_path()
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".zipf-", suffix=".sqlite", dir=path.parent)
    os.close(fd)
    try:
        db = sqlite3.connect(tmp)
        db.execute("CREATE TABLE freq (lang TEXT, word TEXT, value REAL, PRIMARY KEY (lang, word)) WITHOUT ROWID")
        for lang in LANGS:
            rows = ((lang, w, f) for w, f in get_frequency_dict(lang, wordlist="best").items()
                    if TOKEN.match(w) and not MULTI_DIGIT.search(w))
            db.executemany("INSERT INTO freq VALUES (?, ?, ?)", rows)
            numbers = ((lang, str(n), word_frequency(str(n), lang)) for n in range(10000))
            db.executemany("INSERT OR REPLACE INTO freq VALUES (?, ?, ?)", ((lg, w, f) for lg, w, f in numbers if f > 0))
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
    if lang in LANGS and SPLIT.match(word):
        db = _db()
        tokens = word.split("-")
        if db and all((t.isdigit() and len(t) <= 4) or not MULTI_DIGIT.search(t) for t in tokens):
            one_over = 0.0
            for token in tokens:
                row = db.execute("SELECT value FROM freq WHERE lang = ? AND word = ?", (lang, token)).fetchone()
                if not row or row[0] <= 0:
                    return 0.0  # wordfreq: any token missing gives the minimum
                one_over += 1.0 / row[0]
            return _zipf_of(_rounded(1.0 / one_over))
    from wordfreq import zipf_frequency as exact

    return exact(word, lang)


if __name__ == "__main__":
    print(f"paperchat: word frequency table at {build()}")
