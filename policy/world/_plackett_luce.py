"""The Plackett-Luce logging policy: slates drawn position by position, exact propensities.

Plackett-Luce (Plackett 1975; Luce 1959) over softmax(score / T): a slate is filled position by
position, each item drawn from the candidates not yet chosen with probability proportional to
exp(score / T). With `epsilon` > 0 each position is instead drawn uniformly from the remaining
candidates with probability epsilon, so every candidate keeps a propensity of at least
epsilon / n at each position (bounded importance weights). The same walk samples slates
(`simulate_sessions`) and scores given ones (`plackett_luce_propensities`), so the logged
propensities are those of the sampler by construction; the tests check both against brute-force
enumeration.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._arrays import ArrayLike, BoolArray, FloatArray, IntArray, as_int, check_range

__all__ = ["Picker", "check_policy", "plackett_luce_propensities", "sampler", "walk"]

Picker = Callable[[int, FloatArray], IntArray]
"""`pick(position, p)`: each row's chosen column given the probabilities p (-1 when none)."""


def walk(
    logits: FloatArray, valid: BoolArray, k: int, epsilon: float, pick: Picker
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Fill k positions; `pick(position, p)` returns each row's column (-1 when none is left).

    Returns the chosen columns (r, k), their conditional propensities (r, k) and the
    first-position probabilities (r, n).
    """
    r, n = logits.shape
    masked = np.where(valid, logits, -np.inf)
    count = valid.sum(axis=1).astype(np.float64)
    cols = np.full((r, k), -1, dtype=np.int64)
    prop = np.ones((r, k))
    first = np.zeros((r, n))
    rows = np.arange(r)
    for pos in range(k):
        # Re-centred on the best remaining score each position, so nothing underflows.
        top = masked.max(axis=1, initial=-np.inf)
        weight = np.exp(masked - np.where(np.isfinite(top), top, 0.0)[:, None])
        total = weight.sum(axis=1)
        p = weight * ((1.0 - epsilon) / np.where(total > 0, total, 1.0))[:, None]
        if epsilon:
            p += np.isfinite(masked) * (epsilon / np.maximum(count, 1.0))[:, None]
        if pos == 0:
            first = p
        col = pick(pos, p)
        has = col >= 0
        cols[:, pos] = col
        prop[has, pos] = p[rows[has], col[has]]
        masked[rows[has], col[has]] = -np.inf
        count -= has
    return cols, prop, first


def plackett_luce_propensities(
    scores: ArrayLike,
    valid: ArrayLike,
    chosen_column: ArrayLike,
    *,
    temperature: float = 1.0,
    epsilon: float = 0.0,
) -> tuple[FloatArray, FloatArray]:
    """The logging policy's propensities of given slates (recomputed from stored scores).

    Args:
        scores: shape (m, n), logging scores; ignored where `valid` is false.
        valid: shape (m, n), bool: which columns hold a candidate.
        chosen_column: shape (m, k), the slate as candidate columns, -1 for no item.
        temperature: T > 0 (`inf` gives the uniform policy).
        epsilon: the per-position uniform mixing weight, in [0, 1].

    Returns:
        `(first_position, propensity)`: shape (m, n) the probability of each candidate at
        position 0, and shape (m, k) P(chosen[k] at position k | chosen[:k]) (1.0 for no item).

    Example:
        >>> import numpy as np
        >>> first, prop = plackett_luce_propensities(
        ...     [[0.0, 0.0, np.log(2.0)]], [[True, True, True]], [[2, 0]])
        >>> first.round(3).tolist(), prop.round(3).tolist()
        ([[0.25, 0.25, 0.5]], [[0.5, 0.5]])
    """
    owner = "plackett_luce_propensities"
    valid_arr = np.asarray(valid, dtype=np.bool_)
    score_arr = np.where(valid_arr, np.asarray(scores, dtype=np.float64), 0.0)
    cols = as_int(owner, "chosen_column", chosen_column, (valid_arr.shape[0], None))
    check_policy(owner, temperature, epsilon)
    if score_arr.shape != valid_arr.shape or score_arr.ndim != 2:
        raise ValueError(
            f"{owner}: `scores` and `valid` must have the same shape (m, n); got "
            f"{score_arr.shape} and {valid_arr.shape}"
        )
    check_range(owner, "chosen_column", cols, -1, score_arr.shape[1] - 1)
    if not np.isfinite(score_arr).all():
        raise ValueError(f"{owner}: `scores` must be finite where `valid` is true")

    def given(pos: int, _: FloatArray) -> IntArray:
        return cols[:, pos]

    _, prop, first = walk(score_arr / temperature, valid_arr, cols.shape[1], epsilon, given)
    return first, prop


def check_policy(owner: str, temperature: float, epsilon: float) -> None:
    if not temperature > 0:
        raise ValueError(f"{owner}: `temperature` must be > 0 (inf = uniform); got {temperature}")
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"{owner}: `epsilon` must lie in [0, 1]; got {epsilon}")


def sampler(rng: np.random.Generator) -> Picker:
    """Inverse-CDF draws: one uniform per row and position, whatever the probabilities."""

    def pick(_: int, p: FloatArray) -> IntArray:
        cum = np.cumsum(p, axis=1)
        u = rng.random(p.shape[0]) * cum[:, -1]
        col = np.minimum((cum <= u[:, None]).sum(axis=1), p.shape[1] - 1)
        last = p.shape[1] - 1 - np.argmax((p > 0)[:, ::-1], axis=1)  # rounding at the top end
        col = np.where(p[np.arange(p.shape[0]), col] > 0, col, last)
        out: IntArray = np.where(cum[:, -1] > 0, col, -1).astype(np.int64)
        return out

    return pick
