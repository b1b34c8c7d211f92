"""A persistent embedding cache keyed by (model name, sha256 of the text).

Re-indexing a catalog re-embeds only what changed: :class:`CachedEmbedder` looks every text up
in an :class:`EmbeddingCache` (one SQLite file, WAL mode) and sends only the misses to the model.
SQLite in WAL mode lets any number of readers (threads or processes) work while one writer
commits; concurrent writers wait on the write lock (``busy_timeout``) instead of failing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.embedders._base import (
    Embedder,
    EmbeddingError,
    FloatMatrix,
    FloatVector,
    check_positive,
    check_texts,
    empty_matrix,
    progress_bar,
)

__all__ = ["CacheStats", "CachedEmbedder", "EmbeddingCache", "text_key"]

logger = logging.getLogger(__name__)

_CHUNK = 500  # keys per SELECT ... IN (...): well under SQLite's bound-parameter limit
_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    model  TEXT    NOT NULL,
    hash   BLOB    NOT NULL,
    dim    INTEGER NOT NULL,
    vector BLOB    NOT NULL,
    PRIMARY KEY (model, hash)
) WITHOUT ROWID
"""


def _enable_wal(connection: sqlite3.Connection, path: Path) -> None:
    mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if mode != "wal":  # e.g. a file system without shared memory: still correct, less concurrent
        logger.warning("embedding cache %s runs in journal mode %r, not WAL", path, mode)
    connection.execute("PRAGMA synchronous=NORMAL")


def _when_unlocked(step: Callable[[], object], timeout_s: float) -> None:
    """Run ``step``, retrying while SQLite says the database is locked.

    Switching a new file to WAL takes an exclusive lock and, unlike ordinary statements, does
    not wait through ``busy_timeout``: two connections opening a fresh cache at once would
    otherwise fail with "database is locked".
    """
    deadline = time.monotonic() + timeout_s
    delay = 0.005
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def text_key(text: str) -> bytes:
    """The cache key of a text: sha256 of its UTF-8 bytes (32 bytes)."""
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    """Float32 vectors in a SQLite file, keyed by (model name, text hash).

    Safe to share between threads (each thread gets its own connection) and between processes
    (WAL). Vectors of different model names never mix: every read and write names the model.

    Args:
        path: the SQLite file; created with its parent directories if missing.
        timeout_s: how long a writer waits for another writer's lock before failing.

    Example:
        >>> import numpy as np, tempfile, os
        >>> cache = EmbeddingCache(os.path.join(tempfile.mkdtemp(), "emb.sqlite"))
        >>> key = text_key("running shoes")
        >>> cache.put_many("toy", [(key, np.ones(4, dtype=np.float32) / 2)])
        1
        >>> cache.get_many("toy", [key])[key].shape
        (4,)
        >>> cache.get_many("another-model", [key])
        {}
        >>> cache.close()
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._timeout_s = timeout_s
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._closed = False
        self._connection()  # fail here, not on first use, if the file cannot be opened

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        with self._lock:
            if self._closed:
                raise RuntimeError(f"the embedding cache at {self.path} is closed")
            # autocommit (isolation_level=None): transactions are explicit BEGIN IMMEDIATE below.
            connection = sqlite3.connect(
                self.path, timeout=self._timeout_s, isolation_level=None, check_same_thread=False
            )
            try:
                _when_unlocked(lambda: _enable_wal(connection, self.path), self._timeout_s)
                _when_unlocked(lambda: connection.execute(_SCHEMA), self._timeout_s)
            except BaseException:
                connection.close()
                raise
            self._connections.append(connection)
        self._local.connection = connection
        return connection

    def get_many(self, model: str, keys: Sequence[bytes]) -> dict[bytes, FloatVector]:
        """The cached vectors among ``keys`` (absent keys are simply missing from the result).

        One query per 500 keys. Each vector has shape ``(dim,)``, float32.
        """
        connection = self._connection()
        found: dict[bytes, FloatVector] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = connection.execute(
                f"SELECT hash, dim, vector FROM embeddings WHERE model = ? AND hash IN ({marks})",
                [model, *chunk],
            )
            for key, dim, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape != (dim,):
                    raise EmbeddingError(
                        f"corrupt row in the embedding cache {self.path} for model {model!r}: "
                        f"{len(blob)} bytes for dim {dim}; run clear({model!r}) and re-embed"
                    )
                found[bytes(key)] = vector
        return found

    def put_many(self, model: str, items: Iterable[tuple[bytes, FloatVector]]) -> int:
        """Store vectors (shape ``(dim,)`` each) in one transaction; existing keys are kept.

        Returns:
            How many rows were new.
        """
        rows = [
            (model, key, int(v.shape[0]), np.ascontiguousarray(v, dtype=np.float32).tobytes())
            for key, v in items
        ]
        if not rows:
            return 0
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            before = connection.total_changes
            connection.executemany(
                "INSERT OR IGNORE INTO embeddings (model, hash, dim, vector) VALUES (?, ?, ?, ?)",
                rows,
            )
            added = connection.total_changes - before
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return added

    def count(self, model: str | None = None) -> int:
        """Rows stored, for one model or for all."""
        connection = self._connection()
        if model is None:
            row = connection.execute("SELECT COUNT(*) FROM embeddings").fetchone()
        else:
            row = connection.execute(
                "SELECT COUNT(*) FROM embeddings WHERE model = ?", (model,)
            ).fetchone()
        return int(row[0])

    def clear(self, model: str | None = None) -> int:
        """Delete one model's vectors, or everything; returns the rows deleted."""
        connection = self._connection()
        if model is None:
            cursor = connection.execute("DELETE FROM embeddings")
        else:
            cursor = connection.execute("DELETE FROM embeddings WHERE model = ?", (model,))
        return cursor.rowcount

    def close(self) -> None:
        """Close every connection this cache opened (in any thread)."""
        with self._lock:
            self._closed = True
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.path)!r})"


