"""`paperchat ingest --ray ADDRESS` on a real two-node Ray cluster on loopback (a head and a second
node, each started with `ray start` and one CPU): the same ids and vectors as the local path."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from assistant.settings import REPO_ROOT, Settings

pytestmark = pytest.mark.slow
pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_cluster():
    """A head and a second node, one CPU each, started with `ray start` on 127.0.0.1 (through
    ingest.ray_cli, which keeps Ray's traffic on loopback); stopped whatever the test does."""
    from ingest.ray_cli import start_local_cluster

    address, stop = start_local_cluster(nodes=2, cpus_per_node=1)
    try:
        yield address
    finally:
        stop()


def _vectors(settings):
    from assistant.store import Store

    store = Store.open(settings)
    chunks = store.chunks.get(include=["embeddings"])
    sentences = store.sentences.get(include=["embeddings"])
    return {i: np.asarray(v) for got in (chunks, sentences) for i, v in zip(got["ids"], got["embeddings"])}


def test_ray_ingest_matches_local(ray_cluster, tmp_path):
    from ingest.pipeline import run_ingest
    from ingest.ray_embed import RayEmbedding

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(REPO_ROOT / "data" / "000_5679ef6d27212b72.txt", corpus)
    shutil.copy(REPO_ROOT / "data" / "arxiv_ids.tsv", corpus)
    # Small batches so both actors get several.
    base = dict(_env_file=None, data_dir=REPO_ROOT / "data", ingest_batch_papers=8)
    local = Settings(index_dir=tmp_path / "local", **base)
    on_ray = Settings(index_dir=tmp_path / "ray", **base)

    with RayEmbedding(ray_cluster, on_ray) as pool:
        assert len(pool.actors) == 2 and len(pool.nodes) == 2  # one actor on each node
    local_report = run_ingest([corpus], local, progress=False)
    ray_report = run_ingest([corpus], on_ray, progress=False, ray_address=ray_cluster)
    assert ray_report.added == local_report.added > 20
    assert ray_report.embedded_texts == local_report.embedded_texts
    a, b = _vectors(local), _vectors(on_ray)
    assert a.keys() == b.keys()
    worst = max(float(np.max(np.abs(a[k] - b[k]))) for k in a)
    assert worst <= 1e-5, worst


def test_cli_ray_flag_and_unreachable_cluster(tmp_path):
    from deploy.procs import free_port

    env = {**os.environ, "PAPERCHAT_INDEX_DIR": str(tmp_path / "idx"), "HF_HUB_OFFLINE": "1"}
    corpus = REPO_ROOT / "data" / "000_5679ef6d27212b72.txt"
    out = subprocess.run([sys.executable, "-m", "ui.cli", "ingest", str(corpus), "--ray", f"127.0.0.1:{free_port()}"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2
    assert "cannot connect to the Ray cluster" in out.stderr and "Traceback" not in out.stderr
