"""Off-policy evaluation: what a candidate policy would earn, estimated from logged decisions.

Position-wise estimators on obp's layout (one row per shown position; Saito et al. 2020, "Open
Bandit Dataset and Pipeline"), each equal to the obp 0.5.7 class named beside it. Write
w_i = pi_e(a_i | x_i, p_i) / pscore_i for the importance weight of row i:

* ``IPS`` (`InverseProbabilityWeighting`; Horvitz & Thompson 1952, Precup 2000):
  mean(r_i w_i). Unbiased with full support; variance grows with the weights.
* ``SNIPS`` (`SelfNormalizedInverseProbabilityWeighting`; Swaminathan & Joachims 2015):
  sum(r_i w_i) / sum(w_i). Slightly biased, much steadier when weights are large.
* ``DM`` (`DirectMethod`; Beygelzimer & Langford 2009): mean over rows of
  sum_a pi_e(a | x_i, p_i) q(x_i, a, p_i), with q the reward model. Low variance, biased
  by whatever the model gets wrong.
* ``DR`` (`DoublyRobust`; Dudik et al. 2014): DM plus mean(w_i (r_i - q(x_i, a_i, p_i))).
  Unbiased if either the propensities or the model are right.
* ``SIPS``, the standard slate IPS for top-k slates (`SlateStandardIPS`; McInerney et al. 2020,
  Eq. 1): mean over slates of (sum of the slate's rewards) * pi_e(slate) / pi_b(slate), divided
  here by `len_list` so that every estimator reads as mean reward per shown position (obp's value
  is `len_list` times ours). It weights by whole-slate probabilities (`Slate.slate_propensity`),
  assumes nothing about how positions interact, and pays with much larger weights.

The reward model for DM and DR is fitted with K-fold cross-fitting (`fit_reward_model`). Every
estimate comes with a percentile bootstrap interval (Efron & Tibshirani 1993): `n_bootstrap`
seeded resamples of the logged rows, or of whole slates when `slate_id` is logged (rows of one
slate share a shopper and are not independent), recomputing the estimator on each (SNIPS
renormalises inside each resample; obp's `estimate_interval` resamples its per-row terms instead).
The reward model is held fixed across resamples.

Example:
    >>> import numpy as np
    >>> from policy.ope import BanditLogs, evaluate
    >>> rng = np.random.default_rng(0)
    >>> n = 2000
    >>> logs = BanditLogs(reward=(rng.random(n) < 0.1).astype(float),
    ...                   action=rng.integers(0, 4, n), position=np.zeros(n, dtype=int),
    ...                   pscore=np.full(n, 0.25), n_actions=4, len_list=1)
    >>> candidate = np.full((n, 4, 1), 0.25)  # the logging policy itself
    >>> [e.name for e in evaluate(logs, candidate, n_bootstrap=200)]
    ['IPS', 'SNIPS', 'DM', 'DR']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._ope_logs import BanditLogs, IntArray, check_action_dist, check_estimated_rewards
from ._ope_reward import fit_reward_model
from .base import FloatArray

__all__ = [
    "ESTIMATORS",
    "BanditLogs",
    "Estimate",
    "bootstrap_interval",
    "dm",
    "dr",
    "evaluate",
    "fit_reward_model",
    "ips",
    "sips",
    "snips",
]

ESTIMATORS = ("IPS", "SNIPS", "DM", "DR", "SIPS")
"""Every estimator `evaluate` knows, in report order."""

_CHUNK = 4_000_000
"""Resampled indices held in memory at once by the bootstrap."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """One estimator's value of a candidate policy with its bootstrap interval.

    Attributes:
        name: The estimator (``"IPS"``, ``"SNIPS"``, ``"DM"``, ``"DR"``, ``"SIPS"``).
        value: Point estimate: mean reward per shown position under the candidate.
        low: Lower end of the percentile bootstrap interval.
        high: Upper end of the percentile bootstrap interval.
        n: Logged rows the estimate used (slates for ``"SIPS"``).
    """

    name: str
    value: float
    low: float
    high: float
    n: int


@dataclass(frozen=True, slots=True)
class _Terms:
    """An estimator as a ratio of per-row sums: value = sum(numerator) / sum(denominator)."""

    numerator: FloatArray
    denominator: FloatArray

    @property
    def value(self) -> float:
        return float(self.numerator.sum() / self.denominator.sum())


def _weights(logs: BanditLogs, action_dist: FloatArray) -> FloatArray:
    rows = np.arange(logs.n_rounds)
    out: FloatArray = action_dist[rows, logs.action, logs.position] / logs.pscore
    return out


def _dm_terms(logs: BanditLogs, action_dist: FloatArray, q_hat: FloatArray) -> FloatArray:
    rows = np.arange(logs.n_rounds)
    pi = action_dist[rows, :, logs.position]
    q = q_hat[rows, :, logs.position]
    # Divided by the weights' sum, as np.average in obp's DM does (1 up to rounding).
    out: FloatArray = (pi * q).sum(axis=1) / pi.sum(axis=1)
    return out


def _ips_terms(logs: BanditLogs, action_dist: FloatArray) -> _Terms:
    return _Terms(logs.reward * _weights(logs, action_dist), np.ones(logs.n_rounds))


def _snips_terms(logs: BanditLogs, action_dist: FloatArray) -> _Terms:
    w = _weights(logs, action_dist)
    if not w.sum() > 0.0:
        raise ValueError(
            "SNIPS: the candidate gives probability 0 to every logged action; no logged row "
            "informs it (use DM, or log with wider support)"
        )
    return _Terms(logs.reward * w, w)


def _dr_terms(logs: BanditLogs, action_dist: FloatArray, q_hat: FloatArray) -> _Terms:
    rows = np.arange(logs.n_rounds)
    factual = q_hat[rows, logs.action, logs.position]
    terms = _dm_terms(logs, action_dist, q_hat) + _weights(logs, action_dist) * (
        logs.reward - factual
    )
    return _Terms(terms, np.ones(logs.n_rounds))


def _slate_groups(logs: BanditLogs) -> IntArray:
    if logs.slate_id is None:
        raise ValueError("SIPS: the logs need `slate_id` and `slate_pscore` (whole-slate logs)")
    out: IntArray = np.unique(logs.slate_id, return_inverse=True)[1].astype(np.int64)
    return out


def _check_slate_pscore(logs: BanditLogs, value: object) -> FloatArray:
    groups = _slate_groups(logs)
    if logs.slate_pscore is None:
        raise ValueError(
            "SIPS: logs without propensities: `slate_pscore` (the logging policy's probability "
            "of each whole slate, Slate.slate_propensity) is missing"
        )
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (logs.n_rounds,):
        raise ValueError(
            f"SIPS: `candidate_slate_pscore` must have shape ({logs.n_rounds},); got {arr.shape}"
        )
    if not (np.isfinite(arr).all() and (arr >= 0.0).all() and (arr <= 1.0).all()):
        raise ValueError("SIPS: `candidate_slate_pscore` must hold probabilities in [0, 1]")
    for name, values in (("slate_pscore", logs.slate_pscore), ("candidate_slate_pscore", arr)):
        first = np.full(int(groups.max()) + 1, np.nan)
        first[groups[::-1]] = values[::-1]
        if not np.array_equal(first[groups], values):
            raise ValueError(f"SIPS: `{name}` must be the same on every row of a slate")
    return arr


def _sips_terms(logs: BanditLogs, candidate_slate_pscore: FloatArray) -> _Terms:
    groups = _slate_groups(logs)
    assert logs.slate_pscore is not None  # checked by _check_slate_pscore
    numerator = np.bincount(
        groups, weights=logs.reward * candidate_slate_pscore / logs.slate_pscore
    ) / float(logs.len_list)
    return _Terms(numerator, np.ones(numerator.size))


def _as_logs(logs: BanditLogs | Mapping[str, Any]) -> BanditLogs:
    if isinstance(logs, BanditLogs):
        return logs
    if isinstance(logs, Mapping):
        return BanditLogs.from_feedback(logs)
    raise ValueError(f"`logs` must be BanditLogs or an obp-style dict; got {type(logs).__name__}")


def ips(logs: BanditLogs | Mapping[str, Any], action_dist: object) -> float:
    """IPS estimate of the candidate's mean reward per shown position (obp's `ipw`).

    Args:
        logs: The logs (or an obp `bandit_feedback` dict).
        action_dist: The candidate's probabilities, shape (n_rounds, n_actions, len_list).

    Raises:
        ValueError: On bad logs or a bad `action_dist` (see `BanditLogs`).
    """
    checked = _as_logs(logs)
    return _ips_terms(checked, check_action_dist(checked, action_dist)).value


def snips(logs: BanditLogs | Mapping[str, Any], action_dist: object) -> float:
    """Self-normalised IPS: sum(r w) / sum(w) (obp's `snipw`). Arguments as `ips`."""
    checked = _as_logs(logs)
    return _snips_terms(checked, check_action_dist(checked, action_dist)).value


def dm(
    logs: BanditLogs | Mapping[str, Any], action_dist: object, estimated_rewards: object
) -> float:
    """Direct method with q-hat `estimated_rewards`, shape (n_rounds, n_actions, len_list)."""
    checked = _as_logs(logs)
    dist = check_action_dist(checked, action_dist)
    return float(
        _dm_terms(checked, dist, check_estimated_rewards(checked, estimated_rewards)).mean()
    )


def dr(
    logs: BanditLogs | Mapping[str, Any], action_dist: object, estimated_rewards: object
) -> float:
    """Doubly robust estimate (obp's `dr`, no clipping). Arguments as `dm`."""
    checked = _as_logs(logs)
    dist = check_action_dist(checked, action_dist)
    return _dr_terms(checked, dist, check_estimated_rewards(checked, estimated_rewards)).value


def sips(logs: BanditLogs | Mapping[str, Any], candidate_slate_pscore: object) -> float:
    """Standard slate IPS per shown position: obp's `SlateStandardIPS` value / `len_list`.

    Args:
        logs: Logs with `slate_id` and `slate_pscore`.
        candidate_slate_pscore: The candidate's probability of each row's whole logged slate,
            shape (n_rounds,), the same on every row of a slate.

    Raises:
        ValueError: If the logs lack slates or slate propensities, or the shapes disagree.
    """
    checked = _as_logs(logs)
    return _sips_terms(checked, _check_slate_pscore(checked, candidate_slate_pscore)).value


def bootstrap_interval(
    numerator: FloatArray,
    denominator: FloatArray,
    *,
    n_bootstrap: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of sum(numerator) / sum(denominator) over resampled units.

    Args:
        numerator: Per-unit (row or slate) numerator sums, shape (n_units,).
        denominator: Per-unit denominator sums, shape (n_units,).
        n_bootstrap: Number of resamples (with replacement, n_units each).
        alpha: 1 - coverage; 0.05 gives a 95% interval.
        seed: Seeds `numpy.random.default_rng`; the same seed gives the same interval.

    Returns:
        (low, high): the alpha/2 and 1 - alpha/2 quantiles of the resampled estimates.

    Raises:
        ValueError: If `n_bootstrap` < 1 or `alpha` is outside (0, 1).
    """
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 1:
        raise ValueError(f"`n_bootstrap` must be an integer >= 1; got {n_bootstrap!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"`alpha` must lie in (0, 1); got {alpha!r}")
    n = numerator.size
    rng = np.random.default_rng(seed)
    values = np.empty(n_bootstrap)
    step = max(1, _CHUNK // max(n, 1))
    for start in range(0, n_bootstrap, step):
        stop = min(start + step, n_bootstrap)
        idx = rng.integers(0, n, size=(stop - start, n))
        den = denominator[idx].sum(axis=1)
        num = numerator[idx].sum(axis=1)
        values[start:stop] = np.divide(num, den, out=np.full(num.shape, np.nan), where=den != 0)
    low, high = np.nanquantile(values, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(low), float(high)


def _per_unit(terms: _Terms, groups: IntArray | None) -> tuple[FloatArray, FloatArray]:
    if groups is None or terms.numerator.size != groups.size:
        return terms.numerator, terms.denominator
    numerator = np.asarray(np.bincount(groups, weights=terms.numerator), dtype=np.float64)
    denominator = np.asarray(np.bincount(groups, weights=terms.denominator), dtype=np.float64)
    return numerator, denominator


def evaluate(
    logs: BanditLogs | Mapping[str, Any],
    candidate_action_dist: object,
    *,
    estimators: Sequence[str] | None = None,
    estimated_rewards: object | None = None,
    candidate_slate_pscore: object | None = None,
    n_bootstrap: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    n_folds: int = 3,
) -> list[Estimate]:
    """Estimate a candidate policy's value from logs, each estimate with a bootstrap interval.

    Args:
        logs: Position-wise logs (`BanditLogs`, or an obp `bandit_feedback` dict).
        candidate_action_dist: The candidate's probability of each action at each position,
            shape (n_rounds, n_actions, len_list); each (round, position) sums to 1.
        estimators: Names from `ESTIMATORS`; default IPS, SNIPS, DM, DR, and SIPS as well
            when `candidate_slate_pscore` is given.
        estimated_rewards: q-hat for DM/DR, shape (n_rounds, n_actions, len_list); default: the
            cross-fitted logistic model (`fit_reward_model` with `n_folds` and `seed`).
        candidate_slate_pscore: For SIPS, the candidate's probability of each row's whole
            logged slate, shape (n_rounds,).
        n_bootstrap: Bootstrap resamples per estimator (1,000 by default).
        alpha: 1 - interval coverage (0.05: 95% intervals).
        seed: Seeds the bootstrap and the cross-fitting folds.
        n_folds: K of the reward model's cross-fitting.

    Returns:
        One `Estimate` per estimator, in the order asked.

    Raises:
        ValueError: On empty logs, mismatched lengths, logs without propensities, out-of-range
            actions, an `action_dist` that does not sum to 1 per round and position, an
            unknown estimator name, or SIPS without slate propensities.
    """
    checked = _as_logs(logs)
    dist = check_action_dist(checked, candidate_action_dist, "candidate_action_dist")
    if estimators is None:
        names = ["IPS", "SNIPS", "DM", "DR"] + (
            ["SIPS"] if candidate_slate_pscore is not None else []
        )
    else:
        names = list(estimators)
    unknown = [name for name in names if name not in ESTIMATORS]
    if unknown or not names:
        raise ValueError(f"`estimators` must name some of {ESTIMATORS}; got {names}")
    q_hat: FloatArray | None = None
    if {"DM", "DR"} & set(names):
        q_hat = (
            fit_reward_model(checked, n_folds=n_folds, seed=seed)
            if estimated_rewards is None
            else check_estimated_rewards(checked, estimated_rewards)
        )
    groups = None if checked.slate_id is None else _slate_groups(checked)
    out = []
    for name in names:
        if name == "SIPS":
            if candidate_slate_pscore is None:
                raise ValueError("SIPS needs `candidate_slate_pscore`")
            terms = _sips_terms(checked, _check_slate_pscore(checked, candidate_slate_pscore))
        elif name == "IPS":
            terms = _ips_terms(checked, dist)
        elif name == "SNIPS":
            terms = _snips_terms(checked, dist)
        else:
            assert q_hat is not None
            terms = (
                _Terms(_dm_terms(checked, dist, q_hat), np.ones(checked.n_rounds))
                if name == "DM"
                else _dr_terms(checked, dist, q_hat)
            )
        numerator, denominator = _per_unit(terms, groups)
        low, high = bootstrap_interval(
            numerator, denominator, n_bootstrap=n_bootstrap, alpha=alpha, seed=seed
        )
        value = terms.value
        if not math.isfinite(value):
            raise ValueError(f"{name}: the estimate is not finite ({value}); check the inputs")
        out.append(Estimate(name, value, low, high, int(terms.numerator.size)))
    return out
