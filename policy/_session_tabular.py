"""Baseline session policies: uniform random, the rules mirror, and tabular Q-learning.

Private to `policy.session`; see that module for the model and the public API.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field

import numpy as np

from ._session_env import (
    N_ACTIONS,
    SESSION_STATE_NAMES,
    ActionChoice,
    FloatArray,
    SessionAction,
    SessionRunner,
    action_mask,
    check_snapshot,
    check_state,
    choose,
    epsilon_greedy_probabilities,
    snapshot_header,
)
from .world import ShoppingEnv

__all__ = [
    "RandomSessionPolicy",
    "RulesSessionPolicy",
    "TabularQPolicy",
    "TrainingReport",
    "check_epsilon",
    "epsilon_schedule",
    "train_tabular_q",
]

_ALGORITHM = "1"
"""Bumped whenever a policy's action rule or its state discretization changes."""

_TURN = SESSION_STATE_NAMES.index("turn_fraction")
_KNOWN = SESSION_STATE_NAMES.index("slots_known_fraction")
_STREAK = SESSION_STATE_NAMES.index("poor_streak")
_CLICKED = SESSION_STATE_NAMES.index("last_slate_clicked")
_COUPON = SESSION_STATE_NAMES.index("coupon_available")


def check_epsilon(owner: str, epsilon: object) -> float:
    """`epsilon` as a float in [0, 1], or a ValueError naming it."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, int | float | np.integer | np.floating):
        raise ValueError(f"{owner}: `epsilon` must be a number in [0, 1]; got {epsilon!r}")
    out = float(epsilon)
    if not (math.isfinite(out) and 0.0 <= out <= 1.0):
        raise ValueError(f"{owner}: `epsilon` must lie in [0, 1]; got {epsilon!r}")
    return out


def epsilon_schedule(
    session: int, sessions: int, start: float, end: float, fraction: float
) -> float:
    """Linear decay from `start` to `end` over the first `fraction` of `sessions`, then `end`."""
    horizon = max(1.0, fraction * sessions)
    return end + (start - end) * max(0.0, 1.0 - session / horizon)


@dataclass(frozen=True, slots=True)
class TrainingReport:
    """How a policy was trained.

    Attributes:
        sessions: training sessions run in the env (or logged sessions read).
        steps: transitions learned from.
        wall_s: wall-clock seconds.
        returns: the return of each training session (exploring), shape (sessions,).
    """

    sessions: int
    steps: int
    wall_s: float
    returns: FloatArray = field(repr=False)


@dataclass(frozen=True, slots=True)
class RandomSessionPolicy:
    """Uniformly random among the possible actions (HANDOFF included): the floor to beat.

    It has no greedy mode: `act` needs `rng`.
    """

    @property
    def name(self) -> str:
        """``"random"``."""
        return "random"

    @property
    def version(self) -> str:
        """``"random-1"``."""
        return f"random-{_ALGORITHM}"

    def action_probabilities(self, state: FloatArray) -> FloatArray:
        """Uniform over the possible actions, shape (N_ACTIONS,)."""
        mask = action_mask(check_state("RandomSessionPolicy", state))
        out: FloatArray = mask / mask.sum()
        return out

    def act(self, state: FloatArray, *, rng: np.random.Generator | None = None) -> ActionChoice:
        """A uniformly random possible action with its propensity."""
        if rng is None:
            raise ValueError(
                "RandomSessionPolicy: has no greedy mode; pass rng=np.random.default_rng(seed)"
            )
        probs = self.action_probabilities(state)
        return choose(probs, int(np.argmax(probs)), rng)

    def to_snapshot(self) -> dict[str, object]:
        """A JSON-safe snapshot (see `policy.session`)."""
        return snapshot_header("random", self.version, 1.0)

    @classmethod
    def from_snapshot(cls, snapshot: object) -> RandomSessionPolicy:
        """The policy of `to_snapshot`."""
        check_snapshot("RandomSessionPolicy", snapshot, "random")
        return cls()


@dataclass(frozen=True, slots=True)
class RulesSessionPolicy:
    """The assistant's `RulesActionPolicy`, as far as the env's state can express it.

    `RulesActionPolicy` decides from the parsed intent, and the env's shopper always opens with
    a message that fills one slot (f = 1 / n_slots), so its rules map as follows:

    - handoff, out of scope, small talk, my coupons, why ineligible: the simulated shopper
      never asks for these, so never;
    - claim a coupon shown last, or only coupon types wanted -> offer coupon: the shopper
      states no deal type, so never;
    - ask about an item shown last -> show it again: not modelled, so never;
    - too vague (nothing to filter by) -> clarify once: CLARIFY when no slot is known
      (`slots_known_fraction` = 0), which never happens in the env, since its shopper's first
      message fills one slot;
    - otherwise -> RECOMMEND.

    So it recommends every turn, the best unseen cards by the assistant's match estimate: the
    behaviour a shopper with a specific request gets today. Its exploring mode is
    epsilon-greedy over the possible actions (a logging policy with propensities).

    Args:
        epsilon: exploration probability of the exploring mode, in [0, 1].
    """

    epsilon: float = 0.1

    def __post_init__(self) -> None:
        object.__setattr__(self, "epsilon", check_epsilon("RulesSessionPolicy", self.epsilon))

    @property
    def name(self) -> str:
        """``"rules"``."""
        return "rules"

    @property
    def version(self) -> str:
        """``"rules-1"``."""
        return f"rules-{_ALGORITHM}"

    def greedy(self, state: FloatArray) -> SessionAction:
        """The rules' action for a validated state."""
        if state[_KNOWN] <= 0.0:
            return SessionAction.CLARIFY
        return SessionAction.RECOMMEND

    def action_probabilities(self, state: FloatArray, *, explore: bool = True) -> FloatArray:
        """P(a | state) of the exploring (or greedy) mode, shape (N_ACTIONS,)."""
        arr = check_state("RulesSessionPolicy", state)
        eps = self.epsilon if explore else 0.0
        return epsilon_greedy_probabilities(int(self.greedy(arr)), action_mask(arr), eps)

    def act(self, state: FloatArray, *, rng: np.random.Generator | None = None) -> ActionChoice:
        """Greedy when `rng` is None; otherwise epsilon-greedy with the propensity."""
        arr = check_state("RulesSessionPolicy", state)
        best = int(self.greedy(arr))
        return choose(epsilon_greedy_probabilities(best, action_mask(arr), self.epsilon), best, rng)

    def to_snapshot(self) -> dict[str, object]:
        """A JSON-safe snapshot (see `policy.session`)."""
        return snapshot_header("rules", self.version, self.epsilon)

    @classmethod
    def from_snapshot(cls, snapshot: object) -> RulesSessionPolicy:
        """The policy of `to_snapshot`."""
        snap = check_snapshot("RulesSessionPolicy", snapshot, "rules")
        return cls(epsilon=check_epsilon("RulesSessionPolicy", snap.get("epsilon")))


