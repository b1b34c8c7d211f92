"""A shopping session as an environment with a Gymnasium-like API (no gymnasium dependency)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import numpy as np

from ._arrays import FloatArray, IntArray
from ._choice import SlateOutcomes, SlateProbabilities, UserChoiceModel
from ._items import ItemBatch
from ._params import DEFAULT_SESSION_PARAMS, SessionParams
from ._session import (
    known_fraction,
    leave_probability,
    match_estimate,
    match_sharpness,
    true_match,
)
from ._shoppers import ShopperLatents, draw_intents

__all__ = [
    "OBSERVATION_NAMES",
    "Action",
    "Clarify",
    "Handoff",
    "OfferCoupon",
    "Recommend",
    "Reward",
    "ShoppingEnv",
    "StepInfo",
]

_Row = TypeVar("_Row", SlateOutcomes, SlateProbabilities)


def _first_row(batch: _Row) -> _Row:
    """The (k,) view of a (1, k) batch result."""
    fields = dataclasses.fields(batch)
    return dataclasses.replace(batch, **{f.name: getattr(batch, f.name)[0] for f in fields})


OBSERVATION_NAMES: tuple[str, ...] = (
    "turn_fraction",  # turns taken / max_turns
    "slots_known_fraction",  # f in eq. 10-11
    "last_best_match_estimate",  # max match estimate over the last slate shown (0 before any)
    "last_slate_clicked",  # 1 if the last slate got a click
    "clicks",  # so far in the session
    "claims",
    "add_to_carts",
    "purchases",
    "poor_streak",  # consecutive slates without a click
    "is_member",
    "is_new",
)


@dataclass(frozen=True)
class Recommend:
    """Show `slate` (candidate indices, position 0 first; 1 to `slate_size` distinct items)."""

    slate: tuple[int, ...]


@dataclass(frozen=True)
class Clarify:
    """Ask a clarifying question: costs a turn, makes the match estimate and the shopper sharper."""


@dataclass(frozen=True)
class OfferCoupon:
    """Offer one claimable item (`needs_claim`) alone, with extra salience."""

    index: int


@dataclass(frozen=True)
class Handoff:
    """Hand the session to a human agent: the episode ends, with no reward."""


Action = Recommend | Clarify | OfferCoupon | Handoff


class Reward(StrEnum):
    """What a step's reward counts, summed over the cards shown."""

    CLICK = "click"
    CLAIM = "claim"
    ADD_TO_CART = "add_to_cart"
    PURCHASE = "purchase"
    REVENUE = "revenue"  # final price x quantity
    MARGIN = "margin"  # quantity x (final price - cost_ratio x list price)


@dataclass(frozen=True, eq=False)
class StepInfo:
    """What happened in a step beyond the reward (the `info` of the Gym API)."""

    turn: int
    outcome: SlateOutcomes | None  # None for Clarify and Handoff
    probabilities: SlateProbabilities | None
    leave_probability: float
    left: bool
    truncated: bool  # the turn budget ran out
    handoff: bool


