"""The serving-policy seam: a `Policy` picks an ordered slate and logs exact propensities.

The shape follows Open Bandit Pipeline's policies (Saito et al. 2020, "Open Bandit Dataset and
Pipeline"): one small interface, one module per policy family. A policy receives the ranker's
scores for the retrieved candidates and returns a `Slate`: the chosen candidate rows in slate
order together with the probabilities that off-policy evaluation needs (Li et al. 2010 log the
propensity of every shown action for exactly this reason).

Three kinds of probability are logged for each slate:

* `propensities`: per position, the *marginal* probability that this candidate appears at this
  position. It is obp's position-wise `pscore` (independent / cascade IPS on `len_list`
  positions).
* `conditional`: per position, the probability of this choice given the earlier positions.
* `slate_propensity`: the probability of the whole ordered slate, the product of `conditional`
  (what a standard slate IPS estimator weights by).

`ContextualPolicy` extends `Policy` without breaking it: `select` gains keyword-only
`features` (per-candidate context, shape (n_candidates, d)) and `allow_short`, and a learning
policy folds a batch of feedback into a NEW immutable policy with a new `version` (`fold`) and
serializes to a JSON-safe snapshot (`to_snapshot`) that `from_snapshot` restores exactly, so one
updater writes versioned snapshots to SQL and serving workers reload them by version. Every
`ContextualPolicy` type-checks as a `Policy`, but the linear ones (`policy.linear`) need
`features` and raise a ValueError without them: a caller checks
`isinstance(policy, ContextualPolicy)` and passes the rows.

Slate size. `Policy.select` returns min(k, eligible) rows (the turn pipeline relies on it). A
`ContextualPolicy` raises a ValueError when `k` exceeds its eligible candidates unless the caller
passes `allow_short=True`, which gives the min(k, eligible)-row slate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = [
    "ContextualPolicy",
    "FloatArray",
    "Policy",
    "Slate",
    "check_feedback",
    "check_features",
    "check_select_args",
    "check_slate_size",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Slate:
    """An ordered slate chosen by a policy, with its exact logging probabilities.

    Attributes:
        indices: Chosen candidate rows (positions into the `scores` array), in slate order.
        propensities: For each position, the marginal probability that this candidate appears
            at this position under the policy (obp's position-wise `pscore`).
        conditional: For each position, the probability of this choice given the candidates
            already placed at the earlier positions.
        slate_propensity: Probability of the whole ordered slate: the product of `conditional`.
    """

    indices: tuple[int, ...]
    propensities: tuple[float, ...]
    conditional: tuple[float, ...]
    slate_propensity: float

    def __post_init__(self) -> None:
        n = len(self.indices)
        if len(self.propensities) != n or len(self.conditional) != n:
            raise ValueError(
                f"Slate: `indices`, `propensities` and `conditional` must have one length; got "
                f"{n}, {len(self.propensities)} and {len(self.conditional)}"
            )
        if len(set(self.indices)) != n:
            raise ValueError(f"Slate: `indices` must be distinct; got {self.indices}")

    def __len__(self) -> int:
        return len(self.indices)


@runtime_checkable
class Policy(Protocol):
    """A slate-selection policy: ranker scores in, an ordered slate with propensities out.

    Implementations are immutable and pure given the random generator: the same scores, k and
    generator state give the same slate, so every logged decision can be replayed.
    """

    @property
    def name(self) -> str:
        """Stable identifier of the policy family, e.g. ``"epsilon_greedy"``."""
        ...

    @property
    def version(self) -> str:
        """Changes whenever the policy would choose differently for the same inputs."""
        ...

    def select(self, scores: FloatArray, k: int, rng: np.random.Generator) -> Slate:
        """Choose an ordered slate of up to `k` candidates.

        Args:
            scores: Ranker scores, shape (n_candidates,), finite; higher is better.
            k: Slate size, at least 1; a slate holds min(k, eligible candidates) rows.
            rng: Source of all randomness, so the choice is reproducible.

        Returns:
            The slate, with exact per-position marginal and conditional propensities.

        Raises:
            ValueError: If `scores` is empty, not one-dimensional or not finite, or `k` < 1.
        """
        ...


@runtime_checkable
class ContextualPolicy(Policy, Protocol):
    """A `Policy` that chooses from per-candidate features and learns from batched feedback.

    Implementations are immutable: `fold` returns a new policy (new `version`) and leaves the
    old one serving until the caller swaps it, so a decision always logs the version that made
    it. Propensities are exact where the policy allows it and otherwise estimated consistently;
    each implementation documents which.
    """

    @property
    def n_features(self) -> int:
        """Width d of the per-candidate feature rows the policy expects."""
        ...

    def select(
        self,
        scores: FloatArray,
        k: int,
        rng: np.random.Generator,
        *,
        features: FloatArray | None = None,
        allow_short: bool = False,
    ) -> Slate:
        """Choose an ordered slate of `k` candidates.

        Args:
            scores: Ranker scores, shape (n_candidates,), finite; they decide eligibility.
            k: Slate size, at least 1, at most the eligible candidates unless `allow_short`.
            rng: Source of all randomness, so the choice is reproducible.
            features: Per-candidate context, shape (n_candidates, n_features), finite.
            allow_short: Return min(k, eligible) rows instead of raising when k is larger.

        Returns:
            The slate with its per-position marginal and conditional propensities.

        Raises:
            ValueError: On empty, non-finite or mis-shaped input, or k > eligible candidates
                without `allow_short`.
        """
        ...

    def fold(self, features: FloatArray, positions: Any, rewards: Any) -> Self:
        """A new policy that has also learned from one batch of shown cards.

        Args:
            features: Rows of the shown cards, shape (n_events, n_features).
            positions: Slate position of each shown card, shape (n_events,), ints >= 0.
            rewards: Observed reward of each shown card, shape (n_events,), finite.
        """
        ...

    def to_snapshot(self) -> dict[str, Any]:
        """JSON-safe parameters from which `from_snapshot` rebuilds an identical policy."""
        ...


def check_select_args(owner: str, scores: object, k: object, rng: object) -> tuple[FloatArray, int]:
    """Validate `select`'s arguments once, at the public entry.

    Args:
        owner: Name used in error messages (the policy's class name).
        scores: Candidate scores, shape (n_candidates,); converted to float64.
        k: Requested slate size, an integer >= 1.
        rng: Must be a `numpy.random.Generator`.

    Returns:
        The scores as a float64 array and `k` as an int (not yet capped at n).

    Raises:
        ValueError: With a message naming the bad argument and what it must be.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise ValueError(f"{owner}: `k` must be an integer >= 1; got {k!r}")
    if k < 1:
        raise ValueError(f"{owner}: `k` must be >= 1; got {k}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"{owner}: `rng` must be a numpy.random.Generator (np.random.default_rng(seed)); "
            f"got {type(rng).__name__}"
        )
    try:
        arr = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}: `scores` must be numeric; {exc}") from exc
    if arr.ndim != 1:
        raise ValueError(f"{owner}: `scores` must have shape (n,); got {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{owner}: `scores` must hold at least one candidate; got none")
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"{owner}: `scores` must be finite; got {arr[bad]} at index {bad}")
    return arr, int(k)


