"""One writer per index. Two ingests interleaving put_paper/delete calls would leave papers
with another run's chunks, so the second one stops at once instead of waiting."""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from assistant.errors import IndexLocked

LOCK_NAME = ".ingest.lock"


@contextmanager
def ingest_lock(index_dir: Path):
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexLocked(
                f"another `paperchat ingest` is writing {index_dir}; wait for it to finish"
            ) from None
        # The pid is for humans looking at a stuck lock; the kernel lock is what counts and it
        # is released automatically if the process dies.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)
