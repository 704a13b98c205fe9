"""The embedding model exported to ONNX once, by a maintained exporter (transformers' own
`transformers.exporters.OnnxExporter`, torch.export + torch.onnx + onnxscript), into a cache keyed
by the model and the exporter's versions. (optimum-onnx, which sentence-transformers' ONNX backend
uses, pins transformers < 4.58 and cannot be installed beside transformers 5.)

Only this module imports torch, and only when no export is cached yet: a process that finds the
export answers with onnxruntime + tokenizers alone.

    python -m assistant.onnx_export [MODEL]     # warm the cache (make install does it)
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from .errors import PaperchatError

EXPORTER_PACKAGES = ("transformers", "torch", "onnxscript")
DONE = "paperchat-export.json"  # written last: a folder without it is an interrupted export
RECIPE = 2  # bump when _export changes what it writes: the cache key changes with it


def cache_root() -> Path:
    base = os.environ.get("PAPERCHAT_ONNX_CACHE")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "paperchat" / "onnx"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "none"


def export_key(name: str, path: Path) -> str:
    """Changes when the weights or the exporter change. The weights are identified by size and
    mtime, not a hash: hashing 90 MB on every start would cost more than the export check saves."""
    weights = sorted(p for p in path.iterdir() if p.suffix in (".safetensors", ".bin"))
    ident = [str(path.resolve())] + [f"{p.name}:{p.stat().st_size}:{int(p.stat().st_mtime)}" for p in weights]
    digest = hashlib.sha256("\n".join(ident).encode()).hexdigest()[:12]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(name).name)
    exporter = "-".join(f"{p}{_version(p)}" for p in EXPORTER_PACKAGES)
    return f"{safe}-{digest}/{exporter}-r{RECIPE}"


def cached_export(name: str, path: Path) -> Path | None:
    folder = cache_root() / export_key(name, path)
    return folder if (folder / DONE).exists() and (folder / "model.onnx").exists() else None


def ensure_export(name: str, path: Path) -> Path:
    """The folder holding model.onnx and tokenizer.json for this model, exporting it if needed.
    Concurrent first uses each export into a private folder and rename it into place; the loser
    of the race discards its copy, so a reader never sees a half-written export."""
    found = cached_export(name, path)
    if found is not None:
        return found
    final = cache_root() / export_key(name, path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=final.parent))
    try:
        _export(path, tmp)
        (tmp / DONE).write_text(json.dumps({"model": name, "source": str(path),
                                            **{p: _version(p) for p in EXPORTER_PACKAGES}}))
        try:
            os.rename(tmp, final)
        except OSError:  # another process finished first: use its copy
            if cached_export(name, path) is None:
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _export(path: Path, out: Path) -> None:
    try:
        import torch  # noqa: F401  (the exporter traces the torch model)
        from transformers import AutoModel, AutoTokenizer
        from transformers.exporters import OnnxConfig, OnnxExporter
    except ImportError as exc:
        raise PaperchatError(
            f"the ONNX runtime needs a one-time model export, which needs {exc.name}: "
            "pip install onnxscript, or set PAPERCHAT_EMBED_RUNTIME=torch"
        ) from None
    import logging
    import warnings

    import transformers.utils.logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()  # "OnnxExporter is experimental": our test is the check
    # torch.onnx logs every stage and warns about op signatures it does not use: noise on a
    # one-time step whose result tests/test_embedder.py checks against sentence-transformers.
    for logger in ("torch.onnx", "torch._dynamo", "torch.export", "onnxscript"):
        logging.getLogger(logger).setLevel(logging.ERROR)
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
    # Two texts of different lengths, so neither the batch nor the sequence axis is traced as 1.
    sample = dict(tokenizer(["a short one", "a somewhat longer sentence with more words in it"],
                            padding=True, return_tensors="pt"))
    from torch.export import Dim

    # Batch and sequence axes vary; everything else (hidden size, heads) is fixed.
    shapes = {name: {0: Dim.DYNAMIC, 1: Dim.DYNAMIC} for name in sample}
    with warnings.catch_warnings(), _quiet_stdout():
        warnings.simplefilter("ignore")
        exported = OnnxExporter().export(model, sample, OnnxConfig(dynamic_shapes=shapes))
        exported.save_pretrained(out)
    for name in ("tokenizer.json", "config.json"):
        if not (out / name).exists() and (path / name).exists():
            shutil.copy2(path / name, out / name)


class _quiet_stdout:
    """torch.onnx prints its progress with print(); keep it off a command's output."""

    def __enter__(self):
        import contextlib
        import io

        self._redirect = contextlib.redirect_stdout(io.StringIO())
        self._redirect.__enter__()

    def __exit__(self, *exc):
        return self._redirect.__exit__(*exc)


def main(argv: list[str] | None = None) -> int:
    from .embedder import model_path

    args = sys.argv[1:] if argv is None else argv
    name = args[0] if args else "all-MiniLM-L6-v2"
    folder = ensure_export(name, model_path(name))
    print(f"paperchat: ONNX export of {name} at {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
