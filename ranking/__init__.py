"""shopassist's `ranking` package: standalone, it imports no project package (DESIGN.md).

Features from plain inputs (:mod:`ranking.features`), the DIN + DCN-v2 ranker
(:mod:`ranking.model`), its training loop (:mod:`ranking.train`), baselines
(:mod:`ranking.baselines`), offline metrics (:mod:`ranking.metrics`) and versioned artifacts
(:mod:`ranking.artifact`).
"""

from __future__ import annotations

from ranking.artifact import Artifact, load_artifact, save_artifact
from ranking.baselines import LogisticRanker
from ranking.features import (
    FEATURE_SCHEMA_VERSION,
    FEATURE_SPEC,
    OOV_ID,
    PAD_ID,
    Batch,
    CandidateTable,
    FeatureSpec,
    HistoryEvent,
    UserContext,
    Vocabularies,
    Vocabulary,
    build_batch,
)
from ranking.metrics import auc, hit_rate_at_k, logloss, ndcg_at_k
from ranking.model import HEADS, DINConfig, DINRanker, Head
from ranking.train import TrainConfig, TrainResult, evaluate, fit_platt, train_ranker

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
    "HistoryEvent",
    "LogisticRanker",
    "TrainConfig",
    "TrainResult",
    "UserContext",
    "Vocabularies",
    "Vocabulary",
    "auc",
    "build_batch",
    "evaluate",
    "fit_platt",
    "hit_rate_at_k",
    "load_artifact",
    "logloss",
    "ndcg_at_k",
    "save_artifact",
    "train_ranker",
]
