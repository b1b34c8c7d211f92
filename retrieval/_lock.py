"""One writer at a time: the file lock that ``shopassist index`` and the server's sync share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from retrieval._index_errors import IndexLockedError

__all__ = ["index_lock"]


@contextmanager
def index_lock(path: Path, *, timeout: float = 0.0) -> Iterator[Path]:
    """Hold the index writer lock ``path`` for the duration of the block.

    The lock is an OS lock on an open file, so it dies with its process (a killed
    ``shopassist index`` leaves no stale lock); the file itself may stay and is harmless.

    Args:
        path: The lock file, e.g. ``var/chroma.lock`` (its directory is created).
        timeout: Seconds to wait for another writer; 0 fails at once.

    Yields:
        ``path``.

    Raises:
        IndexLockedError: Another process holds the lock after ``timeout`` seconds.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, timeout=timeout)
    try:
        lock.acquire()
    except Timeout as exc:
        raise IndexLockedError(
            f"another `shopassist index` is running (lock {path}); wait for it to finish"
        ) from exc
    try:
        yield path
    finally:
        lock.release()
