"""Logs to evaluate on: the Open Bandit Dataset sample and a synthetic slate log with known truth.

* `load_obd` reads the Open Bandit Dataset sample that ships inside ``obp==0.5.7`` (ZOZOTOWN,
  Saito et al. 2020; 10,000 rows per logging policy and campaign) straight from its CSVs, with
  obp's preprocessing: rows by time, positions 1..3 as 0..2, user features one-hot (first level
  dropped), the user-item affinity columns as pair features. obp's own loader breaks on pandas 3
  and obp is never imported here. The sample holds one row per impression (no row shares its
  impression with another), so it supports the position-wise estimators but not slate IPS.
* `synthetic_slate_log` logs whole top-k slates of an `EpsilonGreedy` policy over per-shopper
  scores under a known click model, so the true value of a second `EpsilonGreedy` candidate is
  known exactly and every estimator, slate IPS included, can be checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from ._ope_logs import BanditLogs
from .base import FloatArray
from .epsilon_greedy import EpsilonGreedy

__all__ = [
    "OBD_CAMPAIGNS",
    "ObdLog",
    "SyntheticSlateLog",
    "epsilon_greedy_slate_probability",
    "load_obd",
    "obd_data_dir",
    "synthetic_slate_log",
]

OBD_CAMPAIGNS = ("all", "men", "women")
OBD_INSTALL = "pip install --no-deps --ignore-requires-python obp==0.5.7"


def obd_data_dir() -> Path:
    """``obp/dataset/obd`` of the installed obp, found without importing obp.

    Raises:
        FileNotFoundError: obp is not installed; the message says how to install it.
    """
    try:
        dist = metadata.distribution("obp")
    except metadata.PackageNotFoundError:
        raise FileNotFoundError(f"obp is not installed; run: {OBD_INSTALL}") from None
    return Path(str(dist.locate_file("obp/dataset/obd")))


@dataclass(frozen=True, eq=False, slots=True)
class ObdLog:
    """One Open Bandit Dataset file as logs plus its timestamps.

    Attributes:
        logs: Position-wise logs with `context` (one-hot user features) and `pair_features`
            (user-item affinity, shape (n_rounds, n_actions, 1)); no slates.
        timestamps: Impression time of each row (UTC, numpy datetime64), ascending.
        behavior: ``"random"`` or ``"bts"`` (Bernoulli Thompson sampling).
        campaign: ``"all"``, ``"men"`` or ``"women"``.
    """

    logs: BanditLogs
    timestamps: np.ndarray
    behavior: str
    campaign: str

    def head(self, fraction: float) -> BanditLogs:
        """The first `fraction` of the rows by time (obp's `is_timeseries_split` train part)."""
        return _slice(self.logs, 0, int(self.logs.n_rounds * fraction))

    def tail(self, fraction: float) -> BanditLogs:
        """The rows after the first 1 - `fraction` by time (obp's test part)."""
        return _slice(self.logs, int(self.logs.n_rounds * (1.0 - fraction)), self.logs.n_rounds)


def _slice(logs: BanditLogs, start: int, stop: int) -> BanditLogs:
    rows = slice(start, stop)
    return BanditLogs(
        reward=logs.reward[rows],
        action=logs.action[rows],
        position=logs.position[rows],
        pscore=logs.pscore[rows],
        n_actions=logs.n_actions,
        len_list=logs.len_list,
        context=None if logs.context is None else logs.context[rows],
        pair_features=None if logs.pair_features is None else logs.pair_features[rows],
    )


def load_obd(behavior: str, campaign: str) -> ObdLog:
    """Read one Open Bandit Dataset sample file.

    Args:
        behavior: ``"random"`` or ``"bts"``.
        campaign: ``"all"``, ``"men"`` or ``"women"``.

    Raises:
        ValueError: On an unknown behavior policy or campaign.
        FileNotFoundError: If obp (which ships the CSVs) is not installed.
    """
    import pandas as pd

    if behavior not in ("random", "bts") or campaign not in OBD_CAMPAIGNS:
        raise ValueError(
            f"load_obd: behavior must be 'random' or 'bts' and campaign one of {OBD_CAMPAIGNS}; "
            f"got {behavior!r}, {campaign!r}"
        )
    folder = obd_data_dir() / behavior / campaign
    data = pd.read_csv(folder / f"{campaign}.csv", index_col=0)
    n_actions = len(pd.read_csv(folder / "item_context.csv", index_col=0))
    data = data.sort_values("timestamp", kind="stable")
    user = pd.get_dummies(data.filter(like="user_feature"), drop_first=True).to_numpy(float)
    affinity = data[[f"user-item_affinity_{a}" for a in range(n_actions)]].to_numpy(float)
    positions = np.unique(data["position"].to_numpy())
    logs = BanditLogs(
        reward=data["click"].to_numpy(float),
        action=data["item_id"].to_numpy(),
        position=np.searchsorted(positions, data["position"].to_numpy()),
        pscore=data["propensity_score"].to_numpy(float),
        n_actions=n_actions,
        len_list=positions.size,
        context=user,
        pair_features=affinity[:, :, None],
    )
    stamps = pd.to_datetime(data["timestamp"], utc=True).dt.tz_localize(None).to_numpy()
    return ObdLog(logs=logs, timestamps=stamps, behavior=behavior, campaign=campaign)


def epsilon_greedy_slate_probability(
    scores: FloatArray, slate: tuple[int, ...], epsilon: float
) -> float:
    """Probability that `EpsilonGreedy(epsilon, top=len(scores))` chooses exactly `slate`.

    The product over positions of the conditional choice probabilities: (1 - epsilon) if the
    row is the best one not yet placed, plus epsilon / (rows still free). Scores must be
    distinct (ties go to the lower row in the policy; not modelled here).
    """
    order = np.argsort(-scores, kind="stable")
    rank = np.empty(scores.size, dtype=np.int64)
    rank[order] = np.arange(scores.size)
    placed: set[int] = set()
    prob = 1.0
    for j, row in enumerate(slate):
        best = next(int(r) for r in order if int(r) not in placed)
        prob *= (1.0 - epsilon) * (row == best) + epsilon / (scores.size - j)
        placed.add(row)
    return prob


@dataclass(frozen=True, eq=False, slots=True)
class SyntheticSlateLog:
    """A synthetic top-k slate log with a candidate policy whose true value is known.

    Attributes:
        logs: Position-wise rows of whole slates, with `slate_id`, `slate_pscore` and `context`.
        action_dist: The candidate's per-position marginals, shape (n_rounds, n_actions,
            len_list).
        candidate_slate_pscore: The candidate's probability of each row's logged slate.
        true_value: The candidate's exact expected reward per shown position on these shoppers.
        logging_value: The same for the logging policy.
    """

    logs: BanditLogs
    action_dist: FloatArray
    candidate_slate_pscore: FloatArray
    true_value: float
    logging_value: float


def synthetic_slate_log(
    n_slates: int,
    *,
    n_actions: int = 8,
    len_list: int = 3,
    logging_epsilon: float = 0.5,
    candidate_epsilon: float = 0.2,
    seed: int = 0,
) -> SyntheticSlateLog:
    """Log `n_slates` slates of an epsilon-greedy policy on noisy scores; click model known.

    Each shopper has a context x (3 features); an item's click probability at position p is
    sigmoid(-2 + x . beta_a) * kappa_p with kappa = 1, 0.7, 0.5, ... The logging policy is
    `EpsilonGreedy(logging_epsilon)` over noisy scores, the candidate
    `EpsilonGreedy(candidate_epsilon)` over the true logits (better, and with full support).
    """
    rng = np.random.default_rng(seed)
    d = 3
    beta = rng.normal(0.0, 1.0, size=(n_actions, d))
    kappa = np.array([1.0 / (1.0 + 0.45 * p) for p in range(len_list)])
    x = rng.normal(0.0, 1.0, size=(n_slates, d))
    logits = x @ beta.T - 2.0
    click = (1.0 / (1.0 + np.exp(-logits)))[:, :, None] * kappa[None, None, :]
    noisy = logits + rng.normal(0.0, 1.5, size=logits.shape)
    logging = EpsilonGreedy(epsilon=logging_epsilon, top=n_actions)
    candidate = EpsilonGreedy(epsilon=candidate_epsilon, top=n_actions)
    rows = n_slates * len_list
    action = np.empty(rows, dtype=np.int64)
    pscore = np.empty(rows)
    slate_pscore = np.empty(rows)
    cand_slate = np.empty(rows)
    dist = np.empty((rows, n_actions, len_list))
    truth = np.empty(rows)
    behaviour = np.empty(rows)
    for i in range(n_slates):
        slate = logging.select(noisy[i], len_list, rng)
        cand = candidate.position_probabilities(logits[i], len_list).T  # (n_actions, len_list)
        log_marg = logging.position_probabilities(noisy[i], len_list).T
        block = slice(i * len_list, (i + 1) * len_list)
        action[block] = slate.indices
        pscore[block] = slate.propensities
        slate_pscore[block] = slate.slate_propensity
        cand_slate[block] = epsilon_greedy_slate_probability(
            logits[i], slate.indices, candidate_epsilon
        )
        dist[block] = cand[None, :, :]
        truth[block] = (cand * click[i]).sum(axis=0)
        behaviour[block] = (log_marg * click[i]).sum(axis=0)
    position = np.tile(np.arange(len_list), n_slates)
    slate_id = np.repeat(np.arange(n_slates), len_list)
    clicked = rng.random(rows) < click[slate_id, action, position]
    logs = BanditLogs(
        reward=clicked.astype(float),
        action=action,
        position=position,
        pscore=pscore,
        n_actions=n_actions,
        len_list=len_list,
        context=np.repeat(x, len_list, axis=0),
        slate_id=slate_id,
        slate_pscore=slate_pscore,
    )
    return SyntheticSlateLog(
        logs=logs,
        action_dist=dist,
        candidate_slate_pscore=cand_slate,
        true_value=float(truth.mean()),
        logging_value=float(behaviour.mean()),
    )
