"""The slate policy in the assistant: versioned snapshots in SQL, the updater, OPE and the gate.

Every policy that may serve is a :mod:`policy` object stored as an immutable snapshot
(``policy_snapshots``; :mod:`assistant.store.policies`). The serving one is the snapshot with the
latest ``promoted_at``; with none promoted, the built-in default serves (epsilon-greedy, epsilon
0.1, over the ranker's top 100). Serving workers hold a :class:`PolicyServer`, which re-reads the
serving version at most every few seconds and rebuilds the policy only when it changed, so a
promotion or an update reaches every worker without a restart. Each decision logs the version
that made it.

Contextual policies (LinUCB, linear and logistic Thompson sampling) see one feature row per
candidate, :data:`FEATURES`, computed by :func:`candidate_features` from what a decision logs (the
candidates' ranker scores) and what the catalog holds (kind, list price). So the same rows can be
rebuilt from the SQL logs for the updater and for off-policy evaluation.

* :func:`update_policy` (the one updater) folds the feedback logged since the serving snapshot's
  ``folded_through`` into a new snapshot of the same family and serves it.
* :func:`evaluate_policy` estimates a candidate's value on the logged decisions (IPS, SNIPS, DM,
  DR from :mod:`policy.ope`, 95% bootstrap intervals) against the logged reward of what served,
  and runs the gate (:func:`policy.gate.paired_gate` on per-decision IPS vs logged reward).
* :func:`promote_policy` serves the candidate only when the gate's lower bound is above zero.

Rewards (``--reward``): ``click`` (any positive reaction: click, claim, add to cart, purchase),
``claim``, ``purchase``, or ``margin`` (purchase revenue minus the discount given, in major units
of the shop currency).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from assistant.errors import InputError, PromotionRefused
from assistant.store.models import (
    DecisionRecord,
    FeedbackRecord,
    ImpressionRecord,
    ProductRecord,
    UserRecord,
)
from assistant.store.policies import (
    clear_policy_role,
    get_policy_snapshot,
    list_policy_snapshots,
    policy_roles,
    promote_policy_snapshot,
    record_policy_evaluation,
    save_policy_snapshot,
    serving_policy_snapshot,
    set_policy_role,
)
from policy import ABReadout, Bucketer, EpsilonGreedy, FairnessReport, Greedy, Policy
from policy.gate import GateResult, paired_gate

if TYPE_CHECKING:
    from assistant.app import Shop
    from assistant.conversation.ranking import Candidate

__all__ = [
    "DEFAULT_POLICY",
    "FAMILIES",
    "FEATURES",
    "REWARDS",
    "Evaluation",
    "LoggedRounds",
    "PolicyServer",
    "candidate_features",
    "create_policy",
    "fairness_from_logs",
    "evaluate_policy",
    "load_rounds",
    "logged_version",
    "policy_from_snapshot",
    "policy_snapshot",
    "promote_policy",
    "serving_policy",
    "train_policy",
    "ab_readout_now",
    "set_shadow",
    "start_ab",
    "stop_ab",
    "update_policy",
]

logger = logging.getLogger(__name__)

SLATE_SIZE = 3
TOP = 100
DEFAULT_POLICY = EpsilonGreedy(epsilon=0.1, top=TOP)
FAMILIES = ("epsilon_greedy", "greedy", "linucb", "linear_thompson", "logistic_thompson")
REWARDS = ("click", "claim", "purchase", "margin")
FEATURES = ("bias", "score_minmax", "score_reciprocal_rank", "is_activity", "log_price_ratio")
"""Per-candidate features of the contextual policies, in column order:

