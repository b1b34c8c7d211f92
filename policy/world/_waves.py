"""Logged sessions in bulk: a Plackett-Luce logging policy and the shoppers' responses, in waves.

Thousands of sessions advance together, one turn per wave (docs/world.md, "Logged
interactions"). Each turn a session either asks a clarifying question or shows a slate that a
stochastic logging policy draws from the session's candidate set; the `UserChoiceModel` answers
it and the session dynamics (equations 9-12) decide whether the shopper stays. Every decision
keeps the logging policy's exact propensities, so off-policy estimators run on the output have
ground truth to be checked against.

The logging policy is the Plackett-Luce policy of `plackett_luce_propensities`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from ._arrays import ArrayLike, BoolArray, FloatArray, IntArray, as_int, check_range
from ._choice import SlateOutcomes, SlateProbabilities, UserChoiceModel
from ._items import ItemBatch
from ._params import DEFAULT_SESSION_PARAMS, SessionParams
from ._plackett_luce import check_policy, sampler, walk
from ._session import (
    known_fraction,
    leave_probability,
    match_estimate,
    match_sharpness,
    true_match,
)
from ._shoppers import ShopperLatents

__all__ = ["SessionLog", "simulate_sessions"]

_OWNER = "simulate_sessions"


@dataclass(frozen=True, eq=False)
class SessionLog:
    """Every decision of `simulate_sessions`, wave by wave; m decisions, n columns.

    Decisions are ordered by turn, then session (the order the waves ran in);
    `np.lexsort((log.turn, log.session))` orders them by session instead.

    A column is a position in the session's candidate set (the row of `candidates` it came
    from); padding columns (-1 in `candidates`) hold score 0 and probability 0.

    Attributes:
        session: int, shape (m,): the session (row of the inputs) of each decision.
        turn: int, shape (m,): 1-based turn of the session; clarifying turns take numbers too.
        user: int, shape (m,): the shopper (row of `shoppers`).
        candidates: int, shape (m, n): the session's candidate set, item indices, -1 = padding.
        scores: float, shape (m, n): the logging scores the policy used this turn (after
            `match_weight` and `score_decimals`, before the temperature).
        first_position: float, shape (m, n): the probability of each candidate at position 0.
        chosen: int, shape (m, k): the slate's item indices by position; -1 = no item (fewer
            than k candidates).
        chosen_column: int, shape (m, k): the same as columns of `candidates`; -1 = no item.
        propensity: float, shape (m, k): P(chosen[k] at position k | chosen[:k]); 1.0 where
            there is no item, so the row product is the slate's probability.
        known_fraction: float, shape (m,): f of eq. 10 when the slate was shown.
        match: float, shape (m, k): the true match m* of each shown card (0.5 at no item).
        probabilities: the true outcome probabilities of each shown card, shape (m, k).
        outcomes: the sampled events of each shown card, shape (m, k).
        session_turns: int, shape (s,): turns each session took (>= 1).
        session_clarified: int, shape (s,): clarifying questions each session asked.
        session_truncated: bool, shape (s,): the turn budget ended the session, not the shopper.
    """

    session: IntArray
    turn: IntArray
    user: IntArray
    candidates: IntArray
    scores: FloatArray
    first_position: FloatArray
    chosen: IntArray
    chosen_column: IntArray
    propensity: FloatArray
    known_fraction: FloatArray
    match: FloatArray
    probabilities: SlateProbabilities
    outcomes: SlateOutcomes
    session_turns: IntArray
    session_clarified: IntArray
    session_truncated: BoolArray

    def __len__(self) -> int:
        return int(self.session.shape[0])

    @property
    def slate_propensity(self) -> FloatArray:
        """The probability of each logged slate (the product over positions), shape (m,)."""
        out: FloatArray = self.propensity.prod(axis=1)
        return out


_Row = TypeVar("_Row", SlateProbabilities, SlateOutcomes)


@dataclass(frozen=True, eq=False)
class _Wave:
    """The decisions of one wave, in the layout of `SessionLog` (unsorted)."""

    session: IntArray
    turn: IntArray
    user: IntArray
    candidates: IntArray
    scores: FloatArray
    first_position: FloatArray
    chosen: IntArray
    chosen_column: IntArray
    propensity: FloatArray
    known_fraction: FloatArray
    match: FloatArray
    probabilities: SlateProbabilities
    outcomes: SlateOutcomes


def _validate(
    shoppers: ShopperLatents,
    items: ItemBatch,
    users: ArrayLike,
    intents: ArrayLike,
    candidates: ArrayLike,
    scores: ArrayLike,
) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    cand = as_int(_OWNER, "candidates", candidates, (None, None))
    s, n = cand.shape
    users_arr = as_int(_OWNER, "users", users, (s,))
    intents_arr = as_int(_OWNER, "intents", intents, (s,))
    check_range(_OWNER, "users", users_arr, 0, len(shoppers) - 1)
    check_range(_OWNER, "intents", intents_arr, 0, items.n_categories - 1)
    check_range(_OWNER, "candidates", cand, -1, len(items) - 1)
    raw = np.asarray(scores, dtype=np.float64)
    if raw.shape != (s, n):
        raise ValueError(f"{_OWNER}: `scores` must have shape ({s}, {n}); got {raw.shape}")
    valid = cand >= 0
    if not np.isfinite(raw[valid]).all():
        raise ValueError(f"{_OWNER}: `scores` must be finite wherever a candidate is")
    empty = ~valid.any(axis=1)
    if empty.any():
        raise ValueError(
            f"{_OWNER}: session {int(np.argmax(empty))} has no candidate; every row of "
            "`candidates` needs at least one index >= 0"
        )
    ordered = np.sort(cand, axis=1)
    dup = (ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)
    if dup.any():
        row = int(np.argmax(dup.any(axis=1)))
        raise ValueError(
            f"{_OWNER}: session {row} lists a candidate twice; candidates must be "
            "distinct within a session"
        )
    return users_arr, intents_arr, cand, np.where(valid, raw, 0.0)


def simulate_sessions(
    model: UserChoiceModel,
    shoppers: ShopperLatents,
    items: ItemBatch,
    users: ArrayLike,
    intents: ArrayLike,
    candidates: ArrayLike,
    scores: ArrayLike,
    rng: np.random.Generator,
    *,
    slate_size: int = 3,
    temperature: float = 1.0,
    epsilon: float = 0.0,
    match_weight: float = 0.0,
    score_decimals: int | None = None,
    clarify_rate: float = 0.0,
    max_turns: int = 8,
    params: SessionParams = DEFAULT_SESSION_PARAMS,
) -> SessionLog:
    """Run s sessions to their end under a Plackett-Luce logging policy, all at once.

    Per session the true match of every candidate (eq. 9) and the noise of the assistant's view
    (eq. 10) are drawn once. Each wave, every live session asks a clarifying question with
    probability `clarify_rate` (while slots are unknown) or shows a slate: the logging score of
    each candidate is `scores + match_weight * match_estimate` (rounded to `score_decimals` when
    given), and the policy draws `slate_size` distinct candidates from softmax(score / T), each
    position mixed with a uniform draw at weight `epsilon`. The shopper responds (eq. 1-8 with
    m*, the sharpness of eq. 11 and the fatigue offset for cards shown before) and leaves with
    the probability of eq. 12; `max_turns` truncates. Random numbers are drawn in fixed amounts
    per wave, so a seed fixes everything.

    Args:
        model: the user-choice model.
        shoppers: the population.
        items: the item pool the candidates index.
        users: shape (s,), the shopper of each session.
        intents: shape (s,), each session's intended category (e.g. from `draw_intents`).
        candidates: shape (s, n), each session's candidate set as item indices, -1 = padding;
            distinct within a row, at least one per row.
        scores: shape (s, n), the logging policy's base score of each candidate.
        rng: the generator everything is drawn from.
        slate_size: k, the cards per slate.
        temperature: T > 0; `inf` makes the policy uniform.
        epsilon: per-position uniform mixing, in [0, 1].
        match_weight: weight of the assistant's match estimate in the logging score.
        score_decimals: round the logging scores to this many decimals before use, so a log
            that stores them rounded still reproduces the propensities exactly.
        clarify_rate: probability that a turn is a clarifying question (while f < 1).
        max_turns: the turn budget of a session.
        params: session parameters; default the frozen demo world.

    Returns:
        Every decision, by turn then session, with propensities, true probabilities and
        sampled events.

    Example:
        >>> import numpy as np
        >>> from policy.world import (
        ...     UserChoiceModel, draw_intents, sample_items, sample_shoppers, simulate_sessions)
        >>> rng = np.random.default_rng(0)
        >>> items, shoppers = sample_items(300, 8, 20, rng), sample_shoppers(100, 8, 20, rng)
        >>> users = rng.integers(0, 100, 500)
        >>> cand = np.stack([rng.choice(300, 30, replace=False) for _ in range(500)])
        >>> log = simulate_sessions(UserChoiceModel(), shoppers, items, users,
        ...     draw_intents(shoppers, users, rng), cand, items.popularity[cand], rng,
        ...     epsilon=0.05)
        >>> log.chosen.shape[1], bool((log.session_turns >= 1).all())
        (3, True)
        >>> bool(np.allclose(log.first_position.sum(axis=1), 1.0))
        True
    """
    users_arr, intents_arr, cand, base = _validate(
        shoppers, items, users, intents, candidates, scores
    )
    check_policy(_OWNER, temperature, epsilon)
    if slate_size < 1 or max_turns < 1:
        raise ValueError(
            f"{_OWNER}: `slate_size` and `max_turns` must be >= 1; got {slate_size}, {max_turns}"
        )
    if not 0.0 <= clarify_rate <= 1.0 or not np.isfinite(match_weight):
        raise ValueError(
            f"{_OWNER}: need 0 <= clarify_rate <= 1 and a finite match_weight; got "
            f"{clarify_rate}, {match_weight}"
        )
    if score_decimals is not None and score_decimals < 0:
        raise ValueError(f"{_OWNER}: `score_decimals` must be >= 0; got {score_decimals}")
    s, n = cand.shape
    valid = cand >= 0
    truth = true_match(intents_arr, items.category[np.where(valid, cand, 0)], rng, params)
    noise = rng.standard_normal((s, n))
    seen = np.zeros((s, n), dtype=np.bool_)
    clarified = np.zeros(s, dtype=np.int64)
    streak = np.zeros(s, dtype=np.int64)
    active = np.ones(s, dtype=np.bool_)
    turns = np.zeros(s, dtype=np.int64)
    truncated = np.zeros(s, dtype=np.bool_)
    patience = shoppers.patience[users_arr]
    pick = sampler(rng)
    waves: list[_Wave] = []
    for turn in range(1, max_turns + 1):
        f = known_fraction(clarified, params)
        ask = active & (rng.random(s) < clarify_rate) & (f < 1.0)
        turns[active] = turn
        show = np.flatnonzero(active & ~ask)
        clicked = np.zeros(s, dtype=np.bool_)
        bought = np.zeros(s, dtype=np.bool_)
        if show.size:
            eff = base[show]
            if match_weight:
                estimate = match_estimate(truth[show], noise[show], f[show], params)
                eff = eff + match_weight * estimate
            if score_decimals is not None:
                eff = np.round(eff, score_decimals)
            eff = np.where(valid[show], eff, 0.0)
            cols, prop, first = walk(eff / temperature, valid[show], slate_size, epsilon, pick)
            has = cols >= 0
            safe = np.where(has, cols, 0)
            rows = show[:, None]
            chosen = np.where(has, cand[rows, safe], -1)
            match = np.where(has, truth[rows, safe], 0.5)
            probs, out = model.simulate(
                shoppers,
                users_arr[show],
                items,
                chosen,
                rng,
                match=match,
                sharpness=match_sharpness(f[show], params),
                offset=-params.seen_penalty * (seen[rows, safe] & has),
            )
            seen[np.broadcast_to(rows, safe.shape)[has], safe[has]] = True
            clicked[show] = out.click.any(axis=1)
            bought[show] = out.purchase.any(axis=1)
            streak[show] = np.where(clicked[show], 0, streak[show] + 1)
            waves.append(
                _Wave(
                    session=show,
                    turn=np.full(show.size, turn, dtype=np.int64),
                    user=users_arr[show],
                    candidates=cand[show],
                    scores=eff,
                    first_position=first,
                    chosen=chosen,
                    chosen_column=cols,
                    propensity=prop,
                    known_fraction=f[show],
                    match=match,
                    probabilities=probs,
                    outcomes=out,
                )
            )
        p_leave = leave_probability(
            turn,
            streak,
            patience,
            clicked=clicked,
            purchased=bought,
            clarified=ask,
            redundant_clarify=ask & (f >= 1.0),
            params=params,
        )
        clarified += ask
        active &= rng.random(s) >= p_leave
        if turn == max_turns:
            truncated = active.copy()
        if not active.any():
            break
    return _assemble(waves, cand.shape[1], slate_size, turns, clarified, truncated)


def _empty_probabilities(k: int) -> SlateProbabilities:
    return SlateProbabilities(
        **{f.name: np.zeros((0, k)) for f in dataclasses.fields(SlateProbabilities)}
    )


def _empty_outcomes(k: int) -> SlateOutcomes:
    flag = np.zeros((0, k), dtype=np.bool_)
    return SlateOutcomes(
        flag, flag, flag, flag, np.zeros((0, k), dtype=np.int64), np.zeros((0, k)), np.zeros((0, k))
    )


def _stack(parts: Sequence[_Row]) -> _Row:
    """Concatenate dataclasses of arrays field by field."""
    return dataclasses.replace(
        parts[0],
        **{
            f.name: np.concatenate([getattr(p, f.name) for p in parts])
            for f in dataclasses.fields(parts[0])
        },
    )


def _assemble(
    waves: list[_Wave],
    n: int,
    k: int,
    turns: IntArray,
    clarified: IntArray,
    truncated: BoolArray,
) -> SessionLog:
    """Concatenate the waves: decisions by turn, then session."""
    if not waves:
        waves = [
            _Wave(
                session=np.zeros(0, dtype=np.int64),
                turn=np.zeros(0, dtype=np.int64),
                user=np.zeros(0, dtype=np.int64),
                candidates=np.zeros((0, n), dtype=np.int64),
                scores=np.zeros((0, n)),
                first_position=np.zeros((0, n)),
                chosen=np.zeros((0, k), dtype=np.int64),
                chosen_column=np.zeros((0, k), dtype=np.int64),
                propensity=np.zeros((0, k)),
                known_fraction=np.zeros(0),
                match=np.zeros((0, k)),
                probabilities=_empty_probabilities(k),
                outcomes=_empty_outcomes(k),
            )
        ]
    arrays = {
        f.name: np.concatenate([getattr(w, f.name) for w in waves])
        for f in dataclasses.fields(_Wave)
        if f.name not in ("probabilities", "outcomes")
    }
    return SessionLog(
        **arrays,
        probabilities=_stack([w.probabilities for w in waves]),
        outcomes=_stack([w.outcomes for w in waves]),
        session_turns=turns,
        session_clarified=clarified,
        session_truncated=truncated,
    )
