"""Offline ranking metrics in numpy: AUC, log loss, NDCG@k and HR@k over grouped rows.

Rows are scored candidates; ``groups`` (shape ``(n,)``) says which request each row belongs to.
Ranking metrics are computed per group and averaged over the groups with at least one positive
(a group with no positive has no ideal ordering to compare with).

* :func:`auc`: the Mann-Whitney statistic, ties counted half (0.5 when one class is absent).
* :func:`logloss`: mean binary cross-entropy, probabilities clipped to ``[eps, 1 - eps]``.
* :func:`ndcg_at_k`: Järvelin and Kekäläinen (2002), gain ``2**label - 1``, ``log2(rank + 1)``
  discount.
* :func:`hit_rate_at_k`: share of groups with a positive in the top ``k``.

Example:
    >>> import numpy as np
    >>> y, s, g = np.array([1, 0, 0, 1]), np.array([0.9, 0.1, 0.8, 0.2]), np.array([0, 0, 1, 1])
    >>> auc(y, s), hit_rate_at_k(y, s, g, 1)
    (0.75, 0.5)
    >>> round(ndcg_at_k(y, s, g, 2), 4)
    0.8155
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["auc", "hit_rate_at_k", "logloss", "ndcg_at_k", "ndcg_per_group"]


def _pair(labels: ArrayLike, scores: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    y = np.asarray(labels, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if y.ndim != 1 or y.shape != s.shape:
        raise ValueError(f"labels and scores must be 1-d of one length, got {y.shape}, {s.shape}")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite")
    return y, s


def auc(labels: ArrayLike, scores: ArrayLike) -> float:
    """ROC AUC of binary ``labels`` (shape ``(n,)``) under ``scores`` (shape ``(n,)``)."""
    y, s = _pair(labels, scores)
    pos = y > 0
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return 0.5
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    # Average ranks over ties, so tied scores count half.
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_s)) + 1]
    ends = np.r_[starts[1:], len(s)]
    for a, b in zip(starts, ends, strict=True):
        ranks[order[a:b]] = (a + b + 1) / 2.0
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def logloss(labels: ArrayLike, probs: ArrayLike, eps: float = 1e-7) -> float:
    """Mean binary cross-entropy of ``probs`` (shape ``(n,)``) against ``labels``."""
    y, p = _pair(labels, probs)
    p = np.clip(p, eps, 1.0 - eps)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))


def _grouped(
    labels: ArrayLike, scores: ArrayLike, groups: ArrayLike, k: int
) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    y, s = _pair(labels, scores)
    g = np.asarray(groups)
    if g.shape != y.shape:
        raise ValueError(f"groups must have shape {y.shape}, got {g.shape}")
    out = []
    order = np.argsort(g, kind="stable")
    bounds = np.flatnonzero(np.diff(g[order])) + 1
    for rows in np.split(order, bounds):
        gy = y[rows]
        if gy.max(initial=0.0) <= 0:
            continue
        # Best first; ties broken by row order, so a constant scorer gets no free credit.
        ranked = gy[np.argsort(-s[rows], kind="stable")]
        out.append((ranked, gy))
    return out


def ndcg_per_group(
    labels: ArrayLike, scores: ArrayLike, groups: ArrayLike, k: int
) -> NDArray[np.float64]:
    """NDCG@k of each group with a positive, in sorted group-id order; shapes ``(n,)``.

    Two scorers over the same rows give aligned arrays, so their difference can be bootstrapped
    group by group (a paired comparison).
    """
    values = []
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    for ranked, gy in _grouped(labels, scores, groups, k):
        dcg = float(((2.0 ** ranked[:k] - 1.0) * discounts[: len(ranked[:k])]).sum())
        ideal = np.sort(gy)[::-1][:k]
        idcg = float(((2.0**ideal - 1.0) * discounts[: len(ideal)]).sum())
        values.append(dcg / idcg)
    return np.asarray(values, dtype=np.float64)


def ndcg_at_k(labels: ArrayLike, scores: ArrayLike, groups: ArrayLike, k: int) -> float:
    """Mean NDCG@k over groups with a positive; shapes ``(n,)``."""
    values = ndcg_per_group(labels, scores, groups, k)
    return float(values.mean()) if len(values) else 0.0


def hit_rate_at_k(labels: ArrayLike, scores: ArrayLike, groups: ArrayLike, k: int) -> float:
    """Share of groups (with a positive) that have a positive in the top ``k``."""
    hits = [float(ranked[:k].max() > 0) for ranked, _ in _grouped(labels, scores, groups, k)]
    return float(np.mean(hits)) if hits else 0.0