* ``bias``: 1;
* ``score_minmax``: the ranker's score scaled to [0, 1] within the decision;
* ``score_reciprocal_rank``: 1 / (1 + rank by score), rank 0 the best;
* ``is_activity``: 1 for an activity card, 0 for a product;
* ``log_price_ratio``: log(price / median price of the decision's priced products), clipped to
  [-3, 3]; 0 for activities and unpriced products.
"""
_POSITIVE = {"click", "claim", "add_to_cart", "purchase"}


def candidate_features(
    scores: NDArray[np.float64], is_activity: Sequence[bool], prices: Sequence[int | None]
) -> NDArray[np.float64]:
    """The :data:`FEATURES` rows of one decision's candidates, shape (n_candidates, 5).

    Args:
        scores: The ranker's scores, shape (n_candidates,).
        is_activity: Whether each candidate is an activity card.
        prices: Each candidate's list price in minor units (None: unpriced or an activity).
    """
    s = np.asarray(scores, dtype=np.float64)
    n = s.size
    out = np.zeros((n, len(FEATURES)))
    out[:, 0] = 1.0
    if n == 0:
        return out
    span = float(s.max() - s.min())
    out[:, 1] = (s - s.min()) / span if span > 0 else 1.0
    order = np.argsort(-s, kind="stable")
    ranks = np.empty(n)
    ranks[order] = np.arange(n)
    out[:, 2] = 1.0 / (1.0 + ranks)
    out[:, 3] = np.asarray(is_activity, dtype=np.float64)
    priced = np.array([float(p) if p else np.nan for p in prices])
    ok = np.isfinite(priced) & (out[:, 3] == 0)
    if ok.any():
        median = float(np.median(priced[ok]))
        out[ok, 4] = np.clip(np.log(priced[ok] / median), -3.0, 3.0)
    return out


def features_for(
    candidates: Sequence[Candidate], scores: NDArray[np.float64]
) -> NDArray[np.float64]:
    """:func:`candidate_features` for the pipeline's candidates."""
    return candidate_features(
        scores, [c.kind == "activity" for c in candidates], [c.price for c in candidates]
    )


# --- snapshots -------------------------------------------------------------------------------


def policy_snapshot(policy: Policy) -> dict[str, Any]:
    """A JSON-safe snapshot of any serving policy (``family`` names how to rebuild it)."""
    if isinstance(policy, EpsilonGreedy):
        return {"family": "epsilon_greedy", "epsilon": policy.epsilon, "top": policy.top}
    if isinstance(policy, Greedy):
        return {"family": "greedy", "top": policy.top}
    to_snapshot = getattr(policy, "to_snapshot", None)
    if to_snapshot is None:
        raise InputError(f"policy {policy.name!r} cannot be stored: it has no snapshot")
    return {"family": policy.name, **to_snapshot()}


def policy_from_snapshot(snapshot: dict[str, Any]) -> Policy:
    """Rebuild a policy :func:`policy_snapshot` wrote.

    Raises:
        InputError: Unknown family or a snapshot that fails the policy's own checks.
    """
    family = snapshot.get("family")
    try:
        if family == "epsilon_greedy":
            return EpsilonGreedy(epsilon=float(snapshot["epsilon"]), top=int(snapshot["top"]))
        if family == "greedy":
            return Greedy(top=int(snapshot["top"]))
        if family in ("linucb", "linear_thompson", "logistic_thompson"):
            from policy.linear import policy_from_snapshot as linear_from_snapshot

            body = {k: v for k, v in snapshot.items() if k != "family"}
            return linear_from_snapshot(body)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"the stored {family} policy snapshot is unusable: {exc}") from exc
    raise InputError(f"unknown policy family {family!r}; expected one of {', '.join(FAMILIES)}")


def logged_version(policy: Policy) -> str:
    """The version decisions log and snapshots are stored under: ``family:version``."""
    version = policy.version
    return version if version.startswith(policy.name) else f"{policy.name}:{version}"


def create_policy(shop: Shop, family: str, **params: Any) -> str:
    """Store a fresh (untrained) policy of ``family``; returns its version. Not promoted.

    Args:
        shop: The shop.
        family: One of :data:`FAMILIES`.
        **params: The family's hyper-parameters (``epsilon``, ``alpha``, ``top``...).

    Raises:
        InputError: Unknown family or parameters.
    """
    try:
        if family == "epsilon_greedy":
            policy: Policy = EpsilonGreedy(**params)
        elif family == "greedy":
            policy = Greedy(**params)
        elif family == "linucb":
            from policy.linear import LinUCB

            policy = LinUCB(len(FEATURES), **params)
        elif family == "linear_thompson":
            from policy.linear import LinearThompson

            policy = LinearThompson(len(FEATURES), **params)
        elif family == "logistic_thompson":
            from policy.linear import LogisticThompson

            policy = LogisticThompson(len(FEATURES), **params)
        else:
            raise InputError(
                f"unknown policy family {family!r}; expected one of {', '.join(FAMILIES)}"
            )
    except (TypeError, ValueError) as exc:
        raise InputError(f"bad parameters for {family}: {exc}") from exc
    version = logged_version(policy)
    with shop.sessions.begin() as session:
        save_policy_snapshot(session, family, policy_snapshot(policy), version=version, now=_now())
    logger.info("policy %s stored", version)
    return version


