"""The trained ranker in the assistant: training from the SQL logs, the promotion gate, serving.

Artifacts live under ``<var>/rankers/<version>/`` (:mod:`ranking.artifact`); the one that serves
is named by ``<var>/rankers/promoted.json``, written only by :func:`promote_ranker`, which runs
the gate: on the held-out test split of the current logs, the candidate's NDCG@10 must beat the
serving ranker's (the promoted artifact, or the documented heuristic when none is promoted) with
the 95% paired-bootstrap interval of the difference above zero (:func:`policy.gate.paired_gate`,
the gate the slate policy's promote uses too).

:class:`NeuralRanker` adapts an artifact to the turn pipeline's :class:`Ranker` seam: it builds
the ranking features from the candidates and the shopper's profile, scores calibrated click
probabilities, and keeps the pipeline's explicit sort requests (cheapest first, ...) on top.
Activity cards (coupon-only turns) and unpriced products are scored by the heuristic: the
ranker was trained on products.

Example:
    >>> info = train_ranker_from_logs(shop, seed=0)  # doctest: +SKIP
    >>> promote_ranker(shop, info.version).promoted  # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select

from assistant.conversation.ranking import (
    Candidate,
    HeuristicRanker,
    Ranker,
    RankingContext,
    sort_adjustment,
)
from assistant.errors import InputError
from assistant.schedule import aware
from assistant.store.models import (
    FeedbackRecord,
    ImpressionRecord,
    ProductRecord,
)
from policy.gate import paired_gate

if TYPE_CHECKING:
    from assistant.app import Shop
    from ranking import Artifact
    from ranking.snapshot import Snapshot
    from ranking.tasks import Split

__all__ = [
    "GateReport",
    "NeuralRanker",
    "RankerInfo",
    "artifact_problem",
    "heuristic_split_scores",
    "list_rankers",
    "load_serving_ranker",
    "promote_ranker",
    "promoted_ranker",
    "train_ranker_from_logs",
]

logger = logging.getLogger(__name__)

PROMOTED_FILE = "promoted.json"
POPULARITY_DAYS = 30
"""Serving popularity counts positive reactions over this many days; training and the gate
count the same days before each request (``build_task(popularity_days=)``)."""
POPULARITY_REFRESH_S = 3600.0
_POSITIVE = ("click", "claim", "add_to_cart", "purchase")
UNKNOWN_AGE_DAYS = 365.0
"""The age of a product with no known listing time (as in training, ``ranking.tasks``)."""


@dataclass(frozen=True)
class RankerInfo:
    """A trained ranker artifact on disk.

    Attributes:
        version: Its version (the directory name), logged with every decision it ranks.
        path: The artifact directory.
        metrics: Held-out test metrics recorded at training time.
        created_at: When it was trained (ISO 8601 UTC).
    """

    version: str
    path: Path
    metrics: dict[str, float]
    created_at: str


@dataclass(frozen=True)
class GateReport:
    """The outcome of the promotion gate.

    Attributes:
        candidate: The candidate's version.
        serving: The serving ranker's version (``heuristic-1`` when none is promoted).
        candidate_ndcg: The candidate's NDCG@10 on the test split.
        serving_ndcg: The serving ranker's NDCG@10 on the same groups.
        diff_low: Lower end of the 95% paired-bootstrap interval of the difference.
        diff_high: Upper end.
        groups: Test groups compared.
        promoted: The candidate now serves.
        reason: One line saying why.
    """

    candidate: str
    serving: str
    candidate_ndcg: float
    serving_ndcg: float
    diff_low: float
    diff_high: float
    groups: int
    promoted: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def rankers_dir(shop: Shop) -> Path:
    """``<var>/rankers``."""
    return Path(shop.settings.var_dir) / "rankers"


def _info(path: Path, *, warn: bool = True) -> RankerInfo | None:
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        return None
    try:
        manifest = json.loads(manifest_path.read_text())
        return RankerInfo(
            version=path.name,
            path=path,
            metrics={k: float(v) for k, v in manifest.get("metrics", {}).items()},
            created_at=str(manifest.get("created_at", "")),
        )
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        if warn:
            logger.warning("ranker artifact %s has an unreadable manifest (%s): skipped", path, exc)
        return None


def list_rankers(shop: Shop) -> list[RankerInfo]:
    """Every trained ranker artifact, oldest first."""
    root = rankers_dir(shop)
    if not root.is_dir():
        return []
    infos = [info for p in sorted(root.iterdir()) if p.is_dir() and (info := _info(p))]
    return sorted(infos, key=lambda i: (i.created_at, i.version))


def promoted_ranker(shop: Shop) -> RankerInfo | None:
    """The promoted ranker, or ``None`` (the heuristic serves)."""
    pointer = rankers_dir(shop) / PROMOTED_FILE
    if not pointer.is_file():
        return None
    try:
        version = json.loads(pointer.read_text()).get("version")
    except (OSError, ValueError, AttributeError) as exc:
        logger.warning("%s is unreadable (%s): the heuristic serves", pointer, exc)
        return None
    info = _info(rankers_dir(shop) / str(version), warn=False) if version else None
    if info is None:
        logger.warning(
            "promoted ranker %r is missing or unreadable on disk: the heuristic serves", version
        )
    return info


# --- serving ---------------------------------------------------------------------------------


class NeuralRanker:
    """A trained :mod:`ranking` artifact behind the pipeline's :class:`Ranker` seam.

    Args:
        artifact: The loaded artifact.
        version: Its version.
        popularity: Positive reactions per product over the last :data:`POPULARITY_DAYS`.
        listed_at: When each product was listed (for freshness).
        refresh: Re-reads popularity from SQL when it is older than
            :data:`POPULARITY_REFRESH_S` (``None``: never).
    """

    def __init__(
        self,
        artifact: Artifact,
        version: str,
        popularity: Mapping[str, int],
        listed_at: Mapping[str, datetime],
        refresh: Any = None,
    ) -> None:
        self.artifact = artifact
        self._version = version
        self.popularity = dict(popularity)
        self.listed_at = dict(listed_at)
        self._refresh = refresh
        self._loaded = time.monotonic()
        self._fallback = HeuristicRanker()

    @property
    def version(self) -> str:
        """The artifact's version."""
        return self._version

    def score(self, candidates: Sequence[Candidate], ctx: RankingContext) -> NDArray[np.float64]:
        """Calibrated click probabilities plus the sort term, shape ``(len(candidates),)``."""
        from ranking import CandidateTable, HistoryEvent, UserContext, build_batch

        n = len(candidates)
        if n == 0:
            return np.zeros(0)
        if any(c.kind != "product" or not c.price or c.final_price is None for c in candidates):
            return self._fallback.score(candidates, ctx)
        if self._refresh is not None and time.monotonic() - self._loaded > POPULARITY_REFRESH_S:
            self.popularity = self._refresh()
            self._loaded = time.monotonic()
        now = ctx.now
        hours = [
            max(0.0, (c.ends_at - now).total_seconds() / 3600) if c.ends_at else 0.0
            for c in candidates
        ]
        fresh = [
            max(0.0, (now - at).total_seconds() / 86400)
            if (at := self.listed_at.get(c.id))
            else UNKNOWN_AGE_DAYS
            for c in candidates
        ]
        table = CandidateTable(
            item_ids=[c.id for c in candidates],
            categories=[c.category for c in candidates],
            brands=[c.brand for c in candidates],
            similarity=np.array([c.similarity for c in candidates]),
            price=np.array([c.price for c in candidates]),
            final_price=np.array([min(c.final_price or 0, c.price or 0) for c in candidates]),
            has_deal=np.array([c.has_deal for c in candidates]),
            needs_claim=np.array([c.needs_claim for c in candidates]),
            hours_left=np.array(hours),
            popularity=np.array([self.popularity.get(c.id, 0) for c in candidates]),
            freshness_days=np.array(fresh),
        )
        profile = ctx.profile
        history: tuple[HistoryEvent, ...] = ()
        user = UserContext(hour=now.hour, weekday=now.weekday())
        if profile is not None:
            history = tuple(
                HistoryEvent(
                    e.item_id, e.category, e.brand, max(0.0, (now - e.at).total_seconds() / 86400)
                )
                for e in profile.history
            )
            user = UserContext(
                hour=now.hour,
                weekday=now.weekday(),
                is_member=profile.member,
                is_new=profile.new_user,
                segment=profile.segment,
                history=history,
            )
        batch = build_batch(table, [user], self.artifact.vocab)
        probs = self.artifact.model.score(batch, "click").astype(np.float64)
        scale = float(probs.max()) or 1.0
        extra = sort_adjustment(candidates, ctx)
        if ctx.wants_deals:
            extra = extra + 0.1 * np.array([c.has_deal or c.needs_claim for c in candidates])
        return probs + scale * extra


