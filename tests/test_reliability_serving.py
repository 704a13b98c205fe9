"""Serving while ingesting (issue 9): 4 client processes ask through the Python API in a loop while
real `paperchat ingest` processes update the same index (papers change, --rebuild switches
collections, a new paper arrives). No ask may fail, and the new paper must be found by the
running clients without a restart. Also: the API's argument checks."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.errors import BadInput

from reliability_helpers import corpus_rows, settings_at, write_version

CLIENTS = 4
NEW_TITLE = "Quokka Counting with Thermal Drones in Island Habitats"
NEW = {"title": NEW_TITLE, "abstract": "We count quokkas from thermal drone footage over island habitats. "
                                       "A detector trained on synthetic heat maps finds 94% of animals.",
       "arxiv_id": "2402.09999"}

CLIENT = r"""
import json, sys, time, traceback
from pathlib import Path
from assistant.core import Assistant
from assistant.settings import Settings
index, stop, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
a = Assistant(Settings(_env_file=None, index_dir=index, chroma_url=None, reload_check_s=0.2))
questions = ["which papers study image segmentation?", "what work is there on object detection?",
             "which papers use transformers?", "where is the code for the detector?", "quokka counting with drones"]
asks, failures, saw_new, i = 0, [], None, 0
started = time.monotonic()
while not stop.exists():
    q = questions[i % len(questions)]; i += 1
    try:
        answer = a.ask(q)
        assert answer.answer
        if q.startswith("quokka") and any(s.paper_id == "2402.09999" for s in answer.sources) and saw_new is None:
            saw_new = time.monotonic() - started
    except Exception as exc:
        failures.append(f"{type(exc).__name__}: {exc}"[:300] + " | " + traceback.format_exc()[-600:])
    asks += 1
out.write_text(json.dumps({"asks": asks, "failures": failures, "saw_new": saw_new}))
"""


def _ingest(corpus: Path, index: Path, cwd: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PAPERCHAT_INDEX_DIR=str(index), HF_HUB_OFFLINE="1")
    env.pop("PAPERCHAT_CHROMA_URL", None)
    return subprocess.run([sys.executable, "-m", "ui.cli", "ingest", str(corpus), *extra], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_asks_never_fail_while_another_process_ingests(tmp_path):
    from ingest.pipeline import run_ingest

    rows = corpus_rows()
    corpus = tmp_path / "corpus.jsonl"
    index = tmp_path / "index"
    write_version(corpus, rows, 0)
    run_ingest([corpus], settings_at(index), progress=False)

    stop = tmp_path / "stop"
    clients = [subprocess.Popen([sys.executable, "-c", CLIENT, str(index), str(stop), str(tmp_path / f"c{i}.json")],
                                cwd=tmp_path, env=dict(os.environ, HF_HUB_OFFLINE="1"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(CLIENTS)]
    try:
        time.sleep(8)  # the clients load and start asking
        ingests = []
        for version, extra in [(1, ()), (0, ("--rebuild",))]:
            write_version(corpus, rows, version)
            ingests.append(_ingest(corpus, index, tmp_path, *extra))
        # A new paper arrives: running clients must find it without a restart.
        with open(corpus, "a", encoding="utf-8") as f:
            f.write(json.dumps(NEW) + "\n")
        ingests.append(_ingest(corpus, index, tmp_path))
        time.sleep(6)
    finally:
        stop.write_text("stop")
        outs = [c.communicate(timeout=300) for c in clients]
    for done in ingests:
        assert done.returncode == 0, done.stderr
    results = []
    for i, (client, (out, err)) in enumerate(zip(clients, outs)):
        assert client.returncode == 0, err[-2000:]
        results.append(json.loads((tmp_path / f"c{i}.json").read_text()))
    asks = sum(r["asks"] for r in results)
    failures = [f for r in results for f in r["failures"]]
    print(f"\nserving while ingesting: {asks} asks by {CLIENTS} clients during {len(ingests)} ingests, "
          f"{len(failures)} failed; new paper seen after {[r['saw_new'] for r in results]} s")
    assert asks >= 4 * CLIENTS
    assert failures == []
    assert all(r["saw_new"] is not None for r in results), "a running client never found the new paper"


# ---- the Python API's argument checks ----------------------------------------------------------
BAD_API_ARGS = [
    (dict(history="x"), "history must be a list"),
    (dict(history=[1]), "history[0] must be a dict"),
    (dict(history=[{"role": "bogus", "content": "x"}]), "history[0].role must be"),
    (dict(history=[{"role": "user", "content": 5}]), "history[0].content must be a string"),
    (dict(date_from=5), "date_from must be a date string"),
    (dict(date_from="2024-13"), "date_from must be a date like"),
    (dict(date_from="2025", date_to="2024"), "runs backwards"),
    (dict(max_cited=0), "max_cited must be a whole number from 1 to 100, not 0"),
    (dict(max_cited="3"), "max_cited must be a whole number"),
    (dict(question=12345), "question must be a string, not int"),
    (dict(question="x" * 5000), "the question is 5,000 characters long"),
]


@pytest.mark.parametrize("kwargs,message", BAD_API_ARGS, ids=[m[:30] for _, m in BAD_API_ARGS])
def test_api_rejects_bad_arguments_with_a_value_error(kwargs, message, small_assistant):
    kwargs = dict(kwargs)
    question = kwargs.pop("question", "which papers study segmentation?")
    with pytest.raises(ValueError) as got:
        small_assistant.ask(question, **kwargs)
    assert isinstance(got.value, BadInput)
    text = str(got.value)
    assert message in text and "\n" not in text
    assert "x" * 100 not in text  # never echoes the input back


@pytest.fixture(scope="module")
def small_assistant(tmp_path_factory):
    from assistant.core import Assistant
    from ingest.pipeline import run_ingest

    tmp = tmp_path_factory.mktemp("api")
    corpus = tmp / "corpus.jsonl"
    write_version(corpus, corpus_rows(), 0)
    settings = settings_at(tmp / "index")
    run_ingest([corpus], settings, progress=False)
    return Assistant(settings)
