"""A/B tests of serving policies: sticky salted-hash bucketing and an interval-based readout.

Bucketing. A user's arm is a pure function of the experiment's salt and the user id: the first
64 bits of SHA-256 over both, read as a number in [0, 1), fall into one arm's slice of the
cumulative traffic weights. `hashlib` is the same in every process and on every machine (the
builtin `hash()` is salted per process), so a user keeps their arm across workers and restarts,
and two experiments with different salts split users independently of each other (Kohavi, Tang &
Xu 2020, "Trustworthy Online Controlled Experiments", ch. 14).

Readout. Each arm's success rate gets a Wilson score interval, and the difference of each arm
against the control gets Newcombe's hybrid score interval (Newcombe 1998, "Interval estimation
for the difference between independent proportions", method 10), which keeps its coverage near
the nominal level for small rates where the Wald interval does not. The verdict only says an arm
is better when the whole interval is on one side of zero. The minimum detectable effect is the
absolute difference a two-sided test at the same level detects with 80% power for the sample
sizes at hand (normal approximation at the control's rate):
``(z_{1 - alpha / 2} + z_power) * sqrt(p (1 - p) (1 / n_control + 1 / n_arm))``. With more than
two arms, every comparison against the control uses a Bonferroni-adjusted level so that the whole
readout keeps the stated family-wise confidence.

Example:
    >>> from policy.ab import ArmCounts, Bucketer, ab_readout
    >>> bucketer = Bucketer({"A": 0.5, "B": 0.5}, salt="ranker-v7-vs-v8")
    >>> bucketer.assign("user-42") == bucketer.assign("user-42")
    True
    >>> readout = ab_readout([ArmCounts("A", 300, 10_000), ArmCounts("B", 390, 10_000)])
    >>> readout.comparisons[0].verdict
    'B better'
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

__all__ = [
    "ABReadout",
    "ArmCounts",
    "ArmStats",
    "Bucketer",
    "Comparison",
    "ab_readout",
    "hash_unit",
    "minimum_detectable_effect",
    "newcombe_interval",
    "wilson_interval",
]

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike


def hash_unit(salt: str, user_id: str) -> float:
    """A user's stable position in [0, 1) for the experiment named by `salt`.

    The first 64 bits of SHA-256 over the length-prefixed salt and the user id, divided by 2**64:
    the same on every process and machine, and independent between salts.

    Args:
        salt: Names the experiment (or the holdout); a new salt reshuffles every user.
        user_id: The stable user id.

    Raises:
        ValueError: If either argument is not a non-empty string.
    """
    for name, value in (("salt", salt), ("user_id", user_id)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"hash_unit: `{name}` must be a non-empty string; got {value!r}")
    digest = hashlib.sha256(f"{len(salt)}:{salt}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


@dataclass(frozen=True, slots=True)
class Bucketer:
    """Sticky assignment of users to two or more arms by traffic weight.

    Args:
        weights: Arm name -> traffic weight (positive, finite; normalized to sum to 1). The
            order of the mapping fixes the slices, so keep it when the experiment is reloaded.
        salt: Names the experiment; use a fresh salt per experiment so arms do not carry over.

    Raises:
        ValueError: If there are fewer than two arms, a name is empty, a weight is not a positive
            finite number, or the salt is empty.

    Example:
        >>> Bucketer({"control": 0.9, "candidate": 0.1}, salt="exp-1").assign("u1")
        'control'
    """

    weights: Mapping[str, float]
    salt: str

    def __post_init__(self) -> None:
        if not isinstance(self.salt, str) or not self.salt:
            raise ValueError(f"Bucketer: `salt` must be a non-empty string; got {self.salt!r}")
        if not isinstance(self.weights, Mapping) or len(self.weights) < 2:
            raise ValueError(
                "Bucketer: `weights` must map at least two arm names to traffic weights, e.g. "
                f"{{'A': 0.5, 'B': 0.5}}; got {self.weights!r}"
            )
        clean: dict[str, float] = {}
        for name, weight in self.weights.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"Bucketer: arm names must be non-empty strings; got {name!r}")
            if isinstance(weight, bool) or not isinstance(weight, int | float | np.number):
                raise ValueError(
                    f"Bucketer: weight of arm {name!r} must be a number; got {weight!r}"
                )
            w = float(weight)
            if not (math.isfinite(w) and w > 0.0):
                raise ValueError(
                    f"Bucketer: weight of arm {name!r} must be positive and finite; got {weight!r}"
                    " (drop the arm instead of giving it weight 0)"
                )
            clean[name] = w
        total = sum(clean.values())
        object.__setattr__(
            self, "weights", MappingProxyType({n: w / total for n, w in clean.items()})
        )

    @property
    def arms(self) -> tuple[str, ...]:
        """Arm names in slice order."""
        return tuple(self.weights)

    def assign(self, user_id: str) -> str:
        """The user's arm: the same for every call, process and machine.

        Raises:
            ValueError: If `user_id` is not a non-empty string.
        """
        u = hash_unit(self.salt, user_id)
        cumulative = 0.0
        for name, weight in self.weights.items():
            cumulative += weight
            if u < cumulative:
                return name
        return self.arms[-1]  # u within float rounding of 1


@dataclass(frozen=True, slots=True)
class ArmCounts:
    """Observed outcomes of one arm: `successes` of `trials` units (users or impressions).

    Raises:
        ValueError: If the name is empty, a count is not an integer, `trials` < 1 or
            `successes` is outside [0, trials].
    """

    name: str
    successes: int
    trials: int

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"ArmCounts: `name` must be a non-empty string; got {self.name!r}")
        for field in ("successes", "trials"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ValueError(
                    f"ArmCounts {self.name!r}: `{field}` must be an integer count; got {value!r}"
                )
        if self.trials < 1:
            raise ValueError(
                f"ArmCounts {self.name!r}: `trials` must be >= 1; got {self.trials} (an arm "
                "without traffic has no rate; wait for data or drop the arm)"
            )
        if not 0 <= self.successes <= self.trials:
            raise ValueError(
                f"ArmCounts {self.name!r}: `successes` must lie in [0, trials={self.trials}]; "
                f"got {self.successes}"
            )


@dataclass(frozen=True, slots=True)
class ArmStats:
    """One arm's rate with its Wilson interval at the readout's confidence."""

    name: str
    successes: int
    trials: int
    rate: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Comparison:
    """One arm against the control: `difference` = arm rate - control rate.

    Attributes:
        arm: The compared arm.
        control: The control arm.
        difference: Arm rate minus control rate.
        low: Lower end of the interval for the difference (Newcombe hybrid score).
        high: Upper end of that interval.
        confidence: Confidence of this interval (Bonferroni-adjusted with several arms).
        verdict: ``"<arm> better"``, ``"<control> better"`` or ``"no detectable difference"``.
        mde: Minimum detectable absolute difference at 80% power for these sample sizes.
    """

    arm: str
    control: str
    difference: float
    low: float
    high: float
    confidence: float
    verdict: str
    mde: float


@dataclass(frozen=True, slots=True)
class ABReadout:
    """The readout of an A/B test: per-arm rates and each arm against the control."""

    arms: tuple[ArmStats, ...]
    comparisons: tuple[Comparison, ...]
    confidence: float

    def to_markdown(self) -> str:
        """Two markdown tables (rates, differences) and one plain-language line per arm."""
        pct = 100.0 * self.confidence
        lines = [
            f"| arm | successes | trials | rate | {pct:g}% interval |",
            "| --- | ---: | ---: | ---: | --- |",
        ]
        for a in self.arms:
            lines.append(
                f"| {a.name} | {a.successes} | {a.trials} | {a.rate:.4%} | "
                f"[{a.low:.4%}, {a.high:.4%}] |"
            )
        lines += [
            "",
            "| comparison | difference | interval | confidence | MDE (80% power) | verdict |",
            "| --- | ---: | --- | ---: | ---: | --- |",
        ]
        for c in self.comparisons:
            lines.append(
                f"| {c.arm} - {c.control} | {100 * c.difference:+.3f} pp | "
                f"[{100 * c.low:+.3f}, {100 * c.high:+.3f}] pp | {c.confidence:.4g} | "
                f"{100 * c.mde:.3f} pp | {c.verdict} |"
            )
        lines.append("")
        for c in self.comparisons:
            if c.verdict == "no detectable difference":
                lines.append(
                    f"- {c.arm} vs {c.control}: no detectable difference; with these samples only "
                    f"a difference of about {100 * c.mde:.3f} pp or more would reliably show."
                )
            else:
                lines.append(
                    f"- {c.arm} vs {c.control}: {c.verdict} ({100 * c.difference:+.3f} pp, "
                    f"interval [{100 * c.low:+.3f}, {100 * c.high:+.3f}] pp)."
                )
        return "\n".join(lines) + "\n"


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def _check_confidence(owner: str, confidence: float) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, int | float | np.floating):
        raise ValueError(f"{owner}: `confidence` must be a number in (0, 1); got {confidence!r}")
    c = float(confidence)
    if not 0.0 < c < 1.0:
        raise ValueError(f"{owner}: `confidence` must lie in (0, 1), e.g. 0.95; got {confidence!r}")
    return c


def wilson_interval(
    successes: ArrayLike, trials: ArrayLike, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval for binomial proportions (vectorized).

    Args:
        successes: Success counts, any shape broadcastable with `trials`.
        trials: Trial counts, each >= 1.
        confidence: Two-sided confidence level in (0, 1).

    Returns:
        (low, high) arrays of the broadcast shape.

    Raises:
        ValueError: If a trial count is < 1, successes fall outside [0, trials], or the
            confidence is outside (0, 1).
    """
    z = _z(_check_confidence("wilson_interval", confidence))
    s = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    if np.any(n < 1) or np.any(s < 0) or np.any(s > n):
        raise ValueError(
            "wilson_interval: need trials >= 1 and 0 <= successes <= trials for every arm"
        )
    p = s / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def newcombe_interval(
    successes_a: ArrayLike,
    trials_a: ArrayLike,
    successes_b: ArrayLike,
    trials_b: ArrayLike,
    confidence: float = 0.95,
) -> tuple[FloatArray, FloatArray]:
    """Newcombe's hybrid score interval for rate_b - rate_a (Newcombe 1998, method 10).

    Args:
        successes_a: Successes of arm A (the control), broadcastable with the others.
        trials_a: Trials of arm A, each >= 1.
        successes_b: Successes of arm B.
        trials_b: Trials of arm B, each >= 1.
        confidence: Two-sided confidence level in (0, 1).

    Returns:
        (low, high) for the difference rate_b - rate_a.

    Raises:
        ValueError: As `wilson_interval`, for either arm.
    """
    la, ua = wilson_interval(successes_a, trials_a, confidence)
    lb, ub = wilson_interval(successes_b, trials_b, confidence)
    pa = np.asarray(successes_a, dtype=np.float64) / np.asarray(trials_a, dtype=np.float64)
    pb = np.asarray(successes_b, dtype=np.float64) / np.asarray(trials_b, dtype=np.float64)
    d = pb - pa
    low = d - np.sqrt((pb - lb) ** 2 + (ua - pa) ** 2)
    high = d + np.sqrt((ub - pb) ** 2 + (pa - la) ** 2)
    return low, high


