"""Embedding on a Ray cluster (`paperchat ingest --ray [ADDRESS]`, extra `[scale]`).

The driver parses, chunks and writes; Ray actors, one per worker CPU, each hold the embedding model
and embed batches of papers. Only texts go out and only vectors come back. At most two batches per
actor are in flight, so the driver's memory stays bounded however large the corpus is."""
from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Iterable, Iterator

import numpy as np

from assistant.errors import PaperchatError

from .embedding import Prepared, embed_prepared
from .ray_cli import is_loopback, keep_loopback

IN_FLIGHT_PER_WORKER = 2  # one being embedded, one waiting: the actor never idles on the driver


def _ray():
    try:
        import ray
    except ModuleNotFoundError:
        raise PaperchatError("--ray needs Ray: pip install 'paperchat[scale]'") from None
    return ray


def _texts(chunks: list[str], sentences: list[str]) -> SimpleNamespace:
    """What embed_prepared reads of a Prepared paper (no Paper object crosses the wire)."""
    return SimpleNamespace(chunks=[SimpleNamespace(text=t) for t in chunks], sentences=sentences,
                           chunk_vectors=None, sentence_vectors=None)


def embed_texts(embedder, batch: list[tuple[list[str], list[str]]], batch_size: int):
    """[(chunk texts, sentences)] -> [(chunk vectors, sentence vectors)], the same routine (length-
    sorted batches) as the local path, so the vectors are the local path's."""
    items = [_texts(c, s) for c, s in batch]
    embed_prepared(items, embedder, batch_size, progress=False)
    return [(i.chunk_vectors, i.sentence_vectors) for i in items]


def _reachable(address: str) -> None:
    """Fail in a second, not after Ray's minutes of retries, when nothing listens there."""
    import socket

    host, port = address.rsplit(":", 1)
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=2).close()
    except (OSError, ValueError):
        raise PaperchatError(f"cannot connect to the Ray cluster at {address} (nothing listens there): "
                             "start one with `ray start --head`") from None


class OneThread:
    """An embedder on one thread: an actor holds one CPU, and more threads would fight the
    other actors on the node (the local path uses every core instead)."""

    def __init__(self, inner):
        self.inner, self.dim, self.name = inner, inner.dim, getattr(inner, "name", "")

    def embed(self, texts, batch_size: int = 64, threads: int = 1):
        return self.inner.embed(texts, batch_size=batch_size, threads=1)


class RayEmbedding:
    def __init__(self, address: str, settings, workers: int | None = None):
        self.address, self.settings, self.workers = address, settings, workers
        self.actors: list = []

    def __enter__(self) -> "RayEmbedding":
        ray = _ray()
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        if is_loopback(self.address):
            keep_loopback()
            _reachable(self.address)
        try:
            ray.init(address=self.address, log_to_driver=False, logging_level="ERROR",
                     runtime_env={"env_vars": {"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}})
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise PaperchatError(f"cannot connect to the Ray cluster at {self.address} "
                                 f"({str(exc).splitlines()[0][:120]}): start one with `ray start --head`") from None
        cpus = int(ray.cluster_resources().get("CPU", 1))
        n = max(1, min(self.workers or cpus, cpus))
        model, runtime, batch = self.settings.embed_model, self.settings.embed_runtime, self.settings.embed_batch_size

        @ray.remote(num_cpus=1)
        class EmbedWorker:
            def __init__(self):
                from assistant.embedder import get_embedder

                self.embedder = OneThread(get_embedder(model, runtime))

            def embed(self, texts):
                return embed_texts(self.embedder, texts, batch)

            def node(self):
                return ray.get_runtime_context().get_node_id()

        self.actors = [EmbedWorker.remote() for _ in range(n)]
        self.nodes = set(ray.get([a.node.remote() for a in self.actors]))
        return self

    def embed(self, batches: Iterable[list[Prepared]]) -> Iterator[list[Prepared]]:
        """Fill each batch's vectors on the cluster; yields batches as they finish (any order)."""
        ray = _ray()
        pending: dict = {}  # object ref -> batch
        it = iter(batches)
        exhausted = False
        sent = 0
        while True:
            while not exhausted and len(pending) < IN_FLIGHT_PER_WORKER * len(self.actors):
                batch = next(it, None)
                if batch is None:
                    exhausted = True
                    break
                actor = self.actors[sent % len(self.actors)]  # Ray queues calls on a busy actor
                sent += 1
                texts = [([c.text for c in p.chunks], p.sentences) for p in batch]
                pending[actor.embed.remote(texts)] = batch
            if not pending:
                return
            done, _ = ray.wait(list(pending), num_returns=1)
            batch = pending.pop(done[0])
            for p, (cv, sv) in zip(batch, ray.get(done[0])):
                p.chunk_vectors = np.asarray(cv, dtype=np.float32)
                p.sentence_vectors = np.asarray(sv, dtype=np.float32)
            yield batch

    def __exit__(self, *exc) -> None:
        ray = _ray()
        for a in self.actors:
            try:
                ray.kill(a)
            except Exception:
                pass
        ray.shutdown()
