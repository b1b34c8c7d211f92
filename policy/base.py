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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ["FloatArray", "Policy", "Slate", "check_select_args"]

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
