"""One catalog kind inside a :class:`~retrieval.search.SearchIndex`: ids, vectors, BM25, order.

Private to :mod:`retrieval.search`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from retrieval._lexical import BM25Index, rrf_fuse
from retrieval._matrix import Plan, VectorMatrix

__all__ = ["Kind", "check_matrix", "row_order"]

Mode = Literal["dense", "lexical", "hybrid"]

LEXICAL_WEIGHT = 0.5
"""BM25's weight in the hybrid fusion (dense has 1): plain RRF (1.0) lost 0.06 recall@50 on the
frozen test split at 100k products, 0.5 lost nothing (``docs/retrieval.md``)."""
HYBRID_DEPTH = 300
"""How deep each list goes into the fusion."""
_Rows = NDArray[np.int64]
_Scores = NDArray[np.float64]


def check_matrix(name: str, vectors: NDArray[np.floating[Any]], n: int) -> NDArray[np.float32]:
    """``vectors`` as float32, shape ``(n, dim)``, finite.

    Raises:
        ValueError: Wrong shape or non-finite values.
    """
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n}, dim), got {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError(f"{name} must be finite")
    return matrix


def _row_hash(vectors: NDArray[np.float32]) -> list[int]:
    """A 64-bit hash of each row's bytes: equal rows get equal hashes."""
    bits = np.ascontiguousarray(vectors, dtype=np.float32).view(np.uint32)
    weights = np.random.default_rng(0).integers(1, 2**62, size=bits.shape[1], dtype=np.uint64)
    out = np.empty(bits.shape[0], dtype=np.uint64)
    for start in range(0, bits.shape[0], 4096):
        block = bits[start : start + 4096].astype(np.uint64)
        out[start : start + 4096] = (block * weights).sum(axis=1, dtype=np.uint64)
    hashes: list[int] = out.tolist()
    return hashes


def row_order(
    ids: Sequence[str],
    vectors: NDArray[np.float32],
    key: Callable[[int], Hashable] | None = None,
) -> tuple[list[int], list[int]]:
    """Storage order: by ``key(i)`` (e.g. category path and brand), then vector, then id.

    Identical vectors with the same key end up adjacent, so the vector store keeps them once.

    Returns:
        The order (old row of each new row) and the new rows where ``key`` changes.
    """
    hashes = _row_hash(vectors)
    if key is None:
        return sorted(range(len(ids)), key=lambda i: (hashes[i], ids[i])), []
    keys = [key(i) for i in range(len(ids))]
    order = sorted(range(len(ids)), key=lambda i: (keys[i], hashes[i], ids[i]))
    breaks = [r for r in range(len(order)) if r == 0 or keys[order[r]] != keys[order[r - 1]]]
    return order, breaks


class Kind:
    """Products or activities: ids in storage order, their vectors, optional BM25."""

    def __init__(
        self,
        ids: Sequence[str],
        vectors: NDArray[np.float32],
        texts: Sequence[str] | None,
        breaks: Sequence[int],
        matrix_options: Mapping[str, Any],
    ) -> None:
        if len(set(ids)) != len(ids):
            raise ValueError("item ids must be unique within each kind")
        self.ids = tuple(ids)
        self.row = {item_id: row for row, item_id in enumerate(self.ids)}
        self.matrix = VectorMatrix(vectors, breaks=breaks, **matrix_options)
        self.lexical = BM25Index(texts) if texts is not None else None

    def rank(
        self,
        mode: Mode,
        vector: NDArray[np.float32] | None,
        text: str | None,
        k: int,
        restrict: tuple[NDArray[np.bool_] | None, list[tuple[int, int]] | None],
        plan: Plan,
    ) -> tuple[_Rows, _Scores]:
        """The ``k`` best allowed rows and their scores (cosine, BM25 or fused rank)."""
        mask, ranges = restrict
        if k < 1 or self.matrix.n == 0:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        if mode == "dense":
            assert vector is not None
            rows, scores = self.matrix.top_k(vector, k, ranges=ranges, mask=mask, plan=plan)
            return rows, scores.astype(np.float64)
        assert self.lexical is not None and text is not None
        full = mask
        if ranges is not None:
            full = np.zeros(self.matrix.n, dtype=np.bool_)
            for a, b in ranges:
                full[a:b] = True if mask is None else mask[a:b]
        if mode == "lexical":
            rows, lex = self.lexical.top_k(text, k, full)
            return rows, lex.astype(np.float64)
        assert vector is not None
        depth = max(k, HYBRID_DEPTH)
        dense_rows, _ = self.matrix.top_k(vector, depth, ranges=ranges, mask=mask, plan=plan)
        lex_rows, _ = self.lexical.top_k(text, depth, full)
        return rrf_fuse([dense_rows, lex_rows], k, weights=(1.0, LEXICAL_WEIGHT))
