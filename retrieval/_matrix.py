"""Top-k inner-product search over a row matrix, restricted to row ranges and a boolean mask.

:class:`VectorMatrix` stores each *distinct* vector once. Catalogs repeat texts (variants that
differ only in size or colour, products without titles): the demo catalog's 100k products have
28k distinct texts, The Complete Journey's 92k have 21k. Runs of identical consecutive rows
form a group (the caller sorts rows so that duplicates are adjacent and passes ``breaks``
where a group must not continue, e.g. category boundaries); a group's score is every member's
score, so searching groups is exact, and a mask applies to members.

Two plans, chosen per query from the number of groups to touch:

* **exact**: score every group that has an allowed member with the full vectors, in place
  when the groups are contiguous, gathered otherwise.
* **two-stage**: score the groups of the ranges in a low-dimensional PCA projection
  (``stage1_dim`` floats a group: 28k x 64 float32 is 7 MB, cache-resident), keep the best
  ``max(min_rerank, rerank * k)`` groups that have an allowed member, and rescore only those
  with the full vectors. Returned scores are exact; membership is approximate, with recall
  against the exact plan measured in ``benchmarks/retrieval.py`` (0.99-1.00).

Why not HNSW with a filter: measured here, Chroma's ``where``-filtered HNSW search is about
100x slower than its unfiltered search and loses recall (``docs/retrieval.md``); a masked scan
never loses a row to a filter, and a selective filter only makes it cheaper.

BLAS runs single-threaded inside a search (``threads``): on this 2-core machine, busy with
other work, a 2-thread OpenBLAS GEMV had an 8 ms floor (thread wake-ups), 1 thread had none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

__all__ = ["Plan", "VectorMatrix"]

Plan = Literal["auto", "exact", "two-stage"]
"""How :meth:`VectorMatrix.top_k` searches: chosen per query, or forced."""

Rows = NDArray[np.int64]
Scores = NDArray[np.float32]
Ranges = Sequence[tuple[int, int]]

_CONTROLLER: list[ThreadpoolController] = []


def _limit(threads: int) -> Any:
    if not _CONTROLLER:  # introspecting the loaded BLAS libraries takes a few ms: once
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=threads, user_api="blas")


def _top(scores: NDArray[Any], k: int, ties: NDArray[np.int64]) -> NDArray[np.int64]:
    """Positions of the ``k`` largest scores, best first, ties by ``ties`` ascending."""
    if k >= scores.shape[0]:
        part = np.arange(scores.shape[0])
    else:
        # the k-th score may be shared: keep every tie so the tie-break below is exact
        kth = np.partition(scores, scores.shape[0] - k)[scores.shape[0] - k]
        part = np.flatnonzero(scores >= kth)
    order = np.lexsort((ties[part], -scores[part]))[:k]
    return part[order].astype(np.int64)


def _expand_ranges(starts: Rows, stops: Rows) -> Rows:
    """Concatenated ``arange(start, stop)`` for each pair."""
    counts = stops - starts
    total = int(counts.sum())
    if not total:
        return np.empty(0, np.int64)
    offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return offsets + np.arange(total, dtype=np.int64)


class VectorMatrix:
    """Unit row vectors with exact and two-stage top-k under row restrictions.

    Args:
        vectors: float32 unit rows, shape ``(n, dim)``.
        breaks: Rows where a new group must start (besides where the vector changes).
        dtype: Storage of the distinct vectors: ``"float32"`` or ``"float16"`` (half the
            memory; widened to float32 before any product, so scores are float32).
        stage1_dim: Width of the PCA projection of the two-stage plan (clipped to ``dim``);
            0 disables the two-stage plan.
        rerank: Groups the two-stage plan rescores exactly per row asked for.
        min_rerank: The fewest groups it rescores: ``max(min_rerank, rerank * k)`` in all
            (3,000 for the top 300, 2,000 for the top 50 by default).
        exact_groups: The auto plan is exact when it touches at most this many groups.
        threads: BLAS threads inside a search.
        seed: Seed of the PCA sample.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.standard_normal((1000, 32)).astype(np.float32)
        >>> x /= np.linalg.norm(x, axis=1, keepdims=True)
        >>> rows, scores = VectorMatrix(x).top_k(x[3], 5)
        >>> int(rows[0]), round(float(scores[0]), 4)
        (3, 1.0)
    """

    def __init__(
        self,
        vectors: NDArray[np.floating[Any]],
        *,
        breaks: Sequence[int] | NDArray[np.int64] = (),
        dtype: Literal["float32", "float16"] = "float32",
        stage1_dim: int = 64,
        rerank: int = 10,
        min_rerank: int = 2000,
        exact_groups: int = 4000,
        threads: int = 1,
        seed: int = 0,
    ) -> None:
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        if matrix.ndim != 2:
            raise ValueError(f"vectors must have shape (n, dim), got {matrix.shape}")
        if dtype not in ("float32", "float16"):
            raise ValueError(f"dtype must be 'float32' or 'float16', got {dtype!r}")
        self.n, self.dim = int(matrix.shape[0]), int(matrix.shape[1])
        self.dtype = dtype
        self.rerank = rerank
        self.min_rerank = min_rerank
        self.exact_groups = exact_groups
        self.threads = threads
        new = np.ones(self.n, dtype=np.bool_)
        if self.n > 1:
            new[1:] = (matrix[1:] != matrix[:-1]).any(axis=1)
        new[np.asarray(breaks, dtype=np.int64)] = True
        self._starts = np.flatnonzero(new).astype(np.int64)  # first row of each group
        self._stops = np.append(self._starts[1:], self.n).astype(np.int64)
        self.groups = int(self._starts.shape[0])
        self._group_of = np.cumsum(new, dtype=np.int64) - 1  # row -> group
        distinct = matrix[self._starts]
        self._full = np.ascontiguousarray(distinct, dtype=np.dtype(dtype))
        width = min(max(stage1_dim, 0), self.dim)
        self._mean = np.zeros(self.dim, dtype=np.float32)
        self._basis = np.zeros((self.dim, 0), dtype=np.float32)
        self._low = np.zeros((self.groups, 0), dtype=np.float32)
        if width and self.groups:
            with _limit(self.threads):  # eigh on 2 busy cores: 1.2 s with 2 threads, 0.15 s with 1
                self._fit_projection(distinct, width, seed)

    def _fit_projection(self, distinct: NDArray[np.float32], width: int, seed: int) -> None:
        """PCA on at most 20,000 distinct vectors; the projection of each, ``(groups, width)``."""
        rng = np.random.default_rng(seed)
        take = np.sort(rng.choice(self.groups, size=min(self.groups, 20_000), replace=False))
        sample = distinct[take]
        self._mean = sample.mean(axis=0).astype(np.float32)
        centered = sample - self._mean
        _, eigvecs = np.linalg.eigh(centered.T @ centered)
        self._basis = np.ascontiguousarray(eigvecs[:, ::-1][:, :width], dtype=np.float32)
        self._low = np.ascontiguousarray((distinct - self._mean) @ self._basis, dtype=np.float32)

    @property
    def nbytes(self) -> int:
        """Memory held by the distinct vectors, their projection and the group index."""
        return int(self._full.nbytes + self._low.nbytes + self._group_of.nbytes)

    def scores(self, query: NDArray[np.float32], rows: Rows) -> Scores:
        """Exact scores of ``rows``, shape ``(len(rows),)``."""
        groups = self._group_of[rows]
        with _limit(self.threads):
            return np.asarray(self._full[groups], dtype=np.float32) @ query

    def top_k(
        self,
        query: NDArray[np.float32],
        k: int,
        *,
        ranges: Ranges | None = None,
        mask: NDArray[np.bool_] | None = None,
        plan: Plan = "auto",
    ) -> tuple[Rows, Scores]:
        """The ``k`` best allowed rows, best first (ties: lower row first), exact scores.

        Args:
            query: float32 unit vector, shape ``(dim,)`` (checked by the caller).
            k: How many at most.
            ranges: Sorted, disjoint ``[start, stop)`` row ranges to search (default: all
                rows); each must start and end on group boundaries (the caller's ``breaks``).
            mask: Allowed rows, shape ``(n,)`` (default: every row of the ranges).
            plan: ``"auto"`` (exact when it touches at most ``exact_groups`` groups), or forced.

        Returns:
            Row numbers, shape ``(m,)``, and their scores, shape ``(m,)``, ``m <= k``.
        """
        spans = [(0, self.n)] if ranges is None else [(a, b) for a, b in ranges if b > a]
        if k < 1 or not spans or self.n == 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        g_lo = self._group_of[np.array([a for a, _ in spans])]
        g_hi = self._group_of[np.array([b - 1 for _, b in spans])] + 1
        in_ranges = _expand_ranges(g_lo, g_hi)
        sizes = self._stops - self._starts
        if mask is None:
            groups, allowed, keep = in_ranges, sizes[in_ranges], None
        else:
            counts = np.add.reduceat(mask, self._starts, dtype=np.int64)
            keep = counts[in_ranges] > 0
            groups = in_ranges[keep]
            allowed = counts[groups]
        if groups.shape[0] == 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        with _limit(self.threads):
            exact = (
                plan == "exact"
                or self._low.shape[1] == 0
                or (plan == "auto" and groups.shape[0] <= max(self.exact_groups, 4 * k))
            )
            if exact:
                g_scores = self._exact(query, groups, (g_lo, g_hi), keep)
            else:
                scored = (groups, allowed, keep)
                groups, allowed, g_scores = self._two_stage(query, k, scored, (g_lo, g_hi))
        return self._members(groups, allowed, g_scores, k, mask)

    def _exact(
        self,
        query: NDArray[np.float32],
        groups: Rows,
        spans: tuple[Rows, Rows],
        keep: NDArray[np.bool_] | None,
    ) -> Scores:
        """Scores of ``groups``: in place over the spans when most of them are wanted."""
        if self.dtype == "float32" and (keep is None or 2 * groups.shape[0] >= keep.shape[0]):
            parts = [self._full[a:b] @ query for a, b in zip(*spans, strict=True)]
            scores = np.concatenate(parts) if len(parts) > 1 else parts[0]
            return scores if keep is None else scores[keep]
        return np.asarray(self._full[groups], dtype=np.float32) @ query

    def _two_stage(
        self,
        query: NDArray[np.float32],
        k: int,
        scored: tuple[Rows, Rows, NDArray[np.bool_] | None],
        spans: tuple[Rows, Rows],
    ) -> tuple[Rows, Rows, Scores]:
        groups, allowed, keep = scored
        low_query = (query - self._mean) @ self._basis
        if keep is None or 2 * groups.shape[0] >= keep.shape[0]:
            parts = [self._low[a:b] @ low_query for a, b in zip(*spans, strict=True)]
            approx = np.concatenate(parts) if len(parts) > 1 else parts[0]
            if keep is not None:
                approx = approx[keep]
        else:
            approx = self._low[groups] @ low_query
        wanted = min(max(self.min_rerank, self.rerank * k), groups.shape[0])
        best = np.argpartition(-approx, wanted - 1)[:wanted]
        groups, allowed = groups[best], allowed[best]
        scores = np.asarray(self._full[groups], dtype=np.float32) @ query
        return groups, allowed, scores

    def _members(
        self,
        groups: Rows,
        allowed: Rows,
        g_scores: Scores,
        k: int,
        mask: NDArray[np.bool_] | None,
    ) -> tuple[Rows, Scores]:
        """The best ``k`` allowed rows of the scored groups (a group's rows share its score)."""
        # groups are taken best first until they hold k allowed rows; ties go to the lower row,
        # which is the lower group since groups are runs of rows
        order = _top(g_scores, min(k, groups.shape[0]), groups)
        total = np.cumsum(allowed[order])
        need = int(np.searchsorted(total, k)) + 1
        chosen = order[:need]
        rows = _expand_ranges(self._starts[groups[chosen]], self._stops[groups[chosen]])
        scores = np.repeat(
            g_scores[chosen], self._stops[groups[chosen]] - self._starts[groups[chosen]]
        )
        if mask is not None:
            keep = mask[rows]
            rows, scores = rows[keep], scores[keep]
        return rows[:k], scores[:k].astype(np.float32)
