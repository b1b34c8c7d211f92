"""shopassist's `ranking` package: standalone, it imports no project package (DESIGN.md).

Features from plain inputs (:mod:`ranking.features`), the DIN + DCN-v2 ranker
(:mod:`ranking.model`), its training loop and command line (:mod:`ranking.train`), training
snapshots (:mod:`ranking.snapshot`) and the tasks built from them (:mod:`ranking.tasks`),
baselines (:mod:`ranking.baselines`), offline metrics (:mod:`ranking.metrics`) and versioned
artifacts (:mod:`ranking.artifact`).

:mod:`ranking.train` is imported on first use of one of its names, so that ``python -m
ranking.train`` runs the module once (runpy warns when the package imported it already).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ranking.artifact import Artifact, load_artifact, save_artifact, score_candidates
from ranking.baselines import LogisticRanker
from ranking.features import (
    FEATURE_SCHEMA_VERSION,
    FEATURE_SPEC,
    OOV_ID,
    PAD_ID,
    Batch,
    CandidateTable,
    FeatureSpec,
    HistoryArrays,
    HistoryEvent,
    UserContext,
    Vocabularies,
    Vocabulary,
    build_batch,
)
from ranking.metrics import auc, hit_rate_at_k, logloss, ndcg_at_k
from ranking.model import HEADS, DINConfig, DINRanker, Head
from ranking.snapshot import Snapshot, SnapshotError, read_snapshot
from ranking.tasks import Interactions, RankingData, Split, build_task

if TYPE_CHECKING:
    from ranking.train import TrainConfig, TrainResult, evaluate, fit_platt, train_ranker

_LAZY = {"TrainConfig", "TrainResult", "evaluate", "fit_platt", "train_ranker"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from ranking import train

        return getattr(train, name)
    raise AttributeError(f"module 'ranking' has no attribute {name!r}")


__all__ = [
    "FEATURE_SCHEMA_VERSION",
    "FEATURE_SPEC",
    "HEADS",
    "OOV_ID",
    "PAD_ID",
    "Artifact",
    "Batch",
    "CandidateTable",
    "DINConfig",
    "DINRanker",
    "FeatureSpec",
    "Head",
    "HistoryArrays",
    "HistoryEvent",
    "Interactions",
    "LogisticRanker",
    "RankingData",
    "Snapshot",
    "SnapshotError",
    "Split",
    "TrainConfig",
    "TrainResult",
    "UserContext",
    "Vocabularies",
    "Vocabulary",
    "auc",
    "build_batch",
    "build_task",
    "evaluate",
    "fit_platt",
    "hit_rate_at_k",
    "load_artifact",
    "logloss",
    "ndcg_at_k",
    "read_snapshot",
    "save_artifact",
    "score_candidates",
    "train_ranker",
]