def minimum_detectable_effect(
    rate: float, n_a: int, n_b: int, *, confidence: float = 0.95, power: float = 0.8
) -> float:
    """Smallest absolute difference a two-sided test detects with `power` (normal approx.).

    Args:
        rate: Baseline success rate; clipped to [1 / (2 n), 1 - 1 / (2 n)] with n = n_a + n_b so
            that an arm without successes does not claim a zero MDE.
        n_a: Trials of the first arm, >= 1.
        n_b: Trials of the second arm, >= 1.
        confidence: Two-sided confidence level of the test.
        power: Probability of detecting a true difference of the returned size.

    Raises:
        ValueError: If a count is < 1 or a level is outside (0, 1).
    """
    c = _check_confidence("minimum_detectable_effect", confidence)
    if not 0.0 < power < 1.0:
        raise ValueError(f"minimum_detectable_effect: `power` must lie in (0, 1); got {power!r}")
    if n_a < 1 or n_b < 1:
        raise ValueError(
            f"minimum_detectable_effect: sample sizes must be >= 1; got {n_a} and {n_b}"
        )
    floor = 1.0 / (2.0 * (n_a + n_b))
    p = min(max(float(rate), floor), 1.0 - floor)
    return (_z(c) + NormalDist().inv_cdf(power)) * math.sqrt(p * (1.0 - p) * (1 / n_a + 1 / n_b))