def check_probability(owner: str, name: str, value: object) -> float:
    """`value` as a float in [0, 1], or a ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{owner}: `{name}` must be a number in [0, 1]; got {value!r}")
    out = float(value)
    if not (math.isfinite(out) and 0.0 <= out <= 1.0):
        raise ValueError(f"{owner}: `{name}` must lie in [0, 1]; got {value!r}")
    return out


def check_top(owner: str, value: object) -> int:
    """`value` as an int >= 1, or a ValueError naming `top`."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{owner}: `top` must be an integer >= 1; got {value!r}")
    if value < 1:
        raise ValueError(f"{owner}: `top` must be >= 1; got {value}")
    return int(value)


def check_slate_size(owner: str, k: int, eligible: int, allow_short: bool) -> int:
    """The slate size to draw: `k`, or min(k, eligible) when `allow_short`.

    Raises:
        ValueError: If `k` exceeds the eligible candidates and `allow_short` is false.
    """
    if k > eligible and not allow_short:
        raise ValueError(
            f"{owner}: `k`={k} is larger than the {eligible} eligible candidates; pass fewer "
            "slots, more candidates, or allow_short=True for a shorter slate"
        )
    return min(k, eligible)


def check_features(owner: str, features: object, n: int, d: int) -> FloatArray:
    """Validate per-candidate features once, at the public entry.

    Args:
        owner: Name used in error messages.
        features: Shape (n, d), finite; converted to float64.
        n: Number of candidates (rows) expected.
        d: Feature width (columns) the model was built for.

    Raises:
        ValueError: If `features` is missing, not numeric, of the wrong shape or not finite.
    """
    if features is None:
        raise ValueError(
            f"{owner}: `features` is required: pass the per-candidate context, shape (n, {d})"
        )
    try:
        arr = np.asarray(features, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}: `features` must be numeric; {exc}") from exc
    if arr.ndim != 2:
        raise ValueError(f"{owner}: `features` must have shape (n, d); got {arr.shape}")
    if arr.shape[1] != d:
        raise ValueError(
            f"{owner}: `features` has {arr.shape[1]} columns but the model was built for "
            f"n_features={d}; build the rows with the same feature map as the snapshot"
        )
    if arr.shape[0] != n:
        raise ValueError(
            f"{owner}: `features` has {arr.shape[0]} rows but there are {n} candidates; "
            "give one row per score"
        )
    if not np.isfinite(arr).all():
        row, col = (int(v) for v in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(
            f"{owner}: `features` must be finite; got {arr[row, col]} at row {row}, column {col}"
        )
    return arr


def check_feedback(
    owner: str, features: object, positions: object, rewards: object, d: int
) -> tuple[FloatArray, npt.NDArray[np.int64], FloatArray]:
    """Validate a feedback batch for `fold`: rows (n, d), positions (n,) >= 0, rewards (n,).

    Raises:
        ValueError: Naming the bad argument, its shape or first bad value.
    """
    try:
        pos_f = np.asarray(positions, dtype=np.float64)
        rew = np.asarray(rewards, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}: `positions` and `rewards` must be numeric; {exc}") from exc
    if pos_f.ndim != 1 or rew.ndim != 1:
        raise ValueError(
            f"{owner}: `positions` and `rewards` must have shape (n,); got {pos_f.shape} and "
            f"{rew.shape}"
        )
    n = rew.shape[0]
    if pos_f.shape[0] != n:
        raise ValueError(
            f"{owner}: got {pos_f.shape[0]} positions for {n} rewards; give one per shown card"
        )
    x = check_features(owner, features, n, d)
    if not np.isfinite(rew).all():
        bad = int(np.flatnonzero(~np.isfinite(rew))[0])
        raise ValueError(f"{owner}: `rewards` must be finite; got {rew[bad]} at index {bad}")
    if n and (
        not np.isfinite(pos_f).all() or (pos_f != np.round(pos_f)).any() or (pos_f < 0).any()
    ):
        bad = int(np.flatnonzero(~np.isfinite(pos_f) | (pos_f != np.round(pos_f)) | (pos_f < 0))[0])
        raise ValueError(
            f"{owner}: `positions` must be integers >= 0; got {pos_f[bad]} at index {bad}"
        )
    return x, pos_f.astype(np.int64), rew
