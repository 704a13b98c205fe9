"""The corpus vocabulary the answerer weighs question words with: each word's document frequency
(papers using it), for IDF and typo correction. Built once per index generation from the chunks
and cached as words.json beside that generation's serving data, so later processes only read it."""
from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from itertools import groupby
from pathlib import Path

from .words import Vocabulary, content_words, language_of, prose

# Versioned: words-3 leaves URLs and contraction endings out (see words.prose, words.words); words-4
# leaves "published" out (a request word now); words-5 chat abbreviations ("pls", "esp"); an index
# built before re-counts once.
CACHE = "words-5.json"
TABLE = "words-5.sqlite"  # the same counts as a table serving processes read on demand (vocabtable.py)


def _paper_of(row: tuple[str, str, dict]) -> str:
    return row[2]["paper_id"]


def _document_frequencies(store) -> tuple[dict[str, int], int]:
    """Papers using each word. Chunks are taken paper by paper, so only one paper's word set is
    held at a time (a set per paper for the whole corpus was the largest part of a build)."""
    df: dict[str, int] = {}
    papers = 0
    for _, chunks in groupby(sorted(store.all_chunks(), key=_paper_of), key=_paper_of):
        papers += 1
        for w in set().union(*(content_words(prose(text)) for _, text, _ in chunks)):
            df[w] = df.get(w, 0) + 1
    return df, papers


def publish_table(df: dict[str, int], n_docs: int, folder: Path) -> Path | None:
    """Write the vocabulary table beside the serving data, aside and renamed into place (a
    concurrent reader never sees half a file). None when the folder is not writable."""
    from . import vocabtable

    try:
        fd, tmp = tempfile.mkstemp(prefix=".words-", suffix=".sqlite", dir=folder)
        os.close(fd)
        os.unlink(tmp)  # sqlite creates it
        vocabtable.write(df, n_docs, Path(tmp))
        os.replace(tmp, folder / TABLE)
        return folder / TABLE
    except (OSError, sqlite3.Error):
        try:
            os.unlink(tmp)
        except (OSError, UnboundLocalError):
            pass
        return None


def load_vocabulary(store, serving) -> Vocabulary:
    folder = Path(getattr(serving, "folder", "") or "")
    language_of("warm the word frequency lists up once: the first lookup loads them")
    if (folder / TABLE).exists():
        return Vocabulary.open(folder / TABLE)
    path = folder / CACHE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        df, n_docs = data["df"], int(data["papers"])
    except (OSError, ValueError, KeyError, TypeError):
        df, n_docs = _document_frequencies(store)
        if folder.is_dir():
            try:  # written aside and renamed: a concurrent reader never sees half a file
                fd, tmp = tempfile.mkstemp(prefix=".words-", dir=folder)
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump({"papers": n_docs, "df": df}, f, ensure_ascii=False)
                os.replace(tmp, path)
            except OSError:
                pass  # a read-only index still answers; the next process recomputes
    # Serving data built before the table (or one whose build could not write it): written now, once.
    table = publish_table(df, n_docs, folder) if folder.is_dir() else None
    return Vocabulary.open(table) if table else Vocabulary.from_counts(df, n_docs)
