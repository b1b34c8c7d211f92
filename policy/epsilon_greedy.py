"""Epsilon-greedy slate selection over the ranker's top candidates, with exact propensities.

The model (epsilon-greedy, Sutton & Barto 2018, "Reinforcement Learning: An Introduction",
section 2.2, applied position by position to a slate): only the `top` best-scoring candidates are
eligible (ties go to the lower row). Each position in turn takes, with probability 1 - epsilon,
the best eligible candidate not yet placed, and with probability epsilon a candidate drawn
uniformly from all eligible candidates not yet placed (the best one included). Every eligible
candidate therefore keeps a propensity of at least epsilon / m at every position, which bounds
the importance weights of off-policy evaluation on the logs (Li et al. 2010, "A Contextual-Bandit
Approach to Personalized News Article Recommendation"; Saito et al. 2020, Open Bandit Pipeline).

Exact marginal propensities. Write m for the number of eligible candidates and rank them 0..m-1
by score. Before position j, let t be the best remaining rank (ranks 0..t-1 are all placed) and
r = j - t the number placed beyond t. By symmetry the r placed ranks beyond t are a uniformly
random r-subset of the m - 1 - t ranks after t: uniform exploration keeps that true, and when
rank t itself is taken the prefix jumps over the run of placed ranks that follows it, whose
length L has P(L >= l) = C(N - l, r - l) / C(N, r) with N = m - 1 - t, leaving a uniform subset
again. So a dynamic programme over t alone (k + 1 states) gives, for every rank c at position j,

    P(c at j) = (1 - epsilon) P(t = c) + epsilon / (m - j) * P(c not yet placed),

in O(k^2 m) operations. The table depends only on (m, k, epsilon) and is cached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from .base import FloatArray, Slate, check_probability, check_select_args, check_top

__all__ = ["EpsilonGreedy", "Greedy", "UniformRandom"]

_ALGORITHM = "1"
"""Bumped whenever the sampling procedure changes (it is part of every `version`)."""


@lru_cache(maxsize=256)
def _rank_marginals(m: int, k: int, epsilon: float) -> FloatArray:
    """P(rank c is placed at position j), shape (k, m), for 1 <= k <= m; read-only."""
    out = np.zeros((k, m))
    ranks = np.arange(m)
    pi = np.ones(1)  # pi[t]: P(best remaining rank is t) before position j
    for j in range(k):
        remaining = m - j
        t = np.arange(j + 1)
        r = j - t
        beyond = m - 1 - t  # ranks after t
        # P(rank c not yet placed | t): 0 before t, 1 at t, 1 - r / beyond after t.
        free_after = 1.0 - np.divide(r, beyond, out=np.zeros(j + 1), where=beyond > 0)
        not_placed = np.where(
            ranks[None, :] < t[:, None],
            0.0,
            np.where(ranks[None, :] == t[:, None], 1.0, free_after[:, None]),
        )
        out[j] = (1.0 - epsilon) * np.pad(pi, (0, m - j - 1))[:m] + (epsilon / remaining) * (
            pi @ not_placed
        )
        if j + 1 == k:
            break
        nxt = np.zeros(j + 2)
        take_best = (1.0 - epsilon) + epsilon / remaining
        nxt[: j + 1] += pi * epsilon * (beyond - r) / remaining
        for ti in range(j + 1):
            if pi[ti] == 0.0:
                continue
            ri, ni = int(r[ti]), int(beyond[ti])
            # at_least[l] = P(the l ranks after t are all placed) = C(ni - l, ri - l) / C(ni, ri)
            at_least = np.ones(ri + 2)
            at_least[-1] = 0.0
            for ell in range(1, ri + 1):
                at_least[ell] = at_least[ell - 1] * (ri - ell + 1) / (ni - ell + 1)
            run = at_least[:-1] - at_least[1:]
            nxt[ti + 1 : ti + 2 + ri] += pi[ti] * take_best * run
        pi = nxt
    out.flags.writeable = False
    return out


def _ranked(scores: FloatArray, m: int) -> npt.NDArray[np.intp]:
    """Rows of the m best scores, best first; ties go to the lower row."""
    if m == scores.size or scores.size <= 1000:
        return np.argsort(-scores, kind="stable")[:m]
    # Partition first (O(n)), then order the m winners; ties at the cut go to the lower row.
    cut = np.partition(scores, scores.size - m)[scores.size - m]
    above = np.flatnonzero(scores > cut)
    rows = np.concatenate([above, np.flatnonzero(scores == cut)[: m - above.size]])
    return rows[np.lexsort((rows, -scores[rows]))]


def _select(
    owner: str, epsilon: float, top: int | None, scores: object, k: object, rng: object
) -> Slate:
    arr, k_req = check_select_args(owner, scores, k, rng)
    assert isinstance(rng, np.random.Generator)  # checked above; narrows the type
    m = arr.size if top is None else min(arr.size, top)
    k_eff = min(k_req, m)
    order = np.arange(m) if epsilon == 1.0 and m == arr.size else _ranked(arr, m)
    marginals = _rank_marginals(m, k_eff, epsilon)
    # One draw of 2k uniforms: [:k] decide exploration, [k:] pick among the m - j remaining
    # (floor(u * (m - j)) is uniform up to 2**-53, far below the float precision of a
    # propensity). Greedy draws nothing.
    u = rng.random(2 * k_eff) if epsilon > 0.0 else np.zeros(2 * k_eff)
    explore = (u[:k_eff] < epsilon).tolist()
    uniform = [min(int(v * (m - j)), m - j - 1) for j, v in enumerate(u[k_eff:].tolist())]
    placed: list[int] = []
    best = 0
    rows: list[int] = []
    props: list[float] = []
    conds: list[float] = []
    for j in range(k_eff):
        while best in placed:
            best += 1
        if explore[j]:
            # The uniform[j]-th rank not yet placed.
            c = int(uniform[j])
            for p in sorted(placed):
                if p <= c:
                    c += 1
        else:
            c = best
        placed.append(c)
        rows.append(int(order[c]))
        props.append(float(marginals[j, c]))
        conds.append((1.0 - epsilon) * (c == best) + epsilon / (m - j))
    return Slate(
        indices=tuple(rows),
        propensities=tuple(props),
        conditional=tuple(conds),
        slate_propensity=math.prod(conds),
    )


def _position_probabilities(
    owner: str, epsilon: float, top: int | None, scores: object, k: object
) -> FloatArray:
    arr, k_req = check_select_args(owner, scores, k, np.random.default_rng(0))
    m = arr.size if top is None else min(arr.size, top)
    k_eff = min(k_req, m)
    out = np.zeros((k_eff, arr.size))
    out[:, _ranked(arr, m)] = _rank_marginals(m, k_eff, epsilon)
    return out


@dataclass(frozen=True, slots=True)
class EpsilonGreedy:
    """Epsilon-greedy slate policy over the `top` best-scoring candidates.

    Each position takes the best remaining eligible candidate with probability 1 - epsilon and
    a uniformly random remaining eligible candidate with probability epsilon (Sutton & Barto
    2018, section 2.2). The logged `Slate.propensities` are the exact per-position marginals
    (see the module docstring for the derivation), as obp's position-wise estimators expect
    (Saito et al. 2020); `Slate.slate_propensity` is the probability of the ordered slate.

    Args:
        epsilon: Exploration probability per position, in [0, 1].
        top: Only the `top` best-scoring candidates are eligible (ties go to the lower row).

    Raises:
        ValueError: If `epsilon` is outside [0, 1] or `top` < 1.

    Example:
        >>> import numpy as np
        >>> from policy import EpsilonGreedy
        >>> policy = EpsilonGreedy(epsilon=0.1, top=3)
        >>> scores = np.array([0.2, 0.9, 0.5, 0.1])
        >>> slate = policy.select(scores, k=2, rng=np.random.default_rng(0))
        >>> slate.indices
        (1, 2)
        >>> [round(p, 4) for p in slate.propensities]
        [0.9333, 0.8883]
        >>> [round(p, 4) for p in slate.conditional], round(slate.slate_propensity, 4)
        ([0.9333, 0.95], 0.8867)
        >>> policy.position_probabilities(scores, k=2).round(4)
        array([[0.0333, 0.9333, 0.0333, 0.    ],
               [0.0483, 0.0633, 0.8883, 0.    ]])
    """

    epsilon: float = 0.1
    top: int = 100

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "epsilon", check_probability("EpsilonGreedy", "epsilon", self.epsilon)
        )
        object.__setattr__(self, "top", check_top("EpsilonGreedy", self.top))

    @property
    def name(self) -> str:
        """``"epsilon_greedy"``."""
        return "epsilon_greedy"

    @property
    def version(self) -> str:
        """The algorithm revision with epsilon and top, e.g. ``"1:epsilon=0.1:top=100"``."""
        return f"{_ALGORITHM}:epsilon={self.epsilon!r}:top={self.top}"

    def select(self, scores: FloatArray, k: int, rng: np.random.Generator) -> Slate:
        """Choose an ordered slate of min(k, top, n) candidates.

        Args:
            scores: Ranker scores, shape (n_candidates,), finite; higher is better.
            k: Slate size, at least 1.
            rng: Source of all randomness.

        Returns:
            The slate with exact marginal and conditional propensities.

        Raises:
            ValueError: If `scores` is empty, not one-dimensional or not finite, or `k` < 1.
        """
        return _select("EpsilonGreedy", self.epsilon, self.top, scores, k, rng)

    def position_probabilities(self, scores: FloatArray, k: int) -> FloatArray:
        """Exact P(candidate i is shown at position j), shape (min(k, top, n), n_candidates).

        Each row sums to 1; ineligible candidates have zero columns. Transposed, it is one
        round of obp's `action_dist` (n_actions, len_list) for evaluating this policy.
        """
        return _position_probabilities("EpsilonGreedy", self.epsilon, self.top, scores, k)


@dataclass(frozen=True, slots=True)
class Greedy:
    """The `k` best-scoring candidates in score order, each with propensity 1 (epsilon = 0).

    A deterministic baseline: its logs support no importance weighting, so serve it only where
    no off-policy evaluation is needed.

    Args:
        top: Only the `top` best-scoring candidates are eligible (ties go to the lower row).
    """

    top: int = 100

    def __post_init__(self) -> None:
        object.__setattr__(self, "top", check_top("Greedy", self.top))

    @property
    def name(self) -> str:
        """``"greedy"``."""
        return "greedy"

    @property
    def version(self) -> str:
        """The algorithm revision with top, e.g. ``"1:top=100"``."""
        return f"{_ALGORITHM}:top={self.top}"

    def select(self, scores: FloatArray, k: int, rng: np.random.Generator) -> Slate:
        """The min(k, top, n) best candidates; `rng` is validated but never drawn from."""
        return _select("Greedy", 0.0, self.top, scores, k, rng)

    def position_probabilities(self, scores: FloatArray, k: int) -> FloatArray:
        """One-hot rows, shape (min(k, top, n), n_candidates): the greedy slate."""
        return _position_probabilities("Greedy", 0.0, self.top, scores, k)


@dataclass(frozen=True, slots=True)
class UniformRandom:
    """A uniformly random ordered slate of distinct candidates (epsilon = 1).

    The classic logging policy of the Open Bandit Dataset's "random" campaign (Saito et al.
    2020): every ordered slate has the same probability, and each candidate's marginal
    propensity at each position is 1 / m.

    Args:
        top: If set, only the `top` best-scoring candidates are eligible; None means all.
    """

    top: int | None = None

    def __post_init__(self) -> None:
        if self.top is not None:
            object.__setattr__(self, "top", check_top("UniformRandom", self.top))

    @property
    def name(self) -> str:
        """``"uniform_random"``."""
        return "uniform_random"

    @property
    def version(self) -> str:
        """The algorithm revision with top, e.g. ``"1:top=all"``."""
        return f"{_ALGORITHM}:top={'all' if self.top is None else self.top}"

    def select(self, scores: FloatArray, k: int, rng: np.random.Generator) -> Slate:
        """Min(k, m) distinct eligible candidates drawn uniformly without replacement."""
        return _select("UniformRandom", 1.0, self.top, scores, k, rng)

    def position_probabilities(self, scores: FloatArray, k: int) -> FloatArray:
        """1 / m for every eligible candidate at every position, shape (min(k, m), n)."""
        return _position_probabilities("UniformRandom", 1.0, self.top, scores, k)
