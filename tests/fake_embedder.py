"""A FAKE embedding model, for tests and benchmarks about the ingest pipeline itself (memory,
batching, resuming) at sizes the real model would take hours to embed on 2 cores. Its vectors are
deterministic unit vectors seeded by each text's crc32; its token count is words * 4/3 + 2.
Nothing about answers may be concluded from an index it wrote."""
from __future__ import annotations

import zlib

import numpy as np


class FakeEmbedder:
    def __init__(self, dim: int = 384):
        self.dim = dim
        self.texts = 0  # how many texts it embedded: what a resumed ingest must not redo

    def count_tokens(self, text: str) -> int:
        return len(text.split()) * 4 // 3 + 2

    def count_tokens_batch(self, texts: list[str]) -> list[int]:
        return [self.count_tokens(t) for t in texts]

    def embed(self, texts: list[str], batch_size: int = 64, threads: int = 1) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            v = np.random.default_rng(zlib.crc32(text.encode("utf-8"))).standard_normal(self.dim)
            out[i] = v / np.linalg.norm(v)
        self.texts += len(texts)
        return out