def serving_policy(shop: Shop) -> tuple[str, Policy]:
    """The serving policy's stored version and the policy (the default when none is promoted)."""
    with shop.sessions() as session:
        record = serving_policy_snapshot(session)
        if record is None:
            return logged_version(DEFAULT_POLICY), DEFAULT_POLICY
        return record.version, policy_from_snapshot(record.snapshot)


class PolicyServer:
    """Hands the pipeline its policies, reloading by version when SQL says they changed.

    Besides the serving policy it knows the two roles a stored policy can play
    (``policy_roles``): the **shadow** policy, whose choice for every decision is computed and
    logged but never shown, and the **A/B** candidate, which serves ``share`` of the users,
    bucketed by a salted hash of the user id so each user always sees the same arm
    (:class:`policy.Bucketer`).

    Args:
        shop: The shop whose SQL holds the snapshots.
        reload_s: Least seconds between two reads of the versions.
        fixed: Serve this policy and never read SQL (tests).
    """

    def __init__(self, shop: Shop, *, reload_s: float = 5.0, fixed: Policy | None = None) -> None:
        self.shop = shop
        self.reload_s = reload_s
        self._fixed = fixed
        self._lock = threading.Lock()
        self._checked = -float("inf")
        self._versions: tuple[str, str, str, float, str] = ("", "", "", 0.0, "")
        self._policy: Policy = fixed or DEFAULT_POLICY
        self._shadow: Policy | None = None
        self._candidate: Policy | None = None
        self._bucketer: Bucketer | None = None

    def _refresh(self) -> None:
        now = time.monotonic()
        if self._fixed is not None or now - self._checked < self.reload_s:
            return
        with self._lock:
            if now - self._checked < self.reload_s:
                return
            self._checked = now
            try:
                with self.shop.sessions() as session:
                    record = serving_policy_snapshot(session)
                    roles = policy_roles(session)
                    shadow, ab = roles.get("shadow"), roles.get("ab")
                    versions = (
                        record.version if record is not None else "",
                        shadow.version if shadow is not None else "",
                        ab.version if ab is not None else "",
                        ab.share if ab is not None else 0.0,
                        ab.salt if ab is not None else "",
                    )
                    if versions == self._versions:
                        return
                    snapshots = {
                        v: get_policy_snapshot(session, v).snapshot for v in versions[:3] if v
                    }
                self._policy = (
                    policy_from_snapshot(snapshots[versions[0]]) if versions[0] else DEFAULT_POLICY
                )
                self._shadow = policy_from_snapshot(snapshots[versions[1]]) if versions[1] else None
                self._candidate = (
                    policy_from_snapshot(snapshots[versions[2]]) if versions[2] else None
                )
                self._bucketer = (
                    Bucketer({"serving": 1.0 - versions[3], "candidate": versions[3]}, versions[4])
                    if versions[2]
                    else None
                )
                self._versions = versions
                logger.info(
                    "serving policy %s (shadow %s, A/B candidate %s at %.0f%%)",
                    versions[0] or logged_version(DEFAULT_POLICY),
                    versions[1] or "none",
                    versions[2] or "none",
                    100 * versions[3],
                )
            except (InputError, SQLAlchemyError) as exc:  # never stop the shop: keep serving
                logger.warning(
                    "policy snapshots unreadable, keeping %s: %s",
                    self._versions[0] or logged_version(self._policy),
                    exc,
                )

    def current(self) -> Policy:
        """The serving policy (re-read from SQL at most every ``reload_s`` seconds)."""
        if self._fixed is not None:
            return self._fixed
        self._refresh()
        return self._policy

    def for_user(self, user_id: str) -> tuple[Policy, str | None]:
        """The policy that serves ``user_id`` and its A/B arm (None: no experiment runs)."""
        if self._fixed is not None:
            return self._fixed, None
        self._refresh()
        bucketer, candidate = self._bucketer, self._candidate
        if bucketer is None or candidate is None:
            return self._policy, None
        arm = bucketer.assign(user_id)
        return (candidate if arm == "candidate" else self._policy), arm

    @property
    def ab_salt(self) -> str:
        """The running A/B test's salt ("" when none runs)."""
        return self._versions[4]

    def shadow(self) -> Policy | None:
        """The shadow policy, if one is set."""
        if self._fixed is not None:
            return None
        self._refresh()
        return self._shadow


# --- logged rounds ----------------------------------------------------------------------------


