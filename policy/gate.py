"""The safe-rollout gate: promote a candidate only when it beats the serving model with confidence.

One rule for everything that serves (the slate policy and the ranker alike): given, for each
independent unit of evidence (a logged decision, a ranked test request), the candidate's value
and the serving model's value on that same unit, the gate bootstraps the mean of the paired
differences (`n_bootstrap` seeded resamples of the units, percentile interval; Efron & Tibshirani
1993) and promotes only when the whole interval lies above zero. Pairing removes the variance the
two share (the same shoppers, the same requests), so the gate needs far fewer units than
comparing two independent intervals.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> serving = rng.random(500)
    >>> result = paired_gate(serving + 0.05, serving, n_bootstrap=1000, seed=0)
    >>> result.promote, round(result.difference, 3)
    (True, 0.05)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import FloatArray

__all__ = ["GateResult", "paired_gate"]


@dataclass(frozen=True, slots=True)
class GateResult:
    """The gate's verdict on a candidate.

    Attributes:
        candidate: Mean value of the candidate over the units.
        serving: Mean value of the serving model over the same units.
        difference: ``candidate - serving``.
        low: Lower end of the interval of the difference.
        high: Upper end of the interval of the difference.
        level: Confidence level of the interval (0.95).
        n: Number of paired units.
        n_bootstrap: Bootstrap resamples.
        promote: Whether the interval lies wholly above zero.
    """

    candidate: float
    serving: float
    difference: float
    low: float
    high: float
    level: float
    n: int
    n_bootstrap: int
    promote: bool

    def describe(self, metric: str = "value") -> str:
        """One line for people: both values, the difference, its interval and the verdict."""
        verdict = "promote" if self.promote else "refuse"
        return (
            f"{metric}: candidate {self.candidate:.4f} vs serving {self.serving:.4f}, "
            f"difference {self.difference:+.4f}, {self.level:.0%} interval "
            f"[{self.low:+.4f}, {self.high:+.4f}] over {self.n} units: {verdict}"
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-safe fields (for reports and SQL)."""
        return {
            "candidate": self.candidate,
            "serving": self.serving,
            "difference": self.difference,
            "low": self.low,
            "high": self.high,
            "level": self.level,
            "n": self.n,
            "n_bootstrap": self.n_bootstrap,
            "promote": self.promote,
        }


def _values(name: str, value: object) -> FloatArray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"paired_gate: `{name}` must be numeric; {exc}") from exc
    if arr.ndim != 1:
        raise ValueError(f"paired_gate: `{name}` must have shape (n_units,); got {arr.shape}")
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"paired_gate: `{name}` must be finite; got {arr[bad]} at unit {bad}")
    return arr


def paired_gate(
    candidate: object,
    serving: object,
    *,
    n_bootstrap: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    min_units: int = 2,
) -> GateResult:
    """Bootstrap the paired difference and decide whether the candidate may serve.

    Args:
        candidate: The candidate's value per unit, shape (n_units,), finite (e.g. a decision's
            IPS-weighted reward, a request's NDCG@10).
        serving: The serving model's value on the same units, shape (n_units,).
        n_bootstrap: Resamples of the units (at least 100).
        level: Confidence level of the two-sided percentile interval, in (0, 1).
        seed: Seeds the resampling, so a verdict can be reproduced.
        min_units: Fewest units the gate accepts (below it the evidence is refused).

    Returns:
        The verdict; ``promote`` is true only when the interval's lower end is above zero.

    Raises:
        ValueError: Shapes differ, values are not finite, too few units, or bad settings.
    """
    ours = _values("candidate", candidate)
    theirs = _values("serving", serving)
    if ours.shape != theirs.shape:
        raise ValueError(
            f"paired_gate: `candidate` and `serving` must pair unit by unit; got {ours.size} and "
            f"{theirs.size} values"
        )
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 100:
        raise ValueError(f"paired_gate: `n_bootstrap` must be an integer >= 100; got {n_bootstrap}")
    if not (isinstance(level, int | float) and math.isfinite(level) and 0.0 < level < 1.0):
        raise ValueError(f"paired_gate: `level` must lie in (0, 1); got {level!r}")
    if ours.size < max(min_units, 2):
        raise ValueError(
            f"paired_gate: {ours.size} paired units are too few to judge (need at least "
            f"{max(min_units, 2)}); log more decisions first"
        )
    diff = ours - theirs
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_bootstrap, 4_000_000 // diff.size))  # bounds the index block's memory
    means = np.concatenate(
        [
            diff[rng.integers(0, diff.size, size=(min(chunk, n_bootstrap - done), diff.size))].mean(
                axis=1
            )
            for done in range(0, n_bootstrap, chunk)
        ]
    )
    tail = (1.0 - level) / 2.0
    low, high = (float(v) for v in np.quantile(means, [tail, 1.0 - tail]))
    return GateResult(
        candidate=float(ours.mean()),
        serving=float(theirs.mean()),
        difference=float(diff.mean()),
        low=low,
        high=high,
        level=float(level),
        n=int(diff.size),
        n_bootstrap=n_bootstrap,
        promote=low > 0.0,
    )
