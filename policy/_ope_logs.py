"""Logged bandit feedback for off-policy evaluation, validated once at the public entry.

The layout is Open Bandit Pipeline's position-wise one (Saito et al. 2020, "Open Bandit Dataset
and Pipeline"): one row per shown position, so a top-3 slate is three rows that share a
`slate_id`. Every check here raises a `ValueError` that names the bad field and says what it
must be; estimators never re-check deep inside.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .base import FloatArray

__all__ = ["BanditLogs", "IntArray", "check_action_dist", "check_estimated_rewards"]

IntArray = npt.NDArray[np.int64]

_SUM_TOLERANCE = 1e-6
"""How far a per-round, per-position `action_dist` column may sum away from 1."""

_FIELDS = (
    "reward",
    "action",
    "position",
    "pscore",
    "n_actions",
    "len_list",
    "context",
    "pair_features",
    "slate_id",
    "slate_pscore",
)


def _vector(name: str, value: object, dtype: type[np.generic]) -> npt.NDArray[Any]:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"BanditLogs: `{name}` must be numeric, shape (n_rounds,); {exc}") from exc
    if arr.ndim != 1:
        raise ValueError(f"BanditLogs: `{name}` must have shape (n_rounds,); got {arr.shape}")
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"BanditLogs: `{name}` must be finite; got {arr[bad]} at row {bad}")
    if dtype is np.int64:
        if not np.array_equal(arr, np.round(arr)):
            bad = int(np.flatnonzero(arr != np.round(arr))[0])
            raise ValueError(
                f"BanditLogs: `{name}` must hold integers; got {arr[bad]} at row {bad}"
            )
        return arr.astype(np.int64)
    return arr


def _propensities(name: str, value: object, n: int) -> FloatArray:
    if value is None:
        raise ValueError(
            f"BanditLogs: logs without propensities: `{name}` is missing; log the logging "
            "policy's probability of every shown action (Slate.propensities) to evaluate offline"
        )
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 1 or arr.size != n:
        raise ValueError(
            f"BanditLogs: `{name}` must have shape ({n},) like `reward`; got {arr.shape}"
        )
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr > 0.0) & (arr <= 1.0)))
    if bad.size:
        raise ValueError(
            f"BanditLogs: logs without propensities: `{name}` must lie in (0, 1] on every row; "
            f"got {arr[bad[0]]} at row {int(bad[0])} ({bad.size} bad rows); rows logged without a "
            "propensity (missing, NaN or zero) cannot be importance-weighted: drop them or re-log"
        )
    return arr


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"BanditLogs: `{name}` must be an integer >= 1; got {value!r}")
    return int(value)


@dataclass(frozen=True, eq=False, slots=True)
class BanditLogs:
    """Position-wise logged bandit feedback (obp's `bandit_feedback` layout), validated.

    Attributes:
        reward: Observed reward of each row (e.g. click 0/1), shape (n_rounds,).
        action: Shown action (item) index of each row, shape (n_rounds,), in [0, n_actions).
        position: Slate position of each row, shape (n_rounds,), in [0, len_list).
        pscore: The logging policy's marginal probability of showing `action` at `position`
            (obp's `pscore`, `Slate.propensities`), shape (n_rounds,), in (0, 1].
        n_actions: Number of actions.
        len_list: Number of slate positions.
        context: Optional round features for the reward model, shape (n_rounds, d).
        pair_features: Optional context-action features for the reward model (e.g. OBD's
            user-item affinity), shape (n_rounds, n_actions, f).
        slate_id: Optional slate of each row, shape (n_rounds,); rows of one slate share it.
            With it, the bootstrap resamples whole slates.
        slate_pscore: Optional probability of the whole logged slate under the logging policy
            (`Slate.slate_propensity`), shape (n_rounds,), equal within a slate; needed by the
            slate estimator.

    Raises:
        ValueError: On empty logs, mismatched lengths, non-finite values, out-of-range actions
            or positions, or missing, NaN, zero or > 1 propensities ("logs without
            propensities").
    """

    reward: FloatArray
    action: IntArray
    position: IntArray
    pscore: FloatArray
    n_actions: int
    len_list: int
    context: FloatArray | None = None
    pair_features: FloatArray | None = None
    slate_id: IntArray | None = None
    slate_pscore: FloatArray | None = None

    def __post_init__(self) -> None:
        n_actions = _count("n_actions", self.n_actions)
        len_list = _count("len_list", self.len_list)
        reward = _vector("reward", self.reward, np.float64)
        n = reward.size
        if n == 0:
            raise ValueError("BanditLogs: the logs are empty; evaluate on at least one logged row")
        action = _vector("action", self.action, np.int64)
        position = _vector("position", self.position, np.int64)
        for name, arr in (("action", action), ("position", position)):
            if arr.size != n:
                raise ValueError(
                    f"BanditLogs: mismatched lengths: `{name}` has {arr.size} rows, `reward` {n}"
                )
        for name, arr, bound in (("action", action, n_actions), ("position", position, len_list)):
            bad = np.flatnonzero((arr < 0) | (arr >= bound))
            if bad.size:
                limit = "n_actions" if name == "action" else "len_list"
                raise ValueError(
                    f"BanditLogs: `{name}` out of range: got {arr[bad[0]]} at row {int(bad[0])}; "
                    f"must lie in [0, {bound}) ({limit} = {bound})"
                )
        pscore = _propensities("pscore", self.pscore, n)
        set_ = object.__setattr__
        for name, value in (
            ("n_actions", n_actions),
            ("len_list", len_list),
            ("reward", reward),
            ("action", action),
            ("position", position),
            ("pscore", pscore),
        ):
            set_(self, name, value)
        if self.context is not None:
            context = np.asarray(self.context, dtype=np.float64)
            if context.ndim == 1:
                context = context[:, None]
            if context.ndim != 2 or context.shape[0] != n or not np.isfinite(context).all():
                raise ValueError(
                    f"BanditLogs: `context` must be finite with shape ({n}, d); got {context.shape}"
                )
            set_(self, "context", context)
        if self.pair_features is not None:
            pair = np.asarray(self.pair_features, dtype=np.float64)
            if pair.ndim == 2:
                pair = pair[:, :, None]
            if pair.ndim != 3 or pair.shape[:2] != (n, n_actions) or not np.isfinite(pair).all():
                raise ValueError(
                    f"BanditLogs: `pair_features` must be finite with shape ({n}, {n_actions}, f);"
                    f" got {pair.shape}"
                )
            set_(self, "pair_features", pair)
        if self.slate_id is not None:
            slate_id = _vector("slate_id", self.slate_id, np.int64)
            if slate_id.size != n:
                raise ValueError(
                    f"BanditLogs: mismatched lengths: `slate_id` has {slate_id.size} rows, "
                    f"`reward` {n}"
                )
            set_(self, "slate_id", slate_id)
        if self.slate_pscore is not None:
            if self.slate_id is None:
                raise ValueError("BanditLogs: `slate_pscore` needs `slate_id` (rows per slate)")
            set_(self, "slate_pscore", _propensities("slate_pscore", self.slate_pscore, n))

    @property
    def n_rounds(self) -> int:
        """Number of logged rows (shown positions)."""
        return int(self.reward.size)

    @classmethod
    def from_feedback(cls, feedback: Mapping[str, Any]) -> BanditLogs:
        """Build from an obp-style `bandit_feedback` dict (extra keys are ignored).

        `n_actions` defaults to max(action) + 1 and `len_list` to max(position) + 1.

        Raises:
            ValueError: If `reward`, `action` or `position` is missing, or on any check above.
        """
        missing = [key for key in ("reward", "action", "position") if key not in feedback]
        if missing:
            raise ValueError(f"BanditLogs: the logs lack {missing}; give reward, action, position")
        kwargs = {key: feedback[key] for key in _FIELDS if key in feedback}
        kwargs.setdefault("pscore", None)
        if "n_actions" not in kwargs:
            kwargs["n_actions"] = int(np.max(feedback["action"], initial=-1)) + 1
        if "len_list" not in kwargs:
            kwargs["len_list"] = int(np.max(feedback["position"], initial=-1)) + 1
        return cls(**kwargs)


def check_action_dist(
    logs: BanditLogs, action_dist: object, name: str = "action_dist"
) -> FloatArray:
    """The candidate's `action_dist` as float64, shape (n_rounds, n_actions, len_list), checked.

    Raises:
        ValueError: If the shape does not match the logs, a value is outside [0, 1] or not
            finite, or a round's distribution at a position does not sum to 1.
    """
    try:
        arr = np.asarray(action_dist, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}` must be numeric; {exc}") from exc
    want = (logs.n_rounds, logs.n_actions, logs.len_list)
    if arr.shape != want:
        raise ValueError(
            f"`{name}` must have shape (n_rounds, n_actions, len_list) = {want}; got {arr.shape}"
        )
    if not (np.isfinite(arr).all() and (arr >= 0.0).all() and (arr <= 1.0).all()):
        raise ValueError(f"`{name}` must hold probabilities in [0, 1]")
    sums = arr.sum(axis=1)
    off = np.abs(sums - 1.0) > _SUM_TOLERANCE
    if off.any():
        row, pos = (int(v[0]) for v in np.nonzero(off))
        raise ValueError(
            f"`{name}` must sum to 1 over actions for every round and position; round {row}, "
            f"position {pos} sums to {sums[row, pos]:.6g}"
        )
    return arr


def check_estimated_rewards(logs: BanditLogs, value: object) -> FloatArray:
    """The reward model's q-hat, shape (n_rounds, n_actions, len_list), checked finite.

    Raises:
        ValueError: If the shape does not match the logs or a value is not finite.
    """
    arr = np.asarray(value, dtype=np.float64)
    want = (logs.n_rounds, logs.n_actions, logs.len_list)
    if arr.shape != want:
        raise ValueError(
            f"`estimated_rewards` must have shape (n_rounds, n_actions, len_list) = {want}; got "
            f"{arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError("`estimated_rewards` must be finite")
    return arr
