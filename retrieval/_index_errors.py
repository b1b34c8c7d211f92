"""Errors of the Chroma index, its sync and its writer lock (``assistant`` maps them)."""

from __future__ import annotations

__all__ = [
    "ChromaUnavailableError",
    "IndexDamagedError",
    "IndexLockedError",
    "IndexMismatchError",
    "VectorIndexError",
]


class VectorIndexError(RuntimeError):
    """Base of every index error; ``assistant`` maps it to its ``RetrievalError``."""


class IndexMismatchError(VectorIndexError):
    """The collection was built by another embedder, dimension or schema: rebuild it."""


class ChromaUnavailableError(VectorIndexError):
    """The Chroma server at ``SHOPASSIST_CHROMA_URL`` did not answer."""


class IndexLockedError(VectorIndexError):
    """Another writer holds the index lock (``shopassist index`` or the server's sync)."""


class IndexDamagedError(VectorIndexError):
    """The local Chroma directory cannot be read back (a damaged SQLite file or HNSW segment):
    rebuild it from SQL."""