def _popularity(shop: Shop, now: datetime | None = None) -> dict[str, int]:
    since = (now or datetime.now(UTC)) - timedelta(days=POPULARITY_DAYS)
    with shop.sessions() as session:
        rows = session.execute(
            select(ImpressionRecord.item_id, func.count())
            .join(FeedbackRecord, FeedbackRecord.impression_id == ImpressionRecord.id)
            .where(
                FeedbackRecord.type.in_(_POSITIVE),
                ImpressionRecord.kind == "product",
                FeedbackRecord.created_at >= since,
            )
            .group_by(ImpressionRecord.item_id)
        ).all()
    return {str(item): int(count) for item, count in rows}


def _listed_at(shop: Shop) -> dict[str, datetime]:
    """Listing times, by the export's rule (:mod:`assistant.ranker_data`): a product's
    ``created_at`` unless it is later than the product's first logged impression (a catalog
    imported after back-filled logs); those, like products missing here, count as old."""
    first = (
        select(ImpressionRecord.item_id, func.min(ImpressionRecord.created_at).label("first"))
        .group_by(ImpressionRecord.item_id)
        .subquery()
    )
    with shop.sessions() as session:
        rows = session.execute(
            select(ProductRecord.id, ProductRecord.created_at, first.c.first).outerjoin(
                first, first.c.item_id == ProductRecord.id
            )
        ).all()
    return {
        str(pid): at
        for pid, at, seen in rows
        if at is not None and (seen is None or aware(at, "created_at") <= aware(seen, "seen"))
    }


