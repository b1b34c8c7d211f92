"""Versioned ranker artifacts: a directory with ``model.pt`` and ``manifest.json``.

``model.pt`` is the ``state_dict`` (loaded with ``weights_only=True``: no pickled code runs);
``manifest.json`` holds the feature schema version and spec, the model config, the vocabularies
and the metrics. Loading an artifact written under another :data:`FEATURE_SCHEMA_VERSION` is
refused, since its ids and feature columns mean something else.

Example:
    >>> import tempfile
    >>> from ranking.features import Vocabularies
    >>> from ranking.model import DINConfig, DINRanker
    >>> vocab = Vocabularies.fit(items=["a"], categories=["c"], brands=["b"], segments=["s"])
    >>> model = DINRanker(DINConfig.for_vocab(vocab))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = save_artifact(d, model, vocab, {"click_auc": 0.7})
    ...     load_artifact(d).metrics
    {'click_auc': 0.7}

Serving one request with :func:`score_candidates`:

    >>> import numpy as np
    >>> from ranking.features import CandidateTable, UserContext
    >>> art = Artifact(model=model.eval(), vocab=vocab, metrics={}, manifest={})
    >>> cands = CandidateTable(["a", "z"], ["c", "c"], ["b", "b"], np.array([0.9, 0.1]),
    ...     np.array([100, 100]), np.array([80, 100]), np.array([1, 0]), np.zeros(2),
    ...     np.array([5.0, 0.0]), np.array([3, 0]), np.array([10.0, 2.0]))
    >>> score_candidates(art, cands, UserContext(hour=9, weekday=1)).shape
    (2,)
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from ranking.features import (
    FEATURE_SCHEMA_VERSION,
    FEATURE_SPEC,
    CandidateTable,
    UserContext,
    Vocabularies,
    build_batch,
)
from ranking.model import DINConfig, DINRanker, Head

__all__ = [
    "MANIFEST_NAME",
    "WEIGHTS_NAME",
    "Artifact",
    "load_artifact",
    "save_artifact",
    "score_candidates",
]

MANIFEST_NAME = "manifest.json"
WEIGHTS_NAME = "model.pt"


@dataclass(frozen=True)
class Artifact:
    """A loaded ranker, in eval mode, with what it was trained with.

    Attributes:
        model: the ranker.
        vocab: the vocabularies to build its batches with.
        metrics: the metrics recorded at training time.
        manifest: the whole manifest.
    """

    model: DINRanker
    vocab: Vocabularies
    metrics: dict[str, float]
    manifest: dict[str, Any]


def save_artifact(
    directory: str | Path,
    model: DINRanker,
    vocab: Vocabularies,
    metrics: Mapping[str, float],
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model.pt`` and ``manifest.json`` under ``directory`` (created); return it.

    Args:
        directory: the artifact directory.
        model: the trained ranker.
        vocab: its vocabularies.
        metrics: metrics to record (e.g. :attr:`ranking.train.TrainResult.metrics`).
        extra: more JSON-ready manifest fields (data snapshot, training config).
    """
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    config = dataclasses.asdict(model.config)
    config["hidden"] = list(model.config.hidden)
    manifest: dict[str, Any] = {
        "schema_version": FEATURE_SCHEMA_VERSION,
        "feature_spec": dataclasses.asdict(FEATURE_SPEC),
        "model": "DINRanker",
        "model_config": config,
        "vocab": vocab.to_json(),
        "metrics": {key: float(value) for key, value in metrics.items()},
        **(extra or {}),
    }
    torch.save(model.state_dict(), path / WEIGHTS_NAME)
    (path / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path


def load_artifact(directory: str | Path) -> Artifact:
    """Load an artifact written by :func:`save_artifact`.

    Raises:
        FileNotFoundError: the manifest or weights are missing.
        ValueError: the artifact was written under another feature schema version.
    """
    path = Path(directory)
    manifest: dict[str, Any] = json.loads((path / MANIFEST_NAME).read_text())
    version = manifest.get("schema_version")
    if version != FEATURE_SCHEMA_VERSION:
        raise ValueError(
            f"artifact {path} has feature schema {version!r}, this code builds "
            f"{FEATURE_SCHEMA_VERSION!r}; retrain the ranker with this code"
        )
    raw = dict(manifest["model_config"])
    raw["hidden"] = tuple(raw["hidden"])
    raw.setdefault("wide", False)  # written before the wide term existed
    model = DINRanker(DINConfig(**raw))
    state = torch.load(path / WEIGHTS_NAME, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.eval()
    return Artifact(
        model=model,
        vocab=Vocabularies.from_json(manifest["vocab"]),
        metrics=dict(manifest.get("metrics", {})),
        manifest=manifest,
    )


def score_candidates(
    artifact: Artifact,
    candidates: CandidateTable,
    user: UserContext,
    *,
    head: Head = "click",
) -> NDArray[np.float32]:
    """Calibrated probabilities of ``head`` for one request's candidates, shape ``(n,)``.

    Builds the batch with the artifact's vocabularies (unseen ids score as cold start) and
    scores it in ``torch.inference_mode()`` on the model's device.

    Args:
        artifact: a loaded artifact (:func:`load_artifact`).
        candidates: the ``n >= 1`` candidates.
        user: the request (its full history: the user-item features read all of it).
        head: ``"click"`` (default) or ``"conversion"``.

    Raises:
        ValueError: no candidates, an unknown head, or a field that :func:`build_batch` refuses.
    """
    if len(candidates) == 0:
        raise ValueError("no candidates to score; pass at least one (retrieval found nothing?)")
    if head not in ("click", "conversion"):
        raise ValueError(f"unknown head {head!r}; expected 'click' or 'conversion'")
    batch = build_batch(candidates, [user], artifact.vocab)
    device = next(artifact.model.parameters()).device
    return artifact.model.score(batch.to(device), head)