class ShoppingEnv:
    """One shopper, one session, turn by turn; deterministic given the seed.

    At `reset` a shopper is drawn (or given), the session's intended category c* is drawn from
    their interests, and so are the true match of every candidate (eq. 9) and the noise of the
    assistant's view of it (eq. 10). Each step takes one action; the shopper responds with the
    `UserChoiceModel` (the match term weighted by the sharpness of eq. 11, cards shown earlier
    penalized) and may then leave (eq. 12). The turn budget ends the session too.

    Args:
        items: the candidates of every session, shape (n,).
        shoppers: the population sessions draw their shopper from.
        model: the choice model; default the frozen demo world.
        session: session parameters; default the frozen demo world.
        slate_size: the largest slate a Recommend may show.
        max_turns: turn budget of a session.
        reward: what the reward counts.
        seed: seeds the generator until `reset(seed=...)` replaces it.

    Example:
        >>> import numpy as np
        >>> from policy.world import (
        ...     OBSERVATION_NAMES, Clarify, Recommend, ShoppingEnv, sample_items, sample_shoppers)
        >>> rng = np.random.default_rng(0)
        >>> env = ShoppingEnv(sample_items(200, 8, 20, rng), sample_shoppers(50, 8, 20, rng))
        >>> obs = env.reset(seed=1)
        >>> obs.shape == (len(OBSERVATION_NAMES),)
        True
        >>> obs, reward, done, info = env.step(Clarify())
        >>> best = tuple(int(i) for i in np.argsort(-env.match_estimate)[:3])
        >>> obs, reward, done, info = env.step(Recommend(best))
        >>> info.outcome is not None and info.outcome.click.shape == (3,)
        True
    """

    def __init__(
        self,
        items: ItemBatch,
        shoppers: ShopperLatents,
        *,
        model: UserChoiceModel | None = None,
        session: SessionParams = DEFAULT_SESSION_PARAMS,
        slate_size: int = 3,
        max_turns: int = 8,
        reward: Reward | str = Reward.CLICK,
        seed: int | None = None,
    ) -> None:
        if len(items) < 1 or len(shoppers) < 1:
            raise ValueError("ShoppingEnv: needs at least one item and one shopper")
        if slate_size < 1 or max_turns < 1:
            raise ValueError(
                f"ShoppingEnv: slate_size and max_turns must be >= 1; got {slate_size}, {max_turns}"
            )
        if items.n_categories != shoppers.n_categories or items.n_brands != shoppers.n_brands:
            raise ValueError(
                "ShoppingEnv: items and shoppers disagree on n_categories / n_brands; build "
                "both for the same catalog"
            )
        self.items = items
        self.shoppers = shoppers
        self.model = model or UserChoiceModel()
        self.session = session
        self.slate_size = slate_size
        self.max_turns = max_turns
        self.reward_kind = Reward(reward)
        self._rng = np.random.default_rng(seed)
        self._done = True
        self._started = False

    # Gym-like API ----------------------------------------------------------------------------

    def reset(self, seed: int | None = None, *, user: int | None = None) -> FloatArray:
        """Start a session; `user` picks the shopper (default: drawn uniformly)."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        rng = self._rng
        n = len(self.items)
        drawn = int(rng.integers(len(self.shoppers)))
        self._user = drawn if user is None else int(user)
        if not 0 <= self._user < len(self.shoppers):
            raise ValueError(f"ShoppingEnv: user {self._user} out of range")
        self._shopper = self.shoppers[self._user]
        self._intent = int(draw_intents(self.shoppers, np.array([self._user]), rng)[0])
        self._match = true_match(
            np.array([self._intent]), self.items.category[None, :], rng, self.session
        )[0]
        self._noise = rng.standard_normal(n)
        self._clarified = 0
        self._turn = 0
        self._poor_streak = 0
        self._counts = np.zeros(4)  # clicks, claims, add-to-carts, purchases
        self._seen = np.zeros(n, dtype=np.bool_)
        self._last_best = 0.0
        self._last_clicked = False
        self._done = False
        self._started = True
        return self._observation()

    def step(self, action: Action) -> tuple[FloatArray, float, bool, StepInfo]:
        """Apply `action`; returns (observation, reward, terminated, info)."""
        if self._done:
            raise RuntimeError("ShoppingEnv: the session has ended (or never began); call reset()")
        outcome: SlateOutcomes | None = None
        probs: SlateProbabilities | None = None
        clarified = redundant = False
        if isinstance(action, Handoff):
            self._turn += 1
            self._done = True
            info = StepInfo(self._turn, None, None, 0.0, False, False, True)
            return self._observation(), 0.0, True, info
        if isinstance(action, Clarify):
            redundant = self._clarified + 1 >= self.session.n_slots
            self._clarified += 1
            clarified = True
        elif isinstance(action, Recommend | OfferCoupon):
            slate, salience = self._validate(action)
            probs = self._slate_probabilities(slate, salience)
            outcome = _first_row(self.model.sample(probs, self.items, slate[None, :], self._rng))
            probs = _first_row(probs)
            self._seen[slate] = True
            self._last_best = float(self.match_estimate[slate].max())
            self._last_clicked = bool(outcome.click.any())
            self._poor_streak = 0 if self._last_clicked else self._poor_streak + 1
            self._counts += [
                outcome.click.sum(),
                outcome.claim.sum(),
                outcome.add_to_cart.sum(),
                outcome.purchase.sum(),
            ]
        else:
            raise TypeError(f"ShoppingEnv: unknown action {action!r}")
        self._turn += 1
        p_leave = float(
            leave_probability(
                self._turn,
                self._poor_streak,
                int(self._shopper.patience[0]),
                clicked=outcome is not None and bool(outcome.click.any()),
                purchased=outcome is not None and bool(outcome.purchase.any()),
                clarified=clarified,
                redundant_clarify=redundant,
                params=self.session,
            )
        )
        left = bool(self._rng.random() < p_leave)
        truncated = not left and self._turn >= self.max_turns
        self._done = left or truncated
        reward = 0.0 if outcome is None else self._reward(outcome)
        info = StepInfo(self._turn, outcome, probs, p_leave, left, truncated, False)
        return self._observation(), reward, self._done, info

    # Views for policies and for checking them ------------------------------------------------

    @property
    def user(self) -> int:
        """Row of `shoppers` in this session."""
        self._require_started()
        return self._user

    @property
    def match_estimate(self) -> FloatArray:
        """The assistant's view of each candidate's match now, shape (n,) (eq. 10)."""
        self._require_started()
        f = known_fraction(self._clarified, self.session)
        return match_estimate(self._match, self._noise, float(f), self.session)

    @property
    def match_truth(self) -> FloatArray:
        """The true match of each candidate this session, shape (n,) (eq. 9).

        Ground truth for checking estimators and for tests; a policy must not read it.
        """
        self._require_started()
        out: FloatArray = self._match.copy()
        return out

    @property
    def done(self) -> bool:
        """Whether the session has ended (or not begun); `step` then needs `reset` first."""
        return self._done

    def slate_probabilities(self, slate: tuple[int, ...] | list[int]) -> SlateProbabilities:
        """The true probabilities of showing `slate` now, shape (k,); samples nothing."""
        self._require_started()
        idx, salience = self._validate(Recommend(tuple(slate)))
        probs = self._slate_probabilities(idx, salience)
        return _first_row(probs)

    # Internals -------------------------------------------------------------------------------

    def _require_started(self) -> None:
        if not self._started:
            raise RuntimeError("ShoppingEnv: call reset() first")

    def _validate(self, action: Recommend | OfferCoupon) -> tuple[IntArray, float]:
        n = len(self.items)
        if isinstance(action, OfferCoupon):
            i = int(action.index)
            if not 0 <= i < n:
                raise ValueError(f"ShoppingEnv: OfferCoupon index {i} not in [0, {n})")
            if not self.items.needs_claim[i]:
                raise ValueError(f"ShoppingEnv: OfferCoupon needs a claimable item; {i} is not")
            return np.array([i], dtype=np.int64), self.session.offer_salience
        slate = np.asarray(action.slate, dtype=np.int64)
        if not 1 <= slate.size <= self.slate_size:
            raise ValueError(
                f"ShoppingEnv: a slate holds 1 to {self.slate_size} items; got {slate.size}"
            )
        if slate.min() < 0 or slate.max() >= n or np.unique(slate).size != slate.size:
            raise ValueError(
                f"ShoppingEnv: slate items must be distinct indices in [0, {n}); got "
                f"{tuple(int(s) for s in slate)}"
            )
        return slate, 0.0

    def _slate_probabilities(self, slate: IntArray, salience: float) -> SlateProbabilities:
        f = known_fraction(self._clarified, self.session)
        offset = salience - self.session.seen_penalty * self._seen[slate]
        return self.model.slate_probabilities(
            self.shoppers,
            np.array([self._user]),
            self.items,
            slate[None, :],
            match=self._match[slate][None, :],
            sharpness=float(match_sharpness(f, self.session)),
            offset=offset[None, :],
        )

    def _reward(self, outcome: SlateOutcomes) -> float:
        kind = self.reward_kind
        if kind is Reward.REVENUE:
            return float(outcome.value.sum())
        if kind is Reward.MARGIN:
            return float(outcome.margin.sum())
        field = {
            Reward.CLICK: outcome.click,
            Reward.CLAIM: outcome.claim,
            Reward.ADD_TO_CART: outcome.add_to_cart,
            Reward.PURCHASE: outcome.purchase,
        }[kind]
        return float(field.sum())

    def _observation(self) -> FloatArray:
        f = float(known_fraction(self._clarified, self.session))
        return np.array(
            [
                self._turn / self.max_turns,
                f,
                self._last_best,
                float(self._last_clicked),
                *self._counts,
                float(self._poor_streak),
                float(self._shopper.is_member[0]),
                float(self._shopper.is_new[0]),
            ],
            dtype=np.float64,
        )
