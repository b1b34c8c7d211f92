"""Retrieval metrics over graded relevance: recall@k, nDCG@k, MRR, and recall against exact search.

Relevance is a mapping from item id to a grade (``2`` = what was asked for, ``1`` = a reasonable
neighbour, absent or ``0`` = not relevant). Ranked lists are sequences of ids, best first.

* :func:`recall_at_k`: relevant items in the top ``k`` over ``min(k, relevant items)``, so a
  list that fills all ``k`` slots with relevant items scores 1 even when more exist (catalogs
  hold hundreds of relevant products per query).
* :func:`ndcg_at_k`: Järvelin and Kekäläinen (2002), "Cumulated gain-based evaluation of IR
  techniques", with exponential gain ``2**grade - 1`` and ``log2(rank + 1)`` discount, over the
  ideal ordering of all graded items.
* :func:`mrr`: the reciprocal rank of the first relevant item (0 when none in the list).
* :func:`recall_vs_exact`: an approximate top-``k``'s share of the exact top-``k``, ties
  counted: a returned item scoring at least the exact ``k``-th score counts as found.

Example:
    >>> grades = {"a": 2, "b": 1}
    >>> recall_at_k(["a", "x", "b"], grades, 2), mrr(["x", "a"], grades)
    (0.5, 0.5)
    >>> round(ndcg_at_k(["b", "a"], grades, 2), 4)
    0.7967
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["mrr", "ndcg_at_k", "recall_at_k", "recall_vs_exact"]


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")


def recall_at_k(ranked: Sequence[str], relevant: Mapping[str, float], k: int) -> float:
    """Relevant items (grade > 0) among the first ``k`` over ``min(k, number relevant)``.

    Returns 0.0 when nothing is relevant (the query cannot be answered).

    Raises:
        ValueError: ``k`` is not a positive int.
    """
    _check_k(k)
    wanted = {item for item, grade in relevant.items() if grade > 0}
    if not wanted:
        return 0.0
    found = sum(1 for item in dict.fromkeys(ranked[:k]) if item in wanted)
    return found / min(k, len(wanted))


def ndcg_at_k(ranked: Sequence[str], relevant: Mapping[str, float], k: int) -> float:
    """Normalized discounted cumulative gain at ``k`` with gain ``2**grade - 1``.

    Returns 0.0 when nothing is relevant. Repeated ids count once (at their first rank).

    Raises:
        ValueError: ``k`` is not a positive int.
    """
    _check_k(k)
    ideal_grades = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    if not ideal_grades:
        return 0.0
    ideal = sum((2.0**g - 1.0) / math.log2(i + 2) for i, g in enumerate(ideal_grades))
    seen = list(dict.fromkeys(ranked))[:k]
    gain = sum(
        (2.0 ** relevant.get(item, 0) - 1.0) / math.log2(i + 2) for i, item in enumerate(seen)
    )
    return float(gain / ideal)


def mrr(ranked: Sequence[str], relevant: Mapping[str, float]) -> float:
    """1 / rank of the first item with grade > 0 (ranks from 1); 0.0 when there is none."""
    for rank, item in enumerate(ranked, start=1):
        if relevant.get(item, 0) > 0:
            return 1.0 / rank
    return 0.0


def recall_vs_exact(
    approx_scores: NDArray[np.floating],
    exact_scores: NDArray[np.floating],
    k: int,
    *,
    tol: float = 1e-5,
) -> float:
    """Share of the exact top-``k`` that an approximate top-``k`` recovered, ties counted.

    Args:
        approx_scores: True (exact) scores of the items the approximate search returned, shape
            ``(m,)``, ``m <= k``.
        exact_scores: Scores of the exact top-``k``, best first, shape ``(k',)``, ``k' <= k``
            (fewer when fewer items pass the filter).
        k: The cut-off.
        tol: Slack for float rounding.

    Returns:
        1.0 when the exact list is empty.

    Example:
        >>> recall_vs_exact(np.array([0.9, 0.5]), np.array([0.9, 0.8]), 2)
        0.5
    """
    _check_k(k)
    exact = np.asarray(exact_scores)[:k]
    if exact.shape[0] == 0:
        return 1.0
    kth = float(exact[-1])
    found = int((np.asarray(approx_scores)[:k] >= kth - tol).sum())
    return float(min(found, exact.shape[0]) / exact.shape[0])