def _try_load(info: RankerInfo) -> tuple[Artifact | None, str | None]:
    """``info``'s artifact, or ``None`` and why it cannot load under this code."""
    from ranking import load_artifact

    try:
        return load_artifact(info.path), None
    except Exception as exc:  # noqa: BLE001 - any broken artifact must not stop serving
        # torch.load raises UnpicklingError on a corrupt file, load_state_dict RuntimeError on
        # weights of another shape, load_artifact ValueError on another feature schema.
        return None, str(exc) or type(exc).__name__


def artifact_problem(info: RankerInfo) -> str | None:
    """Why ``info``'s artifact cannot serve under this code (another feature schema, broken
    weights), or ``None`` when it loads."""
    return _try_load(info)[1]


def load_serving_ranker(shop: Shop) -> Ranker:
    """The promoted ranker, or the heuristic (when none is promoted, or it cannot load)."""
    if getattr(shop.settings, "ranker", "promoted") == "heuristic":
        return HeuristicRanker()
    info = promoted_ranker(shop)
    if info is None:
        return HeuristicRanker()
    artifact, problem = _try_load(info)
    if artifact is None:  # whatever it is, the heuristic serves and the log says why
        logger.warning(
            "promoted ranker %s cannot load (%s): the heuristic serves", info.version, problem
        )
        return HeuristicRanker()
    logger.info("ranker %s serves", info.version)
    return NeuralRanker(
        artifact,
        info.version,
        _popularity(shop),
        _listed_at(shop),
        refresh=lambda: _popularity(shop),
    )


# --- training --------------------------------------------------------------------------------


