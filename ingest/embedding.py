"""Embed every chunk and sentence of the papers that need it, in length-sorted batches.
Sorting matters: a batch is padded to its longest text, and sentences (~30 word pieces) mixed
with chunks (~240) would make every batch pay for the long ones."""
from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from assistant.embedder import usable_cores
from assistant.models import Chunk, Paper

PROGRESS_MIN_PAPERS = 50  # below this the bar is noise: it finishes before anyone reads it


@dataclass
class Prepared:
    paper: Paper
    content_hash: str
    sentences: list[str]
    chunks: list[Chunk]
    chunk_vectors: np.ndarray | None = None
    sentence_vectors: np.ndarray | None = None


def embed_prepared(items: list[Prepared], embedder, batch_size: int, progress: bool = True) -> None:
    """Fill chunk_vectors and sentence_vectors of every item in place, on every core (the
    assistant's queries use one thread; ingest is where the cores pay off)."""
    threads = usable_cores()
    texts: list[tuple[str, int, str, int]] = []  # (text, item index, "c"/"s", position)
    for i, item in enumerate(items):
        texts += [(c.text, i, "c", j) for j, c in enumerate(item.chunks)]
        texts += [(s, i, "s", j) for j, s in enumerate(item.sentences)]
    texts.sort(key=lambda t: len(t[0]))
    per_item = [0] * len(items)
    for text, i, _, _ in texts:
        per_item[i] += len(text)
    vectors: dict[tuple[int, str], list] = {}
    for i, item in enumerate(items):
        vectors[(i, "c")] = [None] * len(item.chunks)
        vectors[(i, "s")] = [None] * len(item.sentences)

    bar = None
    if progress and len(items) > PROGRESS_MIN_PAPERS:
        from tqdm import tqdm

        bar = tqdm(total=len(items), unit="paper", desc="embedding", file=sys.stderr,
                   bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total} papers "
                              "[{elapsed}<{remaining}, {rate_fmt}]")
    try:
        for b in range(0, len(texts), batch_size):
            batch = texts[b:b + batch_size]
            out = embedder.embed([t[0] for t in batch], batch_size=batch_size, threads=threads)
            for (_, i, kind, j), vec in zip(batch, out):
                vectors[(i, kind)][j] = vec
            if bar is not None:
                # Texts go shortest first, so papers finish out of order: each text counts for its
                # share of its paper's characters, which keeps the rate (and so the ETA) honest.
                bar.update(sum(len(t[0]) / max(per_item[t[1]], 1) for t in batch))
    finally:
        if bar is not None:
            bar.close()
    dim = embedder.dim
    for i, item in enumerate(items):
        item.chunk_vectors = np.asarray(vectors[(i, "c")], dtype=np.float32).reshape(-1, dim)
        item.sentence_vectors = np.asarray(vectors[(i, "s")], dtype=np.float32).reshape(-1, dim)
