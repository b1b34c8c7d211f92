"""Deterministic training of :class:`~ranking.model.DINRanker` over in-memory batches.

One loop: fixed seeds (inside a forked RNG, so the caller's global state is untouched), AdamW,
binary cross-entropy on both heads (click and conversion), early stopping on the validation loss
with the best weights restored, then Platt calibration of each head on the validation split.

Example:
    >>> import numpy as np, torch
    >>> from ranking.features import CandidateTable, UserContext, Vocabularies, build_batch
    >>> vocab = Vocabularies.fit(items=["a", "b"], categories=["c"], brands=["x"], segments=[])
    >>> n = 64
    >>> cands = CandidateTable(["a", "b"] * 32, ["c"] * n, ["x"] * n, np.linspace(0, 1, n),
    ...     np.full(n, 100), np.full(n, 90), np.ones(n), np.zeros(n), np.zeros(n), np.ones(n),
    ...     np.ones(n))
    >>> batch = build_batch(cands, [UserContext(hour=1, weekday=1)], vocab)
    >>> labels = np.stack([np.arange(n) % 2, np.zeros(n)], axis=1)
    >>> result = train_ranker(batch, labels, batch, labels, vocab,
    ...     TrainConfig(max_epochs=2, progress=False))
    >>> sorted(result.metrics)[:2]
    ['click_auc', 'click_hr@10']
"""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn
from tqdm.auto import tqdm

from ranking.features import Batch, Vocabularies
from ranking.metrics import auc, hit_rate_at_k, logloss, ndcg_at_k
from ranking.model import HEADS, DINConfig, DINRanker