@dataclass
class LoggedRounds:
    """Logged decisions as arrays, one row per shown position (obp's position-wise layout).

    Attributes:
        decision_ids: Each decision's id, in time order.
        scores: Per decision, the logged candidates' ranker scores, shape (n_candidates_d,).
        features: Per decision, :data:`FEATURES` rows, shape (n_candidates_d, 5).
        row_decision: Decision index of each shown row, shape (n_rows,).
        row_action: The shown candidate's index in its decision, shape (n_rows,).
        row_position: Slate position, shape (n_rows,).
        row_pscore: Logged marginal propensity of that candidate at that position.
        row_reward: The reward observed, shape (n_rows,).
        last_at: Time of the newest decision included.
        policy_versions: The policy version of each decision.
    """

    decision_ids: list[str] = field(default_factory=list)
    scores: list[NDArray[np.float64]] = field(default_factory=list)
    features: list[NDArray[np.float64]] = field(default_factory=list)
    row_decision: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    row_action: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    row_position: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    row_pscore: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    row_reward: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    last_at: datetime | None = None
    policy_versions: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.decision_ids)


def _reward(kind: str, types: set[str], value: int, list_total: int) -> float:
    if kind == "click":
        return float(bool(types & _POSITIVE))
    if kind == "claim":
        return float("claim" in types)
    if kind == "purchase":
        return float("purchase" in types)
    if "purchase" not in types:
        return 0.0
    discount = max(list_total - value, 0)
    return (value - discount) / 100.0