def ab_readout(
    arms: Sequence[ArmCounts], *, control: str | None = None, confidence: float = 0.95
) -> ABReadout:
    """Rates with intervals, each arm against the control, a verdict and the MDE.

    Args:
        arms: Two or more arms' counts, with distinct names.
        control: Name of the control arm; default the first arm.
        confidence: Family-wise confidence of the readout; with m > 1 comparisons each
            difference interval uses 1 - (1 - confidence) / m (Bonferroni).

    Returns:
        The readout; `ABReadout.to_markdown()` renders it.

    Raises:
        ValueError: If fewer than two arms are given, names repeat, `control` is not an arm or
            `confidence` is outside (0, 1).
    """
    conf = _check_confidence("ab_readout", confidence)
    if len(arms) < 2 or not all(isinstance(a, ArmCounts) for a in arms):
        raise ValueError(
            f"ab_readout: `arms` must hold at least two ArmCounts; got {len(arms)} arm(s)"
        )
    names = [a.name for a in arms]
    if len(set(names)) != len(names):
        raise ValueError(f"ab_readout: arm names must be distinct; got {names}")
    control_name = names[0] if control is None else control
    if control_name not in names:
        raise ValueError(f"ab_readout: `control` {control!r} is not one of the arms {names}")
    base = arms[names.index(control_name)]
    stats = []
    for a in arms:
        low, high = wilson_interval(a.successes, a.trials, conf)
        stats.append(
            ArmStats(a.name, a.successes, a.trials, a.successes / a.trials, float(low), float(high))
        )
    others = [a for a in arms if a.name != control_name]
    per = 1.0 - (1.0 - conf) / len(others)
    comparisons = []
    for a in others:
        low, high = newcombe_interval(base.successes, base.trials, a.successes, a.trials, per)
        lo, hi = float(low), float(high)
        if lo > 0.0:
            verdict = f"{a.name} better"
        elif hi < 0.0:
            verdict = f"{control_name} better"
        else:
            verdict = "no detectable difference"
        comparisons.append(
            Comparison(
                arm=a.name,
                control=control_name,
                difference=a.successes / a.trials - base.successes / base.trials,
                low=lo,
                high=hi,
                confidence=per,
                verdict=verdict,
                mde=minimum_detectable_effect(
                    base.successes / base.trials, base.trials, a.trials, confidence=per
                ),
            )
        )
    return ABReadout(arms=tuple(stats), comparisons=tuple(comparisons), confidence=conf)
