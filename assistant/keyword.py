"""The keyword (BM25) index over chunks: built once at ingest with bm25s, saved next to the index,
loaded memory-mapped by every serving process instead of being rebuilt from every chunk.

It tokenizes as the llama-index BM25Retriever the assistant used before (same bm25s calls, same
English stemmer and stopwords), but over what a reader searches for: the chunk's text (title and
abstract sentences) and the authors' names. llama-index also indexed the metadata lines (URLs,
content hash, the source file's absolute path, field names), so a checkout path or a hash could
match a query and ranking depended on where the corpus lay (tests/test_retrieve.py)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # llama-index BM25Retriever's default


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


class KeywordIndex:
    """bm25s over chunk texts; rows are addressed by position, ids/dates held alongside."""

    def __init__(self, bm25, chunk_ids: list[str], paper_ids: list[str], date_nums: np.ndarray):
        self.bm25 = bm25
        self.chunk_ids = chunk_ids
        self.paper_ids = paper_ids
        self.date_nums = date_nums
        self._stem = _stemmer()

    def __len__(self) -> int:
        return len(self.chunk_ids)

    @classmethod
    def build(cls, rows: list[tuple[str, str, dict]], date_nums: np.ndarray) -> "KeywordIndex":
        import bm25s

        if not rows:  # an index with every paper pruned: nothing to search, nothing to fit
            return cls(None, [], [], np.zeros(0, dtype=np.int32))
        tokens = bm25s.tokenize([keyword_text(text, meta) for _, text, meta in rows], stopwords="en",
                                stemmer=_stemmer(), token_pattern=TOKEN_PATTERN, show_progress=False)
        bm25 = bm25s.BM25()
        bm25.index(tokens, show_progress=False)
        return cls(bm25, [cid for cid, _, _ in rows], [meta["paper_id"] for _, _, meta in rows],
                   np.asarray(date_nums, dtype=np.int32))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.bm25 is not None:
            self.bm25.save(str(folder), show_progress=False)
        (folder / "chunks.json").write_text(json.dumps({"ids": self.chunk_ids, "papers": self.paper_ids}))
        np.save(folder / "date_num.npy", self.date_nums)

    @classmethod
    def load(cls, folder: Path) -> "KeywordIndex":
        import bm25s

        # mmap: the score matrix stays in the page cache, shared by every process on the machine.
        bm25 = None
        if (folder / "params.index.json").exists():
            bm25 = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        chunks = json.loads((folder / "chunks.json").read_text())
        return cls(bm25, chunks["ids"], chunks["papers"], np.load(folder / "date_num.npy", mmap_mode="r"))

    def positions_in(self, date_window: tuple[int, int]) -> np.ndarray:
        """Row positions of the chunks dated inside the window (one pass over the mapped dates)."""
        low, high = date_window
        return np.flatnonzero((self.date_nums >= low) & (self.date_nums <= high))

    def search(self, query: str, k: int, date_window: tuple[int, int] | None = None) -> list[tuple[str, str, float]]:
        """(chunk id, paper id, BM25 score), best first. With a date window, chunks outside it are masked out
        inside the scoring, so in-window chunks fill all k places whenever enough of them match.
        Chunks sharing no word with the query are not hits."""
        import bm25s

        if not self.chunk_ids or self.bm25 is None:
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
