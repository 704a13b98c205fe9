"""The keyword (BM25) index over chunks: built once at ingest with bm25s (assistant/keyword_build.py,
page by page), saved next to the index, loaded memory-mapped by every serving process instead of being rebuilt from every chunk.

It tokenizes as the llama-index BM25Retriever the assistant used before (same bm25s calls, same
English stemmer and stopwords), but over what a reader searches for: the chunk's text (title and
abstract sentences) and the authors' names. llama-index also indexed the metadata lines (URLs,
content hash, the source file's absolute path, field names), so a checkout path or a hash could
match a query and ranking depended on where the corpus lay (tests/test_retrieve.py)."""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # llama-index BM25Retriever's default
VOCAB_STEMS, VOCAB_IDS = "vocab_stems.npy", "vocab_ids.npy"  # the vocabulary, sorted by stem (UTF-8 bytes)


def keyword_text(text: str, meta: dict) -> str:
    """What BM25 indexes for a chunk: its text (the title, then abstract sentences) and the
    authors. No URLs, hashes, paths or field names: they are not what a question asks about."""
    try:
        authors = json.loads(meta.get("authors") or "[]")
    except (TypeError, ValueError):
        authors = []
    names = ", ".join(a for a in authors if isinstance(a, str))
    return f"{text}\n{names}" if names else text


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


class Strings(Sequence):
    """A memory-mapped fixed-width bytes array read as a sequence of str (decoded per item)."""

    def __init__(self, array: np.ndarray):
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [b.decode() for b in self.array[i]]
        return self.array[i].decode()


class MappedVocab:
    """stem -> term id, the two lookups bm25s makes on its vocab_dict for a query of words
    (`in`, `[]`), answered by binary search in the memory-mapped sorted stems: no dict of every
    stem in every process."""

    def __init__(self, stems: np.ndarray, ids: np.ndarray):
        self.stems, self.ids = stems, ids

    def _find(self, token: str) -> int | None:
        key = token.encode()
        if len(key) > self.stems.dtype.itemsize:  # would be cut to the width and match wrongly
            return None
        i = int(np.searchsorted(self.stems, key))
        return i if i < len(self.stems) and self.stems[i] == key else None

    def __contains__(self, token) -> bool:
        return isinstance(token, str) and self._find(token) is not None

    def __getitem__(self, token: str) -> int:
        i = self._find(token)
        if i is None:
            raise KeyError(token)
        return int(self.ids[i])


class KeywordIndex:
    """bm25s over chunk texts; rows are addressed by position, ids/dates held alongside."""

    def __init__(self, bm25, chunk_ids: Sequence[str], paper_ids: Sequence[str], date_nums: np.ndarray):
        self.bm25 = bm25
        self.chunk_ids = chunk_ids
        self.paper_ids = paper_ids
        self.date_nums = date_nums
        self._stem = _stemmer()

    def __len__(self) -> int:
        return len(self.chunk_ids)

    @classmethod
    def build(cls, rows: list[tuple[str, str, dict]], date_nums) -> "KeywordIndex":
        """An index of these rows in memory (tests, tools), built as the serving data builds one."""
        import tempfile

        from .keyword_build import KeywordBuilder

        with tempfile.TemporaryDirectory(prefix="paperchat-keyword-") as tmp:
            builder = KeywordBuilder(Path(tmp) / "keyword", Path(tmp), block=1_000_000)
            builder.add(rows, list(date_nums))
            builder.finish()
            return cls.load(Path(tmp) / "keyword", mmap=False)

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> "KeywordIndex":
        """Written by assistant/keyword_build.py."""
        import bm25s

        # mmap: the score matrix stays in the page cache, shared by every process on the machine;
        # so do the ids (a list of every chunk id and paper id was ~50 MB a process at 100k papers).
        mode, bm25 = ("r" if mmap else None), None
        if (folder / "params.index.json").exists():
            mapped = (folder / VOCAB_STEMS).exists()  # else an older build: bm25s's own dict
            bm25 = bm25s.BM25.load(str(folder), mmap=mmap, load_vocab=not mapped, show_progress=False)
            if mapped:  # only queries of words are asked (never of ids, which need bm25s's id set)
                bm25.vocab_dict = MappedVocab(np.load(folder / VOCAB_STEMS, mmap_mode=mode),
                                              np.load(folder / VOCAB_IDS, mmap_mode=mode))
        return cls(bm25, Strings(np.load(folder / "chunk_ids.npy", mmap_mode=mode)),
                   Strings(np.load(folder / "paper_ids.npy", mmap_mode=mode)),
                   np.load(folder / "date_num.npy", mmap_mode=mode))

    def positions_in(self, date_window: tuple[int, int]) -> np.ndarray:
        """Row positions of the chunks dated inside the window (one pass over the mapped dates)."""
        low, high = date_window
        return np.flatnonzero((self.date_nums >= low) & (self.date_nums <= high))

    def search(self, query: str, k: int, date_window: tuple[int, int] | None = None) -> list[tuple[str, str, float]]:
        """(chunk id, paper id, BM25 score), best first. With a date window, chunks outside it are masked out
        inside the scoring, so in-window chunks fill all k places whenever enough of them match.
        Chunks sharing no word with the query are not hits."""
        import bm25s

        if not len(self.chunk_ids) or self.bm25 is None:
            return []
        k = min(k, len(self.chunk_ids))
        mask = None
        if date_window is not None:
            low, high = date_window
            mask = ((self.date_nums >= low) & (self.date_nums <= high)).astype(np.float32)
            k = min(k, int(mask.sum()))
            if k == 0:
                return []
        tokens = bm25s.tokenize(query, stemmer=self._stem, token_pattern=TOKEN_PATTERN, show_progress=False)
        docs, scores = self.bm25.retrieve(tokens, k=k, show_progress=False, weight_mask=mask)
        out = []
        for idx, score in zip(docs[0], scores[0]):
            if mask is not None and not mask[int(idx)]:
                continue
            if score <= 0:  # bm25s fills k places with chunks sharing no word with the query
                break
            out.append((self.chunk_ids[int(idx)], self.paper_ids[int(idx)], float(score)))
        return out