class TabularQPolicy:
    """Greedy (or epsilon-greedy) on a Q table over a discretized session state.

    The discrete state is (turn 0..turn_bins, answered slots 0..3, poor streak 0..3+, last
    slate clicked, a coupon available): (turn_bins + 1) x 4 x 4 x 2 x 2 cells, each with one
    value per `SessionAction`. Impossible actions are masked.

    Args:
        q: the table, shape (n_cells, N_ACTIONS), finite.
        turn_bins: the env's `max_turns` the table was built for.
        epsilon: exploration probability of the exploring mode.
    """

    def __init__(self, q: FloatArray, *, turn_bins: int = 8, epsilon: float = 0.1) -> None:
        if isinstance(turn_bins, bool) or not isinstance(turn_bins, int) or turn_bins < 1:
            raise ValueError(f"TabularQPolicy: `turn_bins` must be an int >= 1; got {turn_bins!r}")
        table = np.array(q, dtype=np.float64)
        want = (self.n_cells_for(turn_bins), N_ACTIONS)
        if table.shape != want or not np.isfinite(table).all():
            raise ValueError(
                f"TabularQPolicy: `q` must be finite with shape {want} for turn_bins={turn_bins}; "
                f"got shape {table.shape}"
            )
        table.flags.writeable = False
        self.q = table
        self.turn_bins = turn_bins
        self.epsilon = check_epsilon("TabularQPolicy", epsilon)
        digest = hashlib.sha256(table.tobytes() + str(turn_bins).encode()).hexdigest()
        self._version = f"tabular_q-{_ALGORITHM}:{digest[:12]}"

    @staticmethod
    def n_cells_for(turn_bins: int) -> int:
        """Number of discrete states for `turn_bins`."""
        return (turn_bins + 1) * 4 * 4 * 2 * 2

    @property
    def name(self) -> str:
        """``"tabular_q"``."""
        return "tabular_q"

    @property
    def version(self) -> str:
        """``"tabular_q-1:<12 hex digits of the table's sha256>"``."""
        return self._version

    def cell(self, state: FloatArray) -> int:
        """The discrete state of a validated raw state."""
        return discretize(state, self.turn_bins)

    def q_values(self, state: FloatArray) -> FloatArray:
        """Q(state, a) for every action, shape (N_ACTIONS,); -inf for impossible actions."""
        arr = check_state("TabularQPolicy", state)
        out: FloatArray = np.where(action_mask(arr), self.q[self.cell(arr)], -np.inf)
        return out

    def action_probabilities(self, state: FloatArray, *, explore: bool = True) -> FloatArray:
        """P(a | state) of the exploring (or greedy) mode, shape (N_ACTIONS,)."""
        q = self.q_values(state)
        eps = self.epsilon if explore else 0.0
        return epsilon_greedy_probabilities(int(np.argmax(q)), np.isfinite(q), eps)

    def act(self, state: FloatArray, *, rng: np.random.Generator | None = None) -> ActionChoice:
        """Greedy when `rng` is None; otherwise epsilon-greedy with the propensity."""
        q = self.q_values(state)
        best = int(np.argmax(q))
        return choose(epsilon_greedy_probabilities(best, np.isfinite(q), self.epsilon), best, rng)

    def to_snapshot(self) -> dict[str, object]:
        """A JSON-safe snapshot: the header plus ``turn_bins`` and the table as nested lists."""
        snap = snapshot_header("tabular_q", self.version, self.epsilon)
        snap["turn_bins"] = self.turn_bins
        snap["q"] = self.q.tolist()
        return snap

    @classmethod
    def from_snapshot(cls, snapshot: object) -> TabularQPolicy:
        """The policy of `to_snapshot`; refuses a table that does not match its version."""
        snap = check_snapshot("TabularQPolicy", snapshot, "tabular_q")
        turn_bins = snap.get("turn_bins")
        if not isinstance(turn_bins, int):
            raise ValueError(
                f"TabularQPolicy: snapshot `turn_bins` must be an int; got {turn_bins!r}"
            )
        out = cls(
            np.asarray(snap.get("q"), dtype=np.float64),
            turn_bins=turn_bins,
            epsilon=check_epsilon("TabularQPolicy", snap.get("epsilon")),
        )
        if out.version != snap.get("version"):
            raise ValueError(
                f"TabularQPolicy: snapshot says version {snap.get('version')!r} but its table "
                f"hashes to {out.version!r}; the snapshot is corrupt"
            )
        return out


