"""Session dynamics as vectorized functions: intent match, clarification, leaving.

`ShoppingEnv` runs one session with these; a log generator can run many sessions in waves with
the same functions and `UserChoiceModel.simulate`, so both follow one set of equations
(docs/world.md, equations 9-12).
"""

from __future__ import annotations

import numpy as np

from ._arrays import ArrayLike, FloatArray, IntArray, sigmoid
from ._params import DEFAULT_SESSION_PARAMS, SessionParams

__all__ = [
    "known_fraction",
    "leave_probability",
    "match_estimate",
    "match_sharpness",
    "true_match",
]


def true_match(
    intent: IntArray,
    item_category: IntArray,
    rng: np.random.Generator,
    params: SessionParams = DEFAULT_SESSION_PARAMS,
) -> FloatArray:
    """How well each item fits the session's need (eq. 9), shape like `item_category`.

    m*_i = v_i if item i is in the intended category, else `off_intent_match` * v_i, with
    v_i ~ Beta(a, b) drawn per session and item.

    Args:
        intent: shape (s,), the intended category of each session.
        item_category: shape (s, n), the category of each candidate of each session.
        rng: the generator v is drawn from.
        params: session parameters.
    """
    fit = rng.beta(*params.match_beta, size=item_category.shape)
    same = item_category == intent[:, None]
    out: FloatArray = np.where(same, fit, params.off_intent_match * fit)
    return out


def known_fraction(
    n_clarified: ArrayLike, params: SessionParams = DEFAULT_SESSION_PARAMS
) -> FloatArray:
    """f = min(1, (1 + answered clarifications) / n_slots): the first message fills one slot."""
    k = np.asarray(n_clarified, dtype=np.float64)
    out: FloatArray = np.minimum(1.0, (1.0 + k) / params.n_slots)
    return out


def match_estimate(
    match: FloatArray,
    noise: FloatArray,
    fraction_known: ArrayLike,
    params: SessionParams = DEFAULT_SESSION_PARAMS,
) -> FloatArray:
    """What the assistant can see of the match (eq. 10): clip(m* + sigma0 (1 - f) eps, 0, 1).

    `noise` (eps ~ N(0, 1), same shape as `match`) is drawn once per session, so each answer
    only removes error and never adds fresh error.
    """
    f = np.asarray(fraction_known, dtype=np.float64)
    if f.ndim:
        f = f[..., None]
    out: FloatArray = np.clip(match + params.match_noise * (1.0 - f) * noise, 0.0, 1.0)
    return out


def match_sharpness(
    fraction_known: ArrayLike, params: SessionParams = DEFAULT_SESSION_PARAMS
) -> FloatArray:
    """kappa = floor + (1 - floor) f (eq. 11): a shopper who has said more weighs fit more."""
    f = np.asarray(fraction_known, dtype=np.float64)
    out: FloatArray = params.sharpness_floor + (1.0 - params.sharpness_floor) * f
    return out


def leave_probability(
    turn: ArrayLike,
    poor_streak: ArrayLike,
    patience: ArrayLike,
    *,
    clicked: ArrayLike = False,
    purchased: ArrayLike = False,
    clarified: ArrayLike = False,
    redundant_clarify: ArrayLike = False,
    params: SessionParams = DEFAULT_SESSION_PARAMS,
) -> FloatArray:
    """Probability that the shopper leaves after a turn (eq. 12); broadcasts over arrays.

    1 once `poor_streak` (consecutive slates without a click) reaches `patience`; otherwise
    sigmoid(b0 + b_turn t + b_poor streak / patience + b_click click + b_buy purchase
    + b_clar clarified + b_red redundant).

    Args:
        turn: turns completed so far (>= 1 after the first action).
        poor_streak: consecutive recommendation turns without a click, this one included.
        patience: the shopper's patience (>= 1).
        clicked: the turn's slate got at least one click.
        purchased: the turn ended in at least one purchase.
        clarified: the turn was a clarifying question.
        redundant_clarify: the question asked for nothing new (every slot already known).
        params: session parameters.

    Example:
        >>> from policy.world import leave_probability
        >>> [round(float(p), 3) for p in leave_probability(2, [0, 1, 2, 3], 3)]
        [0.076, 0.119, 0.182, 1.0]
    """
    t = np.asarray(turn, dtype=np.float64)
    streak = np.asarray(poor_streak, dtype=np.float64)
    pat = np.asarray(patience, dtype=np.float64)
    logit = (
        params.leave_intercept
        + params.leave_turn * t
        + params.leave_poor * streak / pat
        + params.leave_click * np.asarray(clicked, dtype=np.float64)
        + params.leave_purchase * np.asarray(purchased, dtype=np.float64)
        + params.leave_clarify * np.asarray(clarified, dtype=np.float64)
        + params.leave_redundant_clarify * np.asarray(redundant_clarify, dtype=np.float64)
    )
    out: FloatArray = np.where(streak >= pat, 1.0, sigmoid(np.asarray(logit, dtype=np.float64)))
    return out