def heuristic_split_scores(split: Split) -> NDArray[np.float64]:
    """:class:`HeuristicRanker`'s relevance score computed from a split's features.

    ``similarity + 0.3 * discount_depth + 0.05 * [the shopper has this brand in the history]``:
    the heuristic with no sort request and no deal request, so the gate can compare a candidate
    against it on held-out rows.
    """
    from ranking import FEATURE_SPEC

    numeric = split.batch.numeric.numpy().astype(np.float64)
    col = {name: i for i, name in enumerate(FEATURE_SPEC.numeric)}
    score = numeric[:, col["similarity"]] + 0.3 * numeric[:, col["discount_depth"]]
    if "user_brand_share" in col:
        score = score + 0.05 * (numeric[:, col["user_brand_share"]] > 0)
    return score


def _new_version(now: datetime) -> str:
    return f"din-{now:%Y%m%dT%H%M%SZ}-{os.urandom(2).hex()}"


def train_ranker_from_logs(
    shop: Shop,
    *,
    seed: int = 0,
    max_epochs: int = 8,
    negatives: int = 8,
    history_negatives: int = 30,
    popular_negatives: float = 0.5,
    listwise_weight: float = 1.0,
    max_train_positives: int | None = 10_000,
    max_eval_groups: int = 500,
    snapshot: Snapshot | None = None,
    progress: bool = True,
) -> RankerInfo:
    """Export the logs, train the DIN ranker on a time split, save it under ``<var>/rankers``.

    Trains as the benchmark does (``benchmarks/ranking.py``, docs/ranking.md):
    :meth:`ranking.TrainConfig.recommended` (the listwise loss beside the calibrated heads, the
    sampling (logQ) correction, early stopping on the validation NDCG@10, the wide term started
    on the frequency-recency score) on the history and popularity-sampled negatives of
    ``ranking.train.RECOMMENDED_SAMPLING`` (the defaults below).

    Args:
        shop: The shop whose SQL logs to learn from.
        seed: Seeds sampling, initialisation and shuffling.
        max_epochs: Upper bound on epochs (early stopping on the validation NDCG@10).
        negatives: Sampled negatives of the positive's department per training positive.
        history_negatives: The user's own items of a positive's department among this many
            most recent history events become negatives too (0: none).
        popular_negatives: Share of the sampled negatives drawn by popularity.
        listwise_weight: Weight of the listwise softmax loss (0: pointwise only).
        max_train_positives: Caps the training positives (``None``: all).
        max_eval_groups: Caps the validation and test groups (each holds a whole department).
        snapshot: A snapshot to train from instead of exporting the logs.
        progress: Progress bars.

    Raises:
        InputError: The logs hold too few positive events to train and evaluate.
    """
    from assistant.ranker_data import export_snapshot
    from ranking import TrainConfig, build_task, evaluate, save_artifact
    from ranking.train import train_task

    snap = snapshot if snapshot is not None else export_snapshot(shop, progress=progress)
    data = build_task(
        snap,
        negatives=negatives,
        history_negatives=history_negatives,
        popular_negatives=popular_negatives,
        popularity_days=POPULARITY_DAYS,
        max_train_positives=max_train_positives,
        max_eval_groups=max_eval_groups,
        seed=seed,
        progress=progress,
    )
    if min(len(data.train), len(data.valid), len(data.test)) == 0:
        raise InputError(
            "the logs hold too few positive events to train a ranker "
            f"(train {len(data.train)}, valid {len(data.valid)}, test {len(data.test)} rows); "
            "build the demo world (`shopassist data demo`) or collect more feedback"
        )
    started = time.perf_counter()
    config = TrainConfig.recommended(
        seed=seed, max_epochs=max_epochs, listwise_weight=listwise_weight, progress=progress
    )
    result = train_task(data, config)
    seconds = time.perf_counter() - started
    test = evaluate(result.model, data.test.batch, data.test.labels, groups=data.test.groups)
    now = datetime.now(UTC)
    version = _new_version(now)
    path = rankers_dir(shop) / version
    save_artifact(
        path,
        result.model,
        data.vocab,
        test,
        extra={
            "version": version,
            "created_at": now.isoformat(),
            "snapshot": dict(snap.manifest),
            "valid_metrics": result.metrics,
            "train": {
                "seed": seed,
                "epochs": result.epochs,
                "rows": len(data.train),
                "popularity_days": POPULARITY_DAYS,
                "seconds": round(seconds, 2),
                "rows_per_s": round(len(data.train) * result.epochs / max(seconds, 1e-9)),
            },
        },
    )
    logger.info(
        "ranker %s trained in %.1f s: test NDCG@10 %.3f, AUC %.3f",
        version,
        seconds,
        test.get("click_ndcg@10", float("nan")),
        test.get("click_auc", float("nan")),
    )
    info = _info(path)
    assert info is not None
    return info


