"""Helpers for driving the real UI from tests and the benchmark: one shared server per index in a
process, a Chromium launcher that works without Playwright's downloaded browsers, and a tiny
corpus with planted HTML/JS for the safety test."""
from __future__ import annotations

import atexit
import json
import os
import shutil
from pathlib import Path

from .app import RunningUI, serve

CHROMIUM = os.environ.get("PAPERCHAT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

_servers: dict[str, RunningUI] = {}


def shared_server(settings) -> RunningUI:
    """The UI served on a free loopback port for this index, started once per process."""
    key = str(Path(settings.index_dir).resolve())
    if key not in _servers:
        os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
        _servers[key] = serve(settings, host="127.0.0.1")
    return _servers[key]


@atexit.register
def _close_all() -> None:
    for ui in list(_servers.values()):
        try:
            ui.close()
        except Exception:
            pass
    _servers.clear()


def launch_chromium(playwright):
    """Headless Chromium: Debian's binary when there (playwright install cannot download here)."""
    kwargs = {"headless": True, "args": CHROMIUM_ARGS}
    if Path(CHROMIUM).exists():
        kwargs["executable_path"] = CHROMIUM
    elif shutil.which("chromium"):
        kwargs["executable_path"] = shutil.which("chromium")
    return playwright.chromium.launch(**kwargs)


PLANTED_TITLE = 'Sneaky retrieval <script>window.__pwned=1</script> of hidden documents'
PLANTED_ABSTRACT = (
    "We study sneaky retrieval of hidden documents from large collections. "
    '<img src=x onerror="window.__pwned=2"> Our sneaky retrieval method finds hidden documents '
    "quickly and reliably. See [click here](javascript:window.__pwned=3) for details, "
    "and <a href=\"javascript:window.__pwned=6\">this link</a> too."
)
PLANTED_QUESTION = "which papers study sneaky retrieval of hidden documents?"

NORMAL_PAPERS = [
    {"title": "Graph neural networks for molecule property prediction",
     "abstract": "We predict molecular properties with message passing graph neural networks. "
                 "Our model improves accuracy on standard chemistry benchmarks.",
     "arxiv_id": "2101.00001", "date": "2021-01"},
    {"title": "Speech recognition with streaming transformers",
     "abstract": "We build a streaming transformer for automatic speech recognition. "
                 "It lowers latency while keeping word error rate low.",
     "arxiv_id": "2102.00002", "date": "2021-02"},
    {"title": "Robot grasping from a single camera",
     "abstract": "A robot learns to grasp unseen objects from one RGB camera. "
                 "We train the policy in simulation and transfer it to a real arm.",
     "arxiv_id": "2103.00003", "date": "2021-03"},
]


def write_planted_corpus(folder: Path) -> Path:
    """A JSONL corpus: three normal papers and one whose title and abstract carry script tags,
    an onerror image, javascript: links, and a javascript: url field."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "planted.jsonl"
    rows = NORMAL_PAPERS + [{"title": PLANTED_TITLE, "abstract": PLANTED_ABSTRACT,
                             "url": "javascript:window.__pwned=4", "date": "2021-04"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path