__all__ = ["TrainConfig", "TrainResult", "evaluate", "fit_platt", "train_ranker"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Training settings.

    Attributes:
        seed: seeds weight init and shuffling.
        max_epochs: upper bound on epochs.
        batch_size: rows per step.
        lr: AdamW learning rate.
        weight_decay: AdamW weight decay.
        patience: epochs without a validation-loss improvement before stopping.
        conversion_weight: weight of the conversion head's loss next to the click head's.
        k: cut-off of NDCG@k and HR@k in the reported metrics.
        progress: show a tqdm bar.
        model: overrides for :class:`~ranking.model.DINConfig` (sizes come from the vocab).
    """

    seed: int = 0
    max_epochs: int = 30
    batch_size: int = 512
    lr: float = 3e-3
    weight_decay: float = 1e-2
    patience: int = 3
    conversion_weight: float = 1.0
    k: int = 10
    progress: bool = True
    model: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainResult:
    """The trained, calibrated model (in eval mode) and what the run measured.

    Attributes:
        model: the best model by validation loss, calibrated.
        metrics: validation metrics after calibration (see :func:`evaluate`).
        epochs: epochs run.
        history: per epoch, ``{"train_loss", "valid_loss"}``.
    """

    model: DINRanker
    metrics: dict[str, float]
    epochs: int
    history: list[dict[str, float]]


def _labels(labels: ArrayLike, n: int, name: str) -> torch.Tensor:
    arr = np.asarray(labels, dtype=np.float32)
    if arr.shape != (n, len(HEADS)):
        raise ValueError(f"{name} must have shape ({n}, {len(HEADS)}) [click, conversion]")
    if not np.isin(arr, (0.0, 1.0)).all():
        raise ValueError(f"{name} must hold only 0 and 1")
    return torch.from_numpy(arr)


def _loss(model: DINRanker, batch: Batch, y: torch.Tensor, conv_weight: float) -> torch.Tensor:
    per_head = nn.functional.binary_cross_entropy_with_logits(
        model(batch), y, reduction="none"
    ).mean(dim=0)
    return per_head[0] + conv_weight * per_head[1]


def fit_platt(logits: torch.Tensor, labels: torch.Tensor, steps: int = 100) -> tuple[float, float]:
    """Platt scaling (Platt, 1999): ``a, b`` minimising the log loss of ``sigmoid(a * z + b)``.

    Args:
        logits: shape ``(n,)``.
        labels: shape ``(n,)``, 0 or 1.
        steps: LBFGS iterations.
    """
    if labels.min() == labels.max():
        return 1.0, 0.0  # one class only: nothing to calibrate against
    params = torch.tensor([1.0, 0.0], requires_grad=True)
    opt = torch.optim.LBFGS([params], max_iter=steps, line_search_fn="strong_wolfe")
    z, y = logits.detach().double(), labels.double()

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(
            params.double()[0] * z + params.double()[1], y
        )
        loss.backward()  # type: ignore[no-untyped-call]
        return loss

    opt.step(closure)  # type: ignore[no-untyped-call]
    a, b = (float(v) for v in params.detach())
    if not (math.isfinite(a) and math.isfinite(b)):
        return 1.0, 0.0
    return a, b


def evaluate(model: DINRanker, batch: Batch, labels: ArrayLike, k: int = 10) -> dict[str, float]:
    """AUC, log loss, NDCG@k and HR@k of each head, grouped by request.

    Args:
        model: the ranker.
        batch: ``n`` rows.
        labels: shape ``(n, 2)``, columns click and conversion.
        k: the ranking cut-off.
    """
    y = _labels(labels, len(batch), "labels").numpy()
    groups = batch.request_index.numpy()
    was_training = model.training
    model.eval()
    probs = {head: model.score(batch, head) for head in HEADS}
    model.train(was_training)
    out: dict[str, float] = {}
    for i, head in enumerate(HEADS):
        p = probs[head].astype(np.float64)
        out[f"{head}_auc"] = auc(y[:, i], p)
        out[f"{head}_logloss"] = logloss(y[:, i], p)
        out[f"{head}_ndcg@{k}"] = ndcg_at_k(y[:, i], p, groups, k)
        out[f"{head}_hr@{k}"] = hit_rate_at_k(y[:, i], p, groups, k)
    return out


def _fit(
    model: DINRanker,
    train: Batch,
    y_train: torch.Tensor,
    valid: Batch,
    y_valid: torch.Tensor,
    cfg: TrainConfig,
) -> tuple[float, list[dict[str, float]]]:
    """AdamW epochs with early stopping; leaves ``model`` at its best validation loss."""
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(cfg.seed)
    best_loss, best_state, stale = math.inf, copy.deepcopy(model.state_dict()), 0
    history: list[dict[str, float]] = []
    bar = tqdm(range(cfg.max_epochs), desc="ranker", disable=not cfg.progress, leave=False)
    for _epoch in bar:
        model.train()
        order = torch.randperm(len(train), generator=gen)
        total = 0.0
        for start in range(0, len(train), cfg.batch_size):
            rows = order[start : start + cfg.batch_size]
            loss = _loss(model, train.take(rows), y_train[rows], cfg.conversion_weight)
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            total += float(loss.detach()) * len(rows)
        model.eval()
        with torch.inference_mode():
            valid_loss = float(_loss(model, valid, y_valid, cfg.conversion_weight))
        history.append({"train_loss": total / len(train), "valid_loss": valid_loss})
        bar.set_postfix(train=f"{total / len(train):.4f}", valid=f"{valid_loss:.4f}")
        if valid_loss < best_loss - 1e-5:
            best_loss, best_state, stale = valid_loss, copy.deepcopy(model.state_dict()), 0
        else:
            stale += 1
            if stale >= cfg.patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    return best_loss, history


def _calibrate(model: DINRanker, valid: Batch, y_valid: torch.Tensor) -> None:
    """Fit each head's Platt parameters on the validation split."""
    with torch.no_grad():
        logits = model(valid)
    for i in range(len(HEADS)):
        a, b = fit_platt(logits[:, i].clone(), y_valid[:, i])
        model.calibration[i] = torch.tensor([a, b])


def train_ranker(
    train: Batch,
    train_labels: ArrayLike,
    valid: Batch,
    valid_labels: ArrayLike,
    vocab: Vocabularies,
    config: TrainConfig | None = None,
) -> TrainResult:
    """Train, early-stop and calibrate a :class:`DINRanker`.

    Args:
        train: training rows.
        train_labels: shape ``(len(train), 2)``, columns click and conversion (0/1).
        valid: validation rows (split by user or by time by the caller, never by row).
        valid_labels: shape ``(len(valid), 2)``.
        vocab: the vocabularies the batches were built with.
        config: training settings.

    Raises:
        ValueError: labels of the wrong shape or not 0/1, or an empty split.
    """
    cfg = config or TrainConfig()
    if len(train) == 0 or len(valid) == 0:
        raise ValueError("train and valid must each hold at least one row")
    y_train = _labels(train_labels, len(train), "train_labels")
    y_valid = _labels(valid_labels, len(valid), "valid_labels")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = DINRanker(DINConfig.for_vocab(vocab, **cfg.model))
        model.set_normalizer(train.numeric)
        best_loss, history = _fit(model, train, y_train, valid, y_valid, cfg)
        _calibrate(model, valid, y_valid)
    metrics = evaluate(model, valid, y_valid.numpy(), cfg.k)
    metrics["valid_loss"] = best_loss
    logger.info("ranker trained: %d epochs, %s", len(history), metrics)
    return TrainResult(model=model, metrics=metrics, epochs=len(history), history=history)