def discretize(state: FloatArray, turn_bins: int) -> int:
    """The tabular cell of a raw state (see `TabularQPolicy`)."""
    turn = min(max(int(round(state[_TURN] * turn_bins)), 0), turn_bins)
    known = min(max(int(round(state[_KNOWN] * 3)), 0), 3)
    streak = min(max(int(state[_STREAK]), 0), 3)
    clicked = int(state[_CLICKED] > 0.5)
    coupon = int(state[_COUPON] > 0.5)
    return (((turn * 4 + known) * 4 + streak) * 2 + clicked) * 2 + coupon


def train_tabular_q(
    env: ShoppingEnv,
    sessions: int,
    *,
    seed: int = 0,
    gamma: float = 1.0,
    min_step_size: float = 0.05,
    epsilon_start: float = 1.0,
    epsilon_end: float = 0.05,
    explore_fraction: float = 0.5,
    epsilon: float = 0.1,
) -> tuple[TabularQPolicy, TrainingReport]:
    """Q-learning (Watkins & Dayan 1992) in the env over the discretized state.

    Each step updates Q(s, a) += alpha (r + gamma max_a' Q(s', a') - Q(s, a)), with the step
    size alpha = max(1 / visits(s, a), `min_step_size`) and the target's max taken over the
    possible actions (0 after the last step). Behaviour is epsilon-greedy, epsilon decaying
    linearly from `epsilon_start` to `epsilon_end` over the first `explore_fraction` of the
    sessions. Session i is reset with seed ``seed + i``.

    Args:
        env: the environment (its `max_turns` sets the table's turn bins).
        sessions: training sessions, >= 1.
        seed: seeds the sessions and the exploration.
        gamma: discount in [0, 1]; 1 is the undiscounted return the table reports.
        min_step_size: floor of the step size, in (0, 1].
        epsilon_start: exploration at the first session.
        epsilon_end: exploration after the decay.
        explore_fraction: share of the sessions the decay takes, in (0, 1].
        epsilon: the returned policy's exploring-mode epsilon.

    Returns:
        The greedy policy and how it was trained.
    """
    owner = "train_tabular_q"
    if sessions < 1:
        raise ValueError(f"{owner}: `sessions` must be >= 1; got {sessions}")
    if (
        not 0.0 <= gamma <= 1.0
        or not 0.0 < min_step_size <= 1.0
        or not 0.0 < explore_fraction <= 1.0
    ):
        raise ValueError(
            f"{owner}: need 0 <= gamma <= 1, 0 < min_step_size <= 1 and 0 < explore_fraction "
            f"<= 1; got {gamma}, {min_step_size}, {explore_fraction}"
        )
    check_epsilon(owner, epsilon_start)
    check_epsilon(owner, epsilon_end)
    turn_bins = env.max_turns
    q = np.zeros((TabularQPolicy.n_cells_for(turn_bins), N_ACTIONS))
    visits = np.zeros_like(q)
    rng = np.random.default_rng([seed, 2])
    runner = SessionRunner(env)
    returns = np.zeros(sessions)
    steps = 0
    start = time.perf_counter()
    for i in range(sessions):
        eps = epsilon_schedule(i, sessions, epsilon_start, epsilon_end, explore_fraction)
        state = runner.reset(seed + i)
        done = False
        while not done:
            cell, mask = discretize(state, turn_bins), action_mask(state)
            best = int(np.argmax(np.where(mask, q[cell], -np.inf)))
            probs = epsilon_greedy_probabilities(best, mask, eps)
            action = choose(probs, best, rng).action
            nxt, reward, done = runner.step(action)
            target = reward
            if not done:
                nmask = action_mask(nxt)
                target += gamma * float(np.max(q[discretize(nxt, turn_bins)][nmask]))
            visits[cell, action] += 1
            alpha = max(1.0 / visits[cell, action], min_step_size)
            q[cell, action] += alpha * (target - q[cell, action])
            returns[i] += reward
            state = nxt
            steps += 1
    report = TrainingReport(sessions, steps, time.perf_counter() - start, returns)
    return TabularQPolicy(q, turn_bins=turn_bins, epsilon=epsilon), report
