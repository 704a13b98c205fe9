"""One writer per index. Two ingests interleaving writes would leave papers with another run's
chunks, so the second one stops at once instead of waiting.

Two layers: a kernel file lock on the index dir (released by the kernel when its holder dies), and,
when the index is a Chroma server shared by several hosts, a lease recorded in the server itself
(owner and expiry, renewed in the background; a killed ingest's lease simply expires)."""
from __future__ import annotations

import _thread
import fcntl
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from assistant.errors import IndexLocked

LOCK_NAME = ".ingest.lock"


@contextmanager
def ingest_lock(target):
    """target: Settings (file lock on its index dir, plus a lease on its Chroma server if it has
    one) or a bare index dir (file lock only)."""
    settings = None if isinstance(target, (str, Path)) else target
    index_dir = Path(target if settings is None else settings.index_dir)
    with _file_lock(index_dir):
        if settings is not None and settings.chroma_url:
            with server_lease(settings):
                yield index_dir
        else:
            yield index_dir


@contextmanager
def _file_lock(index_dir: Path):
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


@contextmanager
def server_lease(settings, owner: str | None = None):
    from assistant.store import IngestLease, lease_owner

    lease = IngestLease(settings, owner or lease_owner(), settings.ingest_lease_seconds)
    held = lease.acquire()
    if held is not None:
        until = time.strftime("%H:%M:%S", time.localtime(held.expires_at))
        raise IndexLocked(
            f"another `paperchat ingest` ({held.owner}) is writing {settings.chroma_url}; wait for it "
            f"to finish (its lease runs until {until} unless renewed)"
        )
    lost = threading.Event()
    done = threading.Event()

    def keep_renewing() -> None:
        while not done.wait(settings.ingest_lease_seconds / 3):
            try:
                ok = lease.renew()
            except Exception:  # server briefly unreachable: try again next period
                continue
            if not ok:
                # Another ingest took the index over (we stalled past the expiry): stop writing.
                lost.set()
                _thread.interrupt_main()
                return

    renewer = threading.Thread(target=keep_renewing, name="ingest-lease", daemon=True)
    renewer.start()
    try:
        yield lease
    except KeyboardInterrupt:
        if lost.is_set():
            raise IndexLocked(f"this ingest lost its lease on {settings.chroma_url} to another ingest "
                              "and stopped; run it again when that one has finished") from None
        raise
    finally:
        done.set()
        renewer.join(timeout=5)
        if not lost.is_set():
            try:
                lease.release()
            except Exception:  # unreachable now: the lease expires by itself
                pass
