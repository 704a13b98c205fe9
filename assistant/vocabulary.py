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

from collections import Counter

from .acronyms import paper_definitions, tables
from .words import Vocabulary, content_words, language_of, prose

# Versioned: words-3 leaves URLs and contraction endings out (see words.prose, words.words); words-4
# leaves "published" out (a request word now); words-5 chat abbreviations ("pls", "esp"); an index
# built before re-counts once.
# words-6 adds the abbreviations the abstracts define (assistant/acronyms.py).
CACHE = "words-6.json"
TABLE = "words-6.sqlite"  # the same counts as a table serving processes read on demand (vocabtable.py)


def _paper_of(row: tuple[str, str, dict]) -> str:
    return row[2]["paper_id"]


def _document_frequencies(store) -> tuple[dict[str, int], int, Counter]:
    """Papers using each word, and each abbreviation definition. Chunks are taken paper by paper,
    so only one paper's word set is held at a time (a set per paper for the whole corpus was the
    largest part of a build)."""
    df: dict[str, int] = {}
    defined: Counter = Counter()
    papers = 0
    for _, chunks in groupby(sorted(store.all_chunks(), key=_paper_of), key=_paper_of):
        papers += 1
        texts = [prose(text) for _, text, _ in chunks]
        for w in set().union(*(content_words(text) for text in texts)):
            df[w] = df.get(w, 0) + 1
        defined.update(paper_definitions(texts))
    return df, papers, defined


def _publish(folder: Path, name: str, write) -> Path | None:
    """write(path) into a file aside, then renamed to folder/name: a concurrent reader never sees
    half a file. None when the folder is not writable (a read-only index still answers)."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".words-", dir=folder)
        os.close(fd)
        write(Path(tmp))  # an empty file is an empty SQLite database too
        os.replace(tmp, folder / name)
        return folder / name
    except (OSError, sqlite3.Error):
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        return None


def publish_table(df: dict[str, int], n_docs: int, folder: Path, acronyms=({}, {})) -> Path | None:
    """The vocabulary table beside the serving data (what serving processes read)."""
    from . import vocabtable

    return _publish(folder, TABLE, lambda path: vocabtable.write(df, n_docs, path, acronyms))


def load_vocabulary(store, serving) -> Vocabulary:
    folder = Path(getattr(serving, "folder", "") or "")
    language_of("warm the word frequency lists up once: the first lookup loads them")
    if (folder / TABLE).exists():
        return Vocabulary.open(folder / TABLE)
    try:
        data = json.loads((folder / CACHE).read_text(encoding="utf-8"))
        df, n_docs, acronyms = data["df"], int(data["papers"]), tuple(data["acronyms"])
    except (OSError, ValueError, KeyError, TypeError):
        df, n_docs, defined = _document_frequencies(store)
        acronyms = tables(defined)
        if folder.is_dir():
            _publish(folder, CACHE, lambda p: p.write_text(json.dumps(
                {"papers": n_docs, "df": df, "acronyms": acronyms}, ensure_ascii=False), encoding="utf-8"))
    # Serving data built before the table (or one whose build could not write it): written now, once.
    table = publish_table(df, n_docs, folder, acronyms) if folder.is_dir() else None
    return Vocabulary.open(table) if table else Vocabulary.from_counts(df, n_docs, acronyms)
