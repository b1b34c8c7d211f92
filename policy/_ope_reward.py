"""The cross-fitted reward model q-hat(x, a, position) behind the DM and DR estimators.

The model: an L2-regularised logistic regression (scikit-learn, Newton-Cholesky solver) whose
logit is additive in the round's context, the action (one-hot), the position (one-hot) and the
context-action pair features (e.g. OBD's user-item affinity of that action):

    logit q(x, a, p) = w_x . x + w_a[a] + w_p[p] + w_f . f(x, a) + b.

Being additive, one fit predicts every (action, position) of a round by broadcasting, with no
(n_rounds * n_actions * len_list)-row design matrix.

Cross-fitting (Chernozhukov et al. 2018, "Double/debiased machine learning"; used for DR by
Narita et al. 2021 and obp's `RegressionModel(fitting_method=..., n_folds=K)`): the rows are split
into K folds (whole slates stay together when `slate_id` is logged); each fold's q-hat comes from
the model fitted on the other K - 1 folds, so no row's reward ever informs its own prediction and
DR keeps its bias guarantee without assuming the model class is simple. A fold whose training
rows hold a single reward value predicts that value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._ope_logs import BanditLogs, IntArray
from .base import FloatArray

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

__all__ = ["SOLVER", "fit_reward_model"]

SOLVER = "newton-cholesky"
"""scikit-learn's solver: exact Newton steps, converges in a few iterations on these designs."""


def _design(logs: BanditLogs, rows: IntArray) -> FloatArray:
    """Training features of the logged (context, action, position) of `rows`."""
    parts = []
    if logs.context is not None:
        parts.append(logs.context[rows])
    parts.append(np.eye(logs.n_actions)[logs.action[rows]])
    parts.append(np.eye(logs.len_list)[logs.position[rows]])
    if logs.pair_features is not None:
        parts.append(logs.pair_features[rows, logs.action[rows]])
    return np.hstack(parts)


def _predict_all(logs: BanditLogs, rows: IntArray, model: LogisticRegression) -> FloatArray:
    """q-hat for every action and position of `rows`, shape (len(rows), n_actions, len_list)."""
    coef = model.coef_[0]
    d = 0 if logs.context is None else logs.context.shape[1]
    w_x = coef[:d]
    w_a = coef[d : d + logs.n_actions]
    w_p = coef[d + logs.n_actions : d + logs.n_actions + logs.len_list]
    w_f = coef[d + logs.n_actions + logs.len_list :]
    logit = np.full((rows.size, logs.n_actions), float(model.intercept_[0]))
    if logs.context is not None:
        logit += (logs.context[rows] @ w_x)[:, None]
    logit += w_a[None, :]
    if logs.pair_features is not None:
        logit += logs.pair_features[rows] @ w_f
    full = logit[:, :, None] + w_p[None, None, :]
    out: FloatArray = 1.0 / (1.0 + np.exp(-full))
    return out


def fold_assignment(logs: BanditLogs, n_folds: int, seed: int) -> IntArray:
    """Fold of each row, shape (n_rounds,): rows of one slate share a fold; seeded shuffle."""
    rng = np.random.default_rng(seed)
    if logs.slate_id is None:
        groups = np.arange(logs.n_rounds)
    else:
        groups = np.unique(logs.slate_id, return_inverse=True)[1]
    n_groups = int(groups.max()) + 1
    folds = rng.permutation(n_groups) % n_folds
    out: IntArray = folds[groups].astype(np.int64)
    return out


def fit_reward_model(
    logs: BanditLogs, *, n_folds: int = 3, seed: int = 0, c: float = 1.0
) -> FloatArray:
    """Cross-fitted q-hat(x, a, position) for every logged round, action and position.

    Args:
        logs: The logs; `context` and `pair_features` are used when present.
        n_folds: K of K-fold cross-fitting, at least 2 (and at most the number of slates).
        seed: Seeds the fold assignment; the fit itself is deterministic.
        c: Inverse L2 strength of the logistic regression (scikit-learn's `C`).

    Returns:
        q-hat, shape (n_rounds, n_actions, len_list), each in (0, 1).

    Raises:
        ValueError: If `n_folds` < 2 or exceeds the number of rows (slates), `c` <= 0, or a
            reward is not 0 or 1.

    Example:
        >>> import numpy as np
        >>> from policy.ope import BanditLogs, fit_reward_model
        >>> rng = np.random.default_rng(0)
        >>> logs = BanditLogs(reward=rng.random(300) < 0.3, action=rng.integers(0, 4, 300),
        ...                   position=rng.integers(0, 2, 300), pscore=np.full(300, 0.25),
        ...                   n_actions=4, len_list=2)
        >>> fit_reward_model(logs, n_folds=3).shape
        (300, 4, 2)
    """
    n_groups = logs.n_rounds if logs.slate_id is None else np.unique(logs.slate_id).size
    if isinstance(n_folds, bool) or not isinstance(n_folds, int) or not 2 <= n_folds <= n_groups:
        raise ValueError(
            f"fit_reward_model: `n_folds` must be an integer in [2, {n_groups}] (rows or slates "
            f"logged); got {n_folds!r}"
        )
    if not c > 0.0:
        raise ValueError(f"fit_reward_model: `c` must be > 0; got {c!r}")
    if not np.isin(logs.reward, (0.0, 1.0)).all():
        raise ValueError(
            "fit_reward_model: the logistic reward model needs 0/1 rewards (clicks); for other "
            "rewards fit your own model and pass `estimated_rewards`"
        )
    folds = fold_assignment(logs, n_folds, seed)
    out = np.empty((logs.n_rounds, logs.n_actions, logs.len_list))
    for k in range(n_folds):
        train = np.flatnonzero(folds != k)
        test = np.flatnonzero(folds == k)
        labels = logs.reward[train].astype(np.int64)
        if labels.min() == labels.max():
            out[test] = float(logs.reward[train].mean())
            continue
        from sklearn.linear_model import LogisticRegression  # imported here: slow to import

        model = LogisticRegression(C=c, solver=SOLVER, max_iter=200)
        model.fit(_design(logs, train), labels)
        out[test] = _predict_all(logs, test, model)
    return out