@dataclass(frozen=True, slots=True)
class CacheStats:
    """What a :class:`CachedEmbedder` has done so far.

    Attributes:
        hits: texts answered without the model (from the cache, or a duplicate in the same call).
        misses: texts sent to the model.
    """

    hits: int = 0
    misses: int = 0


class CachedEmbedder:
    """An :class:`~retrieval.embedders.Embedder` that embeds each (model, text) only once.

    ``embed`` hashes the texts, reads the known ones from the cache (one query per 500), sends
    the distinct misses to ``inner`` ``write_every`` at a time (``inner`` batches them further),
    stores each such chunk in one transaction, and returns every row in input order. Storing
    per chunk means a re-index that fails half-way (a server going down) keeps what it paid for.
    Queries (:meth:`embed_query`) go straight to ``inner``: they rarely repeat and may carry a
    query prefix.

    Args:
        inner: the embedder that computes the misses; its ``name`` keys the cache.
        cache: where vectors persist.
        write_every: misses embedded and committed per chunk (and per progress-bar step).

    Example:
        >>> import tempfile, os
        >>> from retrieval import UseEmbedder
        >>> cache = EmbeddingCache(os.path.join(tempfile.mkdtemp(), "emb.sqlite"))
        >>> embedder = CachedEmbedder(UseEmbedder(), cache)
        >>> _ = embedder.embed(["running shoes", "跑步鞋"])
        >>> _ = embedder.embed(["running shoes", "跑步鞋"])
        >>> embedder.stats
        CacheStats(hits=2, misses=2)
    """

    def __init__(self, inner: Embedder, cache: EmbeddingCache, *, write_every: int = 1024) -> None:
        self.inner = inner
        self.cache = cache
        self.write_every = check_positive("write_every", write_every)
        self._stats_lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    @property
    def name(self) -> str:
        """The inner embedder's name (the vectors are its vectors)."""
        return self.inner.name

    @property
    def dim(self) -> int:
        """The inner embedder's dimension."""
        return self.inner.dim

    @property
    def stats(self) -> CacheStats:
        """Hits and misses since construction (or the last :meth:`reset_stats`)."""
        with self._stats_lock:
            return CacheStats(self._hits, self._misses)

    def reset_stats(self) -> None:
        """Zero the counters."""
        with self._stats_lock:
            self._hits = self._misses = 0

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> FloatMatrix:
        """Embed documents, computing only the texts the cache lacks.

        Args:
            texts: the texts; blank ones map to the embedding of ``""``.
            progress: show a tqdm bar on stderr over the misses, one step per chunk.

        Returns:
            float32 unit rows, shape ``(len(texts), dim)``, in input order.

        Raises:
            TypeError: ``texts`` is not a sequence of ``str``.
            EmbeddingError: the inner embedder failed, or the cache holds vectors of another
                dimension under this model name.
        """
        items = check_texts(texts)
        if not items:
            return empty_matrix(self.dim)
        model = self.inner.name
        keys = [text_key(text) for text in items]
        found = self.cache.get_many(model, keys)
        todo: dict[bytes, str] = {}
        for key, text in zip(keys, items, strict=True):
            if key not in found:
                todo.setdefault(key, text)
        pending = list(todo.items())
        with progress_bar(len(pending), model, progress and bool(pending)) as bar:
            for start in range(0, len(pending), self.write_every):
                chunk = pending[start : start + self.write_every]
                fresh = self.inner.embed([text for _, text in chunk])
                new = {key: vector for (key, _), vector in zip(chunk, fresh, strict=True)}
                self.cache.put_many(model, new.items())
                found.update(new)
                with self._stats_lock:
                    self._misses += len(chunk)
                bar.update(len(chunk))
        dims = {v.shape[0] for v in found.values()}
        if len(dims) != 1:
            raise EmbeddingError(
                f"the embedding cache {self.cache.path} holds {sorted(dims)}-d vectors for model "
                f"{model!r}; one name must mean one model: clear({model!r}) and re-embed"
            )
        out = np.empty((len(items), dims.pop()), dtype=np.float32)
        for row, key in enumerate(keys):
            out[row] = found[key]
        with self._stats_lock:
            self._hits += len(items) - len(todo)
        logger.debug("%s: %d texts, %d embedded", model, len(items), len(todo))
        return out

    def embed_query(self, text: str) -> FloatVector:
        """The inner embedder's query vector, shape ``(dim,)`` (not cached)."""
        return self.inner.embed_query(text)

    def __repr__(self) -> str:
        return f"CachedEmbedder({self.inner!r}, {self.cache!r})"
