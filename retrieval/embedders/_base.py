"""The :class:`Embedder` protocol, its error, and the helpers every implementation shares."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

__all__ = ["Embedder", "EmbeddingError", "FloatMatrix", "FloatVector"]

FloatMatrix = NDArray[np.float32]
"""A float32 matrix of row vectors, shape ``(n, dim)``."""
FloatVector = NDArray[np.float32]
"""A float32 vector, shape ``(dim,)``."""


class EmbeddingError(Exception):
    """An embedding backend failed: a server error, an unreachable server, a malformed answer.

    Bad *input* (``None``, a non-string) raises ``TypeError`` instead; this error means the
    input was fine and the backend could not embed it. ``assistant`` maps it to its own
    ``RetrievalError``.
    """


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors in one model's space.

    Contract for every implementation:

    * ``name`` is a stable id of the model *and of anything that changes its vectors*; it is
      part of the cache key and of an index's identity, so two embedders with the same ``name``
      must give the same vectors.
    * ``embed`` returns float32, C-contiguous, L2-normalized rows, shape ``(len(texts), dim)``,
      in input order; an empty sequence gives shape ``(0, dim)``.
    * Blank texts (``""`` or whitespace only) are legal and all map to the model's embedding of
      ``""``: one fixed unit vector per model that carries no meaning.
    * ``texts`` must be a sequence of ``str`` (a bare ``str`` is refused, as are ``None`` and
      other types inside it): ``TypeError`` with the offending position.
    * ``embed_query`` embeds one search query, shape ``(dim,)``. For symmetric models (USE,
      MiniLM) it equals ``embed([text])[0]``; asymmetric ones may add an instruction prefix.

    Example:
        >>> from retrieval import UseEmbedder
        >>> embedder = UseEmbedder()
        >>> embedder.embed(["running shoes", "跑步鞋"]).shape
        (2, 512)
    """

    @property
    def name(self) -> str:
        """Stable model id (part of every cache key)."""
        ...

    @property
    def dim(self) -> int:
        """Length of each vector."""
        ...

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> FloatMatrix:
        """Embed documents; shape ``(len(texts), dim)``, float32, unit rows."""
        ...

    def embed_query(self, text: str) -> FloatVector:
        """Embed one search query; shape ``(dim,)``, float32, unit norm."""
        ...


def check_texts(texts: object) -> list[str]:
    """Validate ``texts`` once at the public entry and map blank strings to ``""``.

    Raises:
        TypeError: ``texts`` is ``None``, a bare ``str``, not a sequence, or holds a non-``str``.
    """
    if texts is None:
        raise TypeError("texts must be a sequence of str, got None")
    if isinstance(texts, str | bytes):
        raise TypeError(
            f"texts must be a sequence of str, got a bare {type(texts).__name__}; "
            "wrap one text in a list"
        )
    if isinstance(texts, np.ndarray) and texts.ndim != 1:
        raise TypeError(f"texts must be one-dimensional, got an array of shape {texts.shape}")
    if not isinstance(texts, Sequence | np.ndarray):
        raise TypeError(f"texts must be a sequence of str, got {type(texts).__name__}")
    out: list[str] = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] must be a str, got {type(text).__name__}")
        out.append(str(text) if text.strip() else "")  # str(): numpy's str_ becomes plain str
    return out


def check_query(text: str) -> str:
    """Validate one query text (see :func:`check_texts`)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return text if text.strip() else ""


def check_positive(name: str, value: int) -> int:
    """Refuse a non-positive count (batch size, thread count) with a clear message."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def batches(texts: list[str], size: int) -> Iterator[list[str]]:
    """Consecutive slices of at most ``size`` texts."""
    for start in range(0, len(texts), size):
        yield texts[start : start + size]


class Progress(Protocol):
    """What the embedders need of a progress bar."""

    def update(self, n: float | None = 1) -> bool | None: ...


class _Silent:
    def update(self, n: float | None = 1) -> None:
        return None


@contextmanager
def progress_bar(total: int, desc: str, enabled: bool) -> Iterator[Progress]:
    """A per-text progress bar on stderr, updated once per batch; nothing unless ``enabled``.

    When disabled no tqdm object is made at all: even ``tqdm(disable=True)`` takes tqdm's global
    lock and may start its monitor thread, on every call of a hot path.
    """
    if not enabled:
        yield _Silent()
        return
    with tqdm(total=total, desc=desc, unit="text", file=sys.stderr) as bar:
        yield bar


def normalize_rows(vectors: NDArray[np.floating], source: str) -> FloatMatrix:
    """Rows scaled to unit L2 norm as C-contiguous float32, shape ``(n, dim)`` kept.

    Raises:
        EmbeddingError: a row is zero or not finite (``source`` names the backend).
    """
    out = np.ascontiguousarray(vectors, dtype=np.float32)
    if out.size == 0:
        return out
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    bad = ~np.isfinite(norms[:, 0]) | (norms[:, 0] == 0.0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise EmbeddingError(
            f"{source} returned a zero or non-finite vector for text {first} "
            f"({int(bad.sum())} such rows); cannot normalize it"
        )
    out /= norms
    return out


def empty_matrix(dim: int) -> FloatMatrix:
    """Shape ``(0, dim)``, float32."""
    return np.zeros((0, dim), dtype=np.float32)