# --- the gate --------------------------------------------------------------------------------


def promote_ranker(
    shop: Shop,
    version: str,
    *,
    snapshot: Snapshot | None = None,
    seed: int = 0,
    resamples: int = 1000,
    max_eval_groups: int = 1000,
    progress: bool = True,
) -> GateReport:
    """Run the gate; write ``promoted.json`` only when the candidate wins.

    Raises:
        InputError: No such ranker version, or the test split is empty.
    """
    from assistant.ranker_data import export_snapshot
    from ranking import build_task, load_artifact
    from ranking.metrics import ndcg_per_group

    candidate_dir = rankers_dir(shop) / version
    if _info(candidate_dir) is None:
        known = ", ".join(i.version for i in list_rankers(shop)) or "none yet"
        raise InputError(f"unknown ranker {version!r} (trained: {known})")
    serving = promoted_ranker(shop)
    if serving is not None and serving.version == version:
        raise InputError(f"ranker {version} already serves")
    snap = snapshot if snapshot is not None else export_snapshot(shop, progress=progress)
    candidate = load_artifact(candidate_dir)
    # Only the test split is compared: keep the training rows the task builds minimal.
    lean = {
        "negatives": 1,
        "max_train_positives": 100,
        "max_eval_groups": max_eval_groups,
        "popularity_days": POPULARITY_DAYS,
    }
    data = build_task(snap, vocab=candidate.vocab, seed=seed, progress=progress, **lean)
    test = data.test
    if len(test) == 0:
        raise InputError("the logs' test period holds no positive events: nothing to compare on")
    cand_scores = candidate.model.score(test.batch, "click").astype(np.float64)
    served, problem = _try_load(serving) if serving is not None else (None, None)
    if serving is not None and served is None:
        logger.warning(
            "promoted ranker %s cannot load (%s): the gate compares against the heuristic, "
            "which is what serves",
            serving.version,
            problem,
        )
    if serving is None or served is None:
        serving_version = HeuristicRanker.version
        serve_scores = heuristic_split_scores(test)
    else:
        serving_version = serving.version
        served_test = build_task(snap, vocab=served.vocab, seed=seed, progress=False, **lean).test
        serve_scores = served.model.score(served_test.batch, "click").astype(np.float64)
    labels = test.labels[:, 0]
    ours = ndcg_per_group(labels, cand_scores, test.groups, 10)
    theirs = ndcg_per_group(labels, serve_scores, test.groups, 10)
    gate = paired_gate(ours, theirs, n_bootstrap=resamples, seed=seed)
    low, high, promoted = gate.low, gate.high, gate.promote
    if promoted:
        reason = (
            f"NDCG@10 {ours.mean():.4f} vs {theirs.mean():.4f}: the difference's 95% interval "
            f"[{low:+.4f}, {high:+.4f}] is above zero"
        )
    else:
        reason = (
            f"refused: NDCG@10 {ours.mean():.4f} vs {theirs.mean():.4f}; the difference's 95% "
            f"interval [{low:+.4f}, {high:+.4f}] does not clear zero"
        )
    report = GateReport(
        candidate=version,
        serving=serving_version,
        candidate_ndcg=float(ours.mean()),
        serving_ndcg=float(theirs.mean()),
        diff_low=low,
        diff_high=high,
        groups=len(ours),
        promoted=promoted,
        reason=reason,
    )
    if promoted:
        pointer = rankers_dir(shop) / PROMOTED_FILE
        tmp = pointer.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "version": version,
                    "promoted_at": datetime.now(UTC).isoformat(),
                    "gate": report.to_json(),
                },
                indent=2,
            )
            + "\n"
        )
        os.replace(tmp, pointer)
    logger.info("ranker gate for %s: %s", version, reason)
    return report