def load_rounds(
    shop: Shop,
    *,
    reward: str = "click",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> LoggedRounds:
    """Read the logged decisions (newest ``limit`` if set) with their shown rows and rewards.

    Rows whose shown item is not among the decision's logged candidates (re-shown items) or
    whose propensity is not in (0, 1] are skipped: they cannot be importance-weighted.

    Raises:
        InputError: Unknown reward.
    """
    if reward not in REWARDS:
        raise InputError(f"unknown reward {reward!r}; expected one of {', '.join(REWARDS)}")
    with shop.sessions() as session:
        query = select(
            DecisionRecord.id,
            DecisionRecord.created_at,
            DecisionRecord.candidate_ids,
            DecisionRecord.scores,
            DecisionRecord.policy_version,
        )
        if since is not None:
            query = query.where(DecisionRecord.created_at > since)
        if until is not None:
            query = query.where(DecisionRecord.created_at <= until)
        if limit is not None:
            query = query.order_by(DecisionRecord.created_at.desc()).limit(limit)
        decisions = sorted(session.execute(query).all(), key=lambda d: (d.created_at, d.id))
        ids = [d.id for d in decisions]
        shown: dict[str, list[tuple[str, int, str, float]]] = defaultdict(list)
        for chunk in range(0, len(ids), 500):
            for imp in session.execute(
                select(
                    ImpressionRecord.id,
                    ImpressionRecord.decision_id,
                    ImpressionRecord.position,
                    ImpressionRecord.item_id,
                    ImpressionRecord.propensity,
                ).where(ImpressionRecord.decision_id.in_(ids[chunk : chunk + 500]))
            ):
                shown[imp.decision_id].append((imp.id, imp.position, imp.item_id, imp.propensity))
        events: dict[str, set[str]] = defaultdict(set)
        values: dict[str, int] = defaultdict(int)
        quantities: dict[str, int] = defaultdict(int)
        imp_ids = [i[0] for rows in shown.values() for i in rows]
        for chunk in range(0, len(imp_ids), 500):
            for fb in session.execute(
                select(
                    FeedbackRecord.impression_id,
                    FeedbackRecord.type,
                    FeedbackRecord.value,
                    FeedbackRecord.quantity,
                ).where(FeedbackRecord.impression_id.in_(imp_ids[chunk : chunk + 500]))
            ):
                events[fb.impression_id].add(fb.type)
                if fb.type == "purchase":
                    values[fb.impression_id] += int(fb.value or 0)
                    quantities[fb.impression_id] += int(fb.quantity or 1)
        prices = {
            r.id: r.price for r in session.execute(select(ProductRecord.id, ProductRecord.price))
        }
    out = LoggedRounds()
    rows_d: list[int] = []
    rows_a: list[int] = []
    rows_p: list[int] = []
    rows_ps: list[float] = []
    rows_r: list[float] = []
    for d in decisions:
        candidates = list(d.candidate_ids or [])
        scores = np.asarray(d.scores or [], dtype=np.float64)
        if not candidates or scores.size != len(candidates) or not np.isfinite(scores).all():
            continue
        index = {c: i for i, c in enumerate(candidates)}
        kept = [
            (imp_id, pos, index[item], p)
            for imp_id, pos, item, p in shown.get(d.id, [])
            if item in index and 0.0 < p <= 1.0 and 0 <= pos < SLATE_SIZE
        ]
        if not kept:
            continue
        n = len(out.decision_ids)
        out.decision_ids.append(d.id)
        out.policy_versions.append(d.policy_version)
        out.scores.append(scores)
        out.features.append(
            candidate_features(
                scores, [c not in prices for c in candidates], [prices.get(c) for c in candidates]
            )
        )
        out.last_at = d.created_at
        for imp_id, pos, action, p in kept:
            item_price = prices.get(candidates[action]) or 0
            list_total = item_price * max(quantities.get(imp_id, 1), 1)
            rows_d.append(n)
            rows_a.append(action)
            rows_p.append(pos)
            rows_ps.append(float(p))
            rows_r.append(
                _reward(reward, events.get(imp_id, set()), values.get(imp_id, 0), list_total)
            )
    out.row_decision = np.asarray(rows_d, dtype=np.int64)
    out.row_action = np.asarray(rows_a, dtype=np.int64)
    out.row_position = np.asarray(rows_p, dtype=np.int64)
    out.row_pscore = np.asarray(rows_ps, dtype=np.float64)
    out.row_reward = np.asarray(rows_r, dtype=np.float64)
    return out


# --- the updater ----------------------------------------------------------------------------


def _fold(
    shop: Shop,
    version: str,
    *,
    reward: str,
    since: datetime | None,
    until: datetime,
    promote: bool,
) -> str:
    with shop.sessions() as session:
        record = get_policy_snapshot(session, version)
        family, n_before = record.family, record.n_folded
        policy = policy_from_snapshot(record.snapshot)
    fold = getattr(policy, "fold", None)
    if fold is None:
        raise InputError(f"policy {version} ({family}) does not learn from feedback")
    rounds = load_rounds(shop, reward=reward, since=since, until=until)
    if not len(rounds):
        logger.info("policy %s: no new feedback to fold", version)
        return version
    x = np.stack(
        [rounds.features[d][a] for d, a in zip(rounds.row_decision, rounds.row_action, strict=True)]
    )
    learned = fold(x, rounds.row_position, rounds.row_reward)
    new_version = logged_version(learned)
    with shop.sessions.begin() as session:
        save_policy_snapshot(
            session,
            family,
            policy_snapshot(learned),
            version=new_version,
            now=until,
            parent_version=version,
            folded_through=rounds.last_at,
            n_folded=n_before + int(rounds.row_reward.size),
        )
        if promote:
            promote_policy_snapshot(session, new_version, now=until)
    logger.info(
        "policy %s -> %s: folded %d shown rows of %d decisions (reward %s)%s",
        version,
        new_version,
        rounds.row_reward.size,
        len(rounds),
        reward,
        ", serving" if promote else "",
    )
    return new_version


def update_policy(shop: Shop, *, reward: str = "click", now: datetime | None = None) -> str:
    """The one updater: fold the feedback logged since the serving snapshot into a new
    snapshot of the same family and serve it (workers reload it by version).

    Only learning policies (LinUCB, linear Thompson sampling) have anything to fold.

    Returns:
        The new serving version (the old one when there was nothing new to fold).

    Raises:
        InputError: Nothing promoted yet, or the serving policy does not learn.
    """
    with shop.sessions() as session:
        record = serving_policy_snapshot(session)
        if record is None:
            raise InputError(
                "no policy is promoted yet: `shopassist policy create linucb`, "
                "`shopassist policy train VERSION`, then `shopassist policy promote VERSION`"
            )
        version, through = record.version, record.folded_through
    return _fold(shop, version, reward=reward, since=through, until=now or _now(), promote=True)


def train_policy(
    shop: Shop,
    version: str,
    *,
    reward: str = "click",
    until: datetime | None = None,
) -> str:
    """Fold every logged decision into a copy of ``version`` (offline learning); not served.

    The result is a candidate for :func:`evaluate_policy` and :func:`promote_policy`. Evaluating
    it on the decisions it learned from flatters it: train ``until`` a moment and evaluate
    ``since`` it for an honest estimate.

    Args:
        until: Fold only decisions made up to this moment (default: now).

    Returns:
        The trained version.

    Raises:
        InputError: Unknown version, or a family that does not learn.
    """
    return _fold(shop, version, reward=reward, since=None, until=until or _now(), promote=False)


# --- off-policy evaluation and the gate -------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """A candidate judged off-policy against what served on the same logged decisions.

    Attributes:
        candidate: The candidate's version.
        serving: The serving version.
        reward: The reward used.
        n_decisions: Logged decisions used.
        n_rows: Shown positions used.
        estimates: ``[{"name", "value", "low", "high"}]`` for IPS, SNIPS, DM, DR.
        logged: The logged mean reward per shown position (what served earned).
        gate: The paired gate on per-decision IPS vs logged reward.
    """

    candidate: str
    serving: str
    reward: str
    n_decisions: int
    n_rows: int
    estimates: list[dict[str, float | str]]
    logged: float
    gate: GateResult

    def to_json(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "serving": self.serving,
            "reward": self.reward,
            "n_decisions": self.n_decisions,
            "n_rows": self.n_rows,
            "estimates": self.estimates,
            "logged": self.logged,
            "gate": self.gate.to_json(),
        }


def _position_probabilities(
    policy: Policy, scores: NDArray[np.float64], features: NDArray[np.float64], k: int
) -> NDArray[np.float64]:
    probs = getattr(policy, "position_probabilities", None)
    if probs is None:
        raise InputError(f"policy {policy.name!r} cannot give position probabilities for OPE")
    if hasattr(policy, "n_features"):
        out: NDArray[np.float64] = probs(scores, k, features=features, allow_short=True)
    else:
        out = probs(scores, k)
    return out


def evaluate_policy(
    shop: Shop,
    candidate: str,
    *,
    reward: str = "click",
    n_bootstrap: int = 1000,
    seed: int = 0,
    limit: int | None = 20_000,
    since: datetime | None = None,
    record: bool = True,
    progress: bool = False,
) -> Evaluation:
    """Estimate ``candidate``'s value on the logs and run the gate against what served.

    Args:
        shop: The shop.
        candidate: A stored policy version.
        reward: One of :data:`REWARDS`.
        n_bootstrap: Bootstrap resamples (1,000 by default).
        seed: Seeds the bootstrap and the reward model's folds.
        limit: Use the newest ``limit`` decisions (None: all).
        since: Use only decisions made after this moment.
        record: Keep the evaluation in ``policy_evaluations``.
        progress: Show a progress bar over decisions.

    Raises:
        InputError: Unknown candidate, or no usable logged decisions.
    """
    from policy.ope import BanditLogs, evaluate

    with shop.sessions() as session:
        cand_record = get_policy_snapshot(session, candidate)
        policy = policy_from_snapshot(cand_record.snapshot)
        serving = serving_policy_snapshot(session)
        serving_version = serving.version if serving else logged_version(DEFAULT_POLICY)
    rounds = load_rounds(shop, reward=reward, limit=limit, since=since)
    if len(rounds) < 2:
        raise InputError(
            f"only {len(rounds)} logged decisions with propensities: nothing to evaluate on; "
            "serve some turns (or `shopassist data demo`) first"
        )
    n_actions = max(s.size for s in rounds.scores)
    len_list = int(rounds.row_position.max()) + 1
    n_rows = rounds.row_reward.size
    dist = np.zeros((n_rows, n_actions, len_list))
    pair = np.zeros((n_rows, n_actions, len(FEATURES)))
    per_decision: dict[int, NDArray[np.float64]] = {}
    iterator: Any = range(len(rounds))
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc="candidate probabilities", unit="decision")
    for d in iterator:
        per_decision[d] = _position_probabilities(
            policy, rounds.scores[d], rounds.features[d], len_list
        )
    for row in range(n_rows):
        d = int(rounds.row_decision[row])
        probs = per_decision[d]
        m = probs.shape[1]
        dist[row, :m, : probs.shape[0]] = probs.T
        # a slate shorter than len_list: the missing positions keep the logged action only
        for pos in range(probs.shape[0], len_list):
            dist[row, int(rounds.row_action[row]), pos] = 1.0
        pair[row, :m] = rounds.features[d]
    logs = BanditLogs(
        reward=rounds.row_reward,
        action=rounds.row_action,
        position=rounds.row_position,
        pscore=rounds.row_pscore,
        n_actions=n_actions,
        len_list=len_list,
        pair_features=pair,
        slate_id=rounds.row_decision,
    )
    # DM and DR need the logistic reward model, which only fits 0/1 rewards.
    binary = bool(np.isin(rounds.row_reward, (0.0, 1.0)).all())
    names = ["IPS", "SNIPS", "DM", "DR"] if binary else ["IPS", "SNIPS"]
    estimates = evaluate(logs, dist, estimators=names, n_bootstrap=n_bootstrap, seed=seed)
    rows = np.arange(n_rows)
    weight = dist[rows, rounds.row_action, rounds.row_position] / rounds.row_pscore
    n_dec = len(rounds)
    ips_sum = np.bincount(rounds.row_decision, weights=rounds.row_reward * weight, minlength=n_dec)
    logged_sum = np.bincount(rounds.row_decision, weights=rounds.row_reward, minlength=n_dec)
    shown = np.bincount(rounds.row_decision, minlength=n_dec).astype(np.float64)
    gate = paired_gate(ips_sum / shown, logged_sum / shown, n_bootstrap=n_bootstrap, seed=seed)
    result = Evaluation(
        candidate=candidate,
        serving=serving_version,
        reward=reward,
        n_decisions=n_dec,
        n_rows=n_rows,
        estimates=[
            {"name": e.name, "value": e.value, "low": e.low, "high": e.high} for e in estimates
        ],
        logged=float(rounds.row_reward.mean()),
        gate=gate,
    )
    if record:
        with shop.sessions.begin() as session:
            record_policy_evaluation(
                session,
                candidate_version=candidate,
                serving_version=serving_version,
                n_decisions=n_dec,
                reward=reward,
                report=result.to_json(),
                promoted=False,
                now=_now(),
            )
    logger.info("policy %s evaluated: %s", candidate, gate.describe(f"{reward} per position"))
    return result


def promote_policy(
    shop: Shop,
    candidate: str,
    *,
    reward: str = "click",
    n_bootstrap: int = 1000,
    seed: int = 0,
    force: bool = False,
) -> Evaluation:
    """Serve ``candidate`` only if the gate's lower bound beats the serving policy.

    Args:
        force: Skip the gate (an operator's override; logged as such).

    Raises:
        InputError: Unknown candidate, or it already serves.
        PromotionRefused: The gate refuses (the message holds both values and the interval).
    """
    with shop.sessions() as session:
        get_policy_snapshot(session, candidate)
        serving = serving_policy_snapshot(session)
        if serving is not None and serving.version == candidate:
            raise InputError(f"policy {candidate} already serves")
    result = evaluate_policy(
        shop, candidate, reward=reward, n_bootstrap=n_bootstrap, seed=seed, record=False
    )
    promoted = force or result.gate.promote
    with shop.sessions.begin() as session:
        record_policy_evaluation(
            session,
            candidate_version=candidate,
            serving_version=result.serving,
            n_decisions=result.n_decisions,
            reward=reward,
            report={**result.to_json(), "forced": force and not result.gate.promote},
            promoted=promoted,
            now=_now(),
        )
        if promoted:
            promote_policy_snapshot(session, candidate, now=_now())
    if not promoted:
        raise PromotionRefused(
            f"refused: {result.gate.describe(f'{reward} per position')}; the candidate must beat "
            f"{result.serving} with the interval's lower end above zero",
            result.to_json(),
        )
    logger.info("policy %s promoted%s", candidate, " (forced past the gate)" if force else "")
    return result


def set_shadow(shop: Shop, version: str | None) -> None:
    """Make ``version`` the shadow policy (None: stop shadowing). Every decision then logs what
    it would have chosen (``context.shadow``), never shown to the shopper."""
    with shop.sessions.begin() as session:
        if version is None:
            clear_policy_role(session, "shadow")
        else:
            set_policy_role(session, "shadow", version, now=_now())
    logger.info("shadow policy: %s", version or "none")


def start_ab(shop: Shop, version: str, *, share: float = 0.5, salt: str | None = None) -> str:
    """Serve ``version`` to ``share`` of users (sticky by user) beside the serving policy.

    Returns:
        The experiment's salt (a fresh one unless given), which names it in the logs.

    Raises:
        InputError: Unknown version, a share outside (0, 1), or the version already serves.
    """
    if not 0.0 < share < 1.0:
        raise InputError(f"the A/B share must lie strictly between 0 and 1; got {share}")
    salt = salt or f"ab-{_now():%Y%m%d%H%M%S}"
    with shop.sessions.begin() as session:
        serving = serving_policy_snapshot(session)
        if serving is not None and serving.version == version:
            raise InputError(f"policy {version} already serves everyone: nothing to compare")
        set_policy_role(session, "ab", version, share=share, salt=salt, now=_now())
    logger.info("A/B test %s: %s to %.0f%% of users", salt, version, 100 * share)
    return salt


def stop_ab(shop: Shop) -> bool:
    """End the A/B test (every user gets the serving policy again)."""
    with shop.sessions.begin() as session:
        return clear_policy_role(session, "ab")


def ab_readout_now(shop: Shop, *, confidence: float = 0.95) -> ABReadout:
    """Read the running A/B test out: per arm, the share of users with a positive reaction
    (click, claim, add to cart, purchase), with intervals, the difference and a verdict.

    Users, not impressions, are the units: one user's impressions are not independent.

    Raises:
        InputError: No A/B test runs, or an arm has no users yet.
    """
    from policy import ArmCounts, ab_readout

    with shop.sessions() as session:
        role = policy_roles(session).get("ab")
        if role is None:
            raise InputError("no A/B test runs: `shopassist policy ab start VERSION`")
        users: dict[str, dict[str, bool]] = {"serving": {}, "candidate": {}}
        rows = session.execute(
            select(DecisionRecord.user_id, DecisionRecord.context, ImpressionRecord.id)
            .join(ImpressionRecord, ImpressionRecord.decision_id == DecisionRecord.id)
            .where(DecisionRecord.created_at >= role.started_at)
        ).all()
        reacted = {
            imp
            for imp, kind in session.execute(
                select(FeedbackRecord.impression_id, FeedbackRecord.type).where(
                    FeedbackRecord.created_at >= role.started_at
                )
            )
            if kind in _POSITIVE
        }
    for user_id, context, impression in rows:
        ab = (context or {}).get("ab") or {}
        if ab.get("salt") != role.salt or ab.get("arm") not in users:
            continue
        seen = users[ab["arm"]]
        seen[user_id] = seen.get(user_id, False) or impression in reacted
    empty = [arm for arm, seen in users.items() if not seen]
    if empty:
        raise InputError(f"the A/B test {role.salt} has no users in {', '.join(empty)} yet")
    arms = [ArmCounts(arm, sum(seen.values()), len(seen)) for arm, seen in users.items()]
    return ab_readout(arms, control="serving", confidence=confidence)


def fairness_from_logs(shop: Shop, *, since: datetime | None = None) -> FairnessReport:
    """Exposure and final-price spread across user segments over the logged impressions.

    Segments: ``member``, ``new`` (new, non-member users) and ``regular``. Final prices come from
    each decision's ``context.final_prices`` (what the shopper was shown); impressions logged
    without them count for exposure with no price.

    Raises:
        InputError: No impressions were logged in the window.
    """
    from policy import fairness_report

    with shop.sessions() as session:
        query = (
            select(
                ImpressionRecord.item_id,
                ImpressionRecord.position,
                ImpressionRecord.activity_ids,
                DecisionRecord.context,
                DecisionRecord.chosen_ids,
                UserRecord.member,
                UserRecord.new_user,
            )
            .join(DecisionRecord, DecisionRecord.id == ImpressionRecord.decision_id)
            .join(UserRecord, UserRecord.id == DecisionRecord.user_id)
        )
        if since is not None:
            query = query.where(ImpressionRecord.created_at >= since)
        rows = session.execute(query).all()
    if not rows:
        raise InputError("no impressions were logged in that window: nothing to report")
    segments, items, positions, prices, deals = [], [], [], [], []
    for item, position, activity_ids, context, chosen, member, new_user in rows:
        segments.append("member" if member else "new" if new_user else "regular")
        items.append(item)
        positions.append(int(position))
        shown = (context or {}).get("final_prices") or []
        price = shown[position] if position < len(shown) and len(shown) == len(chosen) else None
        prices.append(int(price) if isinstance(price, int) and price >= 0 else None)
        deals.append(bool(activity_ids))
    return fairness_report(segments, items, positions, prices, on_deal=deals)


def list_policies(shop: Shop) -> list[dict[str, Any]]:
    """Stored snapshots, newest first, with which one serves."""
    with shop.sessions() as session:
        serving = serving_policy_snapshot(session)
        return [
            {
                "version": r.version,
                "family": r.family,
                "created_at": r.created_at.isoformat(),
                "parent": r.parent_version,
                "n_folded": r.n_folded,
                "serving": serving is not None and r.version == serving.version,
            }
            for r in list_policy_snapshots(session)
        ]


def _now() -> datetime:
    return datetime.now(UTC)
