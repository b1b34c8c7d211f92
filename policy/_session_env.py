"""The session policy's view of `ShoppingEnv`: actions, the state vector, and running sessions.

Private to `policy.session`; see that module for the model and the public API.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

import numpy as np
import numpy.typing as npt

from .world import OBSERVATION_NAMES, Clarify, Handoff, OfferCoupon, Recommend, ShoppingEnv
from .world import Action as EnvAction

__all__ = [
    "N_ACTIONS",
    "SESSION_STATE_NAMES",
    "SNAPSHOT_FORMAT",
    "SNAPSHOT_SCHEMA",
    "STATE_WIDTH",
    "ActionChoice",
    "SessionAction",
    "SessionPolicy",
    "SessionRun",
    "SessionRunner",
    "action_mask",
    "check_snapshot",
    "check_state",
    "choose",
    "encode_state",
    "epsilon_greedy_probabilities",
    "evaluate_policy",
    "snapshot_header",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class SessionAction(IntEnum):
    """The dialogue actions a session policy chooses among (the assistant's `ActionKind` names).

    The integer is the action's column in Q tables and network outputs; the order is fixed.
    """

    RECOMMEND = 0
    CLARIFY = 1
    OFFER_COUPON = 2
    HANDOFF = 3

    @property
    def kind(self) -> str:
        """The assistant's `ActionKind` value, e.g. ``"offer_coupon"``."""
        return self.name.lower()


N_ACTIONS = len(SessionAction)

SESSION_STATE_NAMES: tuple[str, ...] = (
    *OBSERVATION_NAMES,
    "next_slate_estimate",  # mean match estimate of the slate a RECOMMEND would show now
    "best_coupon_estimate",  # match estimate of the card an OFFER_COUPON would show (0 if none)
    "coupon_available",  # 1 if some candidate needs a claim, so OFFER_COUPON is possible
)
"""Names of the raw session state's columns: the env's observation, then three views of the
candidates that the assistant computes from its own match estimates (never the truth)."""

STATE_WIDTH = len(SESSION_STATE_NAMES)
_COUPON_COL = SESSION_STATE_NAMES.index("coupon_available")
_COUNT_COLS = [
    SESSION_STATE_NAMES.index(n) for n in ("clicks", "claims", "add_to_carts", "purchases")
]
_STREAK_COL = SESSION_STATE_NAMES.index("poor_streak")
_STREAK_CAP = 4.0


@dataclass(frozen=True, slots=True)
class ActionChoice:
    """One decision: the action, its probability under the policy, and every action's.

    Attributes:
        action: the chosen action.
        propensity: P(action | state) under the mode it was drawn in (1.0 when greedy).
        probabilities: P(a | state) for every `SessionAction`, in column order; sums to 1.
    """

    action: SessionAction
    propensity: float
    probabilities: tuple[float, ...]


class SessionPolicy(Protocol):
    """Chooses a dialogue action from the raw session state (`SESSION_STATE_NAMES`)."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    def act(self, state: FloatArray, *, rng: np.random.Generator | None = None) -> ActionChoice:
        """Greedy when `rng` is None; otherwise explore and return the propensity."""
        ...


def check_state(owner: str, state: object) -> FloatArray:
    """`state` as a float64 array of shape (STATE_WIDTH,), or a ValueError saying what is wrong."""
    try:
        arr = np.asarray(state, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}: `state` must be numeric; {exc}") from exc
    if arr.shape != (STATE_WIDTH,):
        raise ValueError(
            f"{owner}: `state` must have shape ({STATE_WIDTH},), one value per "
            f"SESSION_STATE_NAMES; got shape {arr.shape}. Build it with "
            "SessionRunner.state() from the env's observation"
        )
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(
            f"{owner}: `state` must be finite; got {arr[bad]} at index {bad} "
            f"({SESSION_STATE_NAMES[bad]})"
        )
    return arr


def encode_state(state: FloatArray) -> FloatArray:
    """Network features from raw states: same width, every value bounded (about [0, 2]).

    Counts become log1p(count), the poor streak min(streak, 4) / 4; the other columns are
    already fractions, flags or match estimates in [0, 1]. Works on shape (STATE_WIDTH,) or
    (m, STATE_WIDTH); the input is not validated here (`check_state` does that at the entry).
    """
    out = np.array(state, dtype=np.float64, copy=True)
    out[..., _COUNT_COLS] = np.log1p(np.maximum(out[..., _COUNT_COLS], 0.0))
    out[..., _STREAK_COL] = np.minimum(out[..., _STREAK_COL], _STREAK_CAP) / _STREAK_CAP
    return out


def action_mask(state: FloatArray) -> BoolArray:
    """Which actions are possible in `state`, shape (N_ACTIONS,) or (m, N_ACTIONS)."""
    state = np.asarray(state, dtype=np.float64)
    mask = np.ones((*state.shape[:-1], N_ACTIONS), dtype=np.bool_)
    mask[..., SessionAction.OFFER_COUPON] = state[..., _COUPON_COL] > 0.5
    return mask


def epsilon_greedy_probabilities(best: int, mask: BoolArray, epsilon: float) -> FloatArray:
    """(1 - epsilon) on `best` plus epsilon spread uniformly over the possible actions."""
    probs: FloatArray = np.where(mask, epsilon / mask.sum(), 0.0)
    probs[best] += 1.0 - epsilon
    return probs


def choose(probs: FloatArray, greedy: int, rng: np.random.Generator | None) -> ActionChoice:
    """Draw from `probs` (or take `greedy` when `rng` is None) and report the propensity."""
    if rng is None:
        one_hot = tuple(float(i == greedy) for i in range(N_ACTIONS))
        return ActionChoice(SessionAction(greedy), 1.0, one_hot)
    # Inverse CDF on one uniform: the draw is reproducible and uses exactly one number.
    u = float(rng.random())
    cdf = np.cumsum(probs)
    idx = int(min(np.searchsorted(cdf, u * cdf[-1], side="right"), N_ACTIONS - 1))
    while probs[idx] == 0.0:  # float edge at the top of the CDF
        idx -= 1
    return ActionChoice(SessionAction(idx), float(probs[idx]), tuple(float(p) for p in probs))


SNAPSHOT_FORMAT = "shopassist.session_policy"
SNAPSHOT_SCHEMA = 1


def snapshot_header(kind: str, version: str, epsilon: float) -> dict[str, object]:
    """The fields every session-policy snapshot starts with."""
    return {
        "format": SNAPSHOT_FORMAT,
        "schema": SNAPSHOT_SCHEMA,
        "kind": kind,
        "version": version,
        "epsilon": epsilon,
        "state_names": list(SESSION_STATE_NAMES),
    }


def check_snapshot(owner: str, snapshot: object, kind: str) -> dict[str, object]:
    """Validate a snapshot's header for `kind`; returns it as a dict."""
    if not isinstance(snapshot, dict):
        raise ValueError(f"{owner}: a snapshot must be a dict; got {type(snapshot).__name__}")
    if snapshot.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(
            f"{owner}: not a session-policy snapshot (format {snapshot.get('format')!r}, "
            f"expected {SNAPSHOT_FORMAT!r})"
        )
    if snapshot.get("schema") != SNAPSHOT_SCHEMA:
        raise ValueError(
            f"{owner}: snapshot schema {snapshot.get('schema')!r} is not supported (this code "
            f"reads schema {SNAPSHOT_SCHEMA}); retrain or convert the snapshot"
        )
    if snapshot.get("kind") != kind:
        raise ValueError(
            f"{owner}: snapshot holds a {snapshot.get('kind')!r} policy, not {kind!r}; load it "
            "with policy.session.policy_from_snapshot"
        )
    if snapshot.get("state_names") != list(SESSION_STATE_NAMES):
        raise ValueError(
            f"{owner}: snapshot was trained on state columns {snapshot.get('state_names')!r}, "
            f"but this code builds {list(SESSION_STATE_NAMES)!r}; retrain it"
        )
    return snapshot


@dataclass(frozen=True, slots=True)
class SessionRun:
    """One finished session.

    Attributes:
        total: the session's return (sum of rewards).
        states: raw states before each step, shape (t, STATE_WIDTH).
        actions: the actions taken, shape (t,).
        propensities: P(action | state) of each, shape (t,).
        rewards: shape (t,).
        next_states: raw states after each step, shape (t, STATE_WIDTH).
        done: whether each step ended the session, shape (t,) (only the last is True).
    """

    total: float
    states: FloatArray
    actions: npt.NDArray[np.int64]
    propensities: FloatArray
    rewards: FloatArray
    next_states: FloatArray
    done: BoolArray


class SessionRunner:
    """Turns `SessionAction`s into concrete env actions and builds the raw session state.

    The concrete actions use only what the assistant sees (the env's `match_estimate`):
    RECOMMEND shows the `slate_size` best cards by estimate, cards not yet shown first;
    OFFER_COUPON shows the best claimable card, unseen first; CLARIFY and HANDOFF map one to one.

    Args:
        env: the environment; the runner calls `reset` and `step` on it.
    """

    def __init__(self, env: ShoppingEnv) -> None:
        self.env = env
        self._claimable = np.asarray(env.items.needs_claim, dtype=np.bool_)
        self._seen = np.zeros(len(env.items), dtype=np.bool_)

    def reset(self, seed: int | None = None) -> FloatArray:
        """Start a session; returns its first raw state, shape (STATE_WIDTH,)."""
        obs = self.env.reset(seed=seed)
        self._seen[:] = False
        return self.state(obs)

    def _ranked(self, est: FloatArray, pool: BoolArray | None) -> npt.NDArray[np.intp]:
        # Unseen cards first (a shown card is penalized by the shopper), then by estimate.
        key = est - 2.0 * self._seen
        if pool is not None:
            key = np.where(pool, key, -np.inf)
        return np.argsort(-key, kind="stable")

    def state(self, observation: FloatArray) -> FloatArray:
        """The raw session state (`SESSION_STATE_NAMES`) for the env's current `observation`."""
        est = self.env.match_estimate
        slate = self._ranked(est, None)[: self.env.slate_size]
        has_coupon = bool(self._claimable.any())
        coupon = float(est[self._ranked(est, self._claimable)[0]]) if has_coupon else 0.0
        return np.concatenate(
            [np.asarray(observation, dtype=np.float64), [est[slate].mean(), coupon, has_coupon]]
        )

    def env_action(self, action: SessionAction) -> EnvAction:
        """The concrete env action for `action` now (marks shown cards as seen)."""
        if action is SessionAction.CLARIFY:
            return Clarify()
        if action is SessionAction.HANDOFF:
            return Handoff()
        if action is SessionAction.OFFER_COUPON:
            if not self._claimable.any():
                raise ValueError(
                    "SessionRunner: OFFER_COUPON needs a candidate that needs a claim; this "
                    "catalog has none (mask the action with action_mask)"
                )
            index = int(self._ranked(self.env.match_estimate, self._claimable)[0])
            self._seen[index] = True
            return OfferCoupon(index)
        slate = self._ranked(self.env.match_estimate, None)[: self.env.slate_size]
        self._seen[slate] = True
        return Recommend(tuple(int(i) for i in slate))

    def step(self, action: SessionAction) -> tuple[FloatArray, float, bool]:
        """Apply `action`; returns (next raw state, reward, done)."""
        obs, reward, done, _info = self.env.step(self.env_action(action))
        return self.state(obs), float(reward), bool(done)

    def run(
        self,
        policy: SessionPolicy,
        *,
        seed: int | None = None,
        rng: np.random.Generator | None = None,
    ) -> SessionRun:
        """Run one session to its end under `policy` (greedy unless `rng` is given)."""
        state = self.reset(seed)
        rows: list[tuple[FloatArray, int, float, float, FloatArray, bool]] = []
        done = False
        while not done:
            choice = policy.act(state, rng=rng)
            nxt, reward, done = self.step(choice.action)
            rows.append((state, int(choice.action), choice.propensity, reward, nxt, done))
            state = nxt
        return SessionRun(
            total=math.fsum(r[3] for r in rows),
            states=np.stack([r[0] for r in rows]),
            actions=np.array([r[1] for r in rows], dtype=np.int64),
            propensities=np.array([r[2] for r in rows]),
            rewards=np.array([r[3] for r in rows]),
            next_states=np.stack([r[4] for r in rows]),
            done=np.array([r[5] for r in rows], dtype=np.bool_),
        )


def evaluate_policy(
    env: ShoppingEnv,
    policy: SessionPolicy,
    sessions: int,
    *,
    seed: int = 0,
    explore: bool = False,
) -> FloatArray:
    """Returns of `sessions` sessions under `policy`, shape (sessions,).

    Session i is reset with seed ``seed + i``, so every policy evaluated with the same seed
    meets the same shoppers, intents and candidate matches (common random numbers).

    Args:
        env: the environment.
        policy: the policy, greedy unless `explore`.
        sessions: number of sessions, >= 1.
        seed: the first session's seed.
        explore: run the policy's exploring mode (random draws seeded from `seed`).
    """
    if sessions < 1:
        raise ValueError(f"evaluate_policy: `sessions` must be >= 1; got {sessions}")
    runner = SessionRunner(env)
    rng = np.random.default_rng([seed, 1]) if explore else None
    return np.array([runner.run(policy, seed=seed + i, rng=rng).total for i in range(sessions)])
