"""Deterministic training of :class:`~ranking.model.DINRanker` over in-memory batches.

One loop: fixed seeds (inside a forked RNG, so the caller's global state is untouched), AdamW,
binary cross-entropy on both heads (click and conversion), early stopping on the validation loss
with the best weights restored, then Platt calibration of each head on the validation split.
Runs on CPU or CUDA (``device``); inside an initialised ``torch.distributed`` process group of
more than one process it trains with DistributedDataParallel, each rank on its shard of every
epoch. Validation and evaluation score in chunks, so a split of millions of rows (every item
of a department per group) fits in memory.

Command line (needs only torch, numpy, pyarrow and tqdm; ``--help`` lists the options)::

    python -m ranking.train SNAPSHOT_DIR --out ARTIFACT_DIR [--epochs N] [--device auto]
    torchrun --standalone --nproc_per_node 2 -m ranking.train SNAPSHOT_DIR --out ARTIFACT_DIR

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

import argparse
import copy
import json
import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.distributed as dist
from numpy.typing import ArrayLike, NDArray
from torch import nn
from tqdm.auto import tqdm

from ranking.features import Batch, Vocabularies
from ranking.metrics import auc, hit_rate_at_k, logloss, ndcg_at_k
from ranking.model import HEADS, DINConfig, DINRanker

if TYPE_CHECKING:
    from ranking.tasks import RankingData

__all__ = [
    "RECOMMENDED_MODEL",
    "RECOMMENDED_SAMPLING",
    "RECOMMENDED_TRAINING",
    "TrainConfig",
    "TrainResult",
    "evaluate",
    "fit_platt",
    "main",
    "resolve_device",
    "score_logits",
    "train_ranker",
    "train_task",
]

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
        listwise_weight: weight of a listwise (softmax) loss on the click logit over each
            request's rows, next to the pointwise losses (0: pointwise only). Training then
            shuffles whole requests instead of rows. Calibration is unaffected: Platt scaling
            on the validation split maps the click logit to a probability either way.
        k: cut-off of NDCG@k and HR@k in the reported metrics.
        sample_correction: weigh sampled training negatives by their sampling probability
            (``train_log_q`` of :func:`train_ranker`; see :func:`_loss`).
        stop_on: what early stopping (and the kept epoch) follows: ``"loss"``, the validation
            loss; ``"ndcg"``, the validation NDCG@k of the click head over the validation
            groups (needs ``valid_groups``; falls back to the loss without them).
        progress: show a tqdm bar.
        model: overrides for :class:`~ranking.model.DINConfig` (sizes come from the vocab).
        eval_batch_size: rows per chunk when scoring validation data (bounds memory).
        ema_decay: keep an exponential moving average of the weights (Polyak averaging;
            the decay per step, in ``[0, 1)``), starting from the initial weights, and
            validate, keep and return the averaged weights (0: the last step's weights).
    """

    seed: int = 0
    max_epochs: int = 30
    batch_size: int = 512
    lr: float = 3e-3
    weight_decay: float = 1e-2
    patience: int = 3
    conversion_weight: float = 1.0
    listwise_weight: float = 0.0
    stop_on: str = "loss"
    sample_correction: bool = False
    k: int = 10
    progress: bool = True
    model: dict[str, object] = field(default_factory=dict)
    eval_batch_size: int = 8192
    ema_decay: float = 0.0

    @classmethod
    def recommended(cls, **overrides: Any) -> TrainConfig:
        """The settings tuned on the validation split of the demo world and The Complete
        Journey (docs/ranking.md): :data:`RECOMMENDED_TRAINING`, then ``overrides``.

        Pair it with :data:`RECOMMENDED_SAMPLING` for :func:`ranking.tasks.build_task`.
        """
        fields = {**RECOMMENDED_TRAINING, **overrides}
        fields["model"] = {**RECOMMENDED_MODEL, **dict(overrides.get("model", {}))}
        return cls(**fields)


RECOMMENDED_TRAINING: dict[str, Any] = {
    "lr": 1e-2,
    "batch_size": 1024,
    "listwise_weight": 1.0,
    "sample_correction": True,
    "stop_on": "ndcg",
    "ema_decay": 0.998,
}
""":meth:`TrainConfig.recommended`'s training settings: the listwise softmax beside the
pointwise heads, both corrected for the negatives' sampling probability (logQ), early stopping
on the validation NDCG@10, validating and keeping a moving average of the weights."""

RECOMMENDED_MODEL: dict[str, object] = {"frequency_recency_prior": 3.0}
""":meth:`TrainConfig.recommended`'s model overrides: the wide term starts on the
frequency-recency score (:class:`~ranking.model.DINConfig`)."""

RECOMMENDED_SAMPLING: dict[str, Any] = {
    "negatives": 8,
    "history_negatives": 30,
    "popular_negatives": 0.5,
}
"""The training negatives :meth:`TrainConfig.recommended` goes with (``build_task`` keywords)."""


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


def _listwise(logits: torch.Tensor, y: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """Softmax cross-entropy of each positive against every row of its group (ListNet with a
    one-hot target per positive, as in Cao et al. (2007), "Learning to Rank: From Pairwise
    Approach to Listwise Approach", ICML), averaged over the positives.

    Args:
        logits: shape ``(n,)``.
        y: shape ``(n,)``, 0 or 1.
        groups: int64, shape ``(n,)``, each row's group in ``[0, u)``.
    """
    u = int(groups.max()) + 1 if len(groups) else 0
    top = torch.full((u,), -math.inf, dtype=logits.dtype, device=logits.device)
    top = top.scatter_reduce(0, groups, logits.detach(), reduce="amax")
    shifted = logits - top.index_select(0, groups)
    total = torch.zeros(u, dtype=logits.dtype, device=logits.device)
    total = total.index_add(0, groups, shifted.exp())
    log_prob = shifted - total.log().index_select(0, groups)
    return -(y * log_prob).sum() / y.sum().clamp_min(1.0)


def _loss(
    model: nn.Module,
    batch: Batch,
    y: torch.Tensor,
    conv_weight: float,
    listwise_weight: float = 0.0,
    log_q: torch.Tensor | None = None,
    groups: torch.Tensor | None = None,
) -> torch.Tensor:
    """Pointwise cross-entropy of both heads, plus the listwise loss of the click logit over
    each of ``groups`` (shape ``(n,)``, int64; default: each row's request).

    With ``log_q`` (shape ``(n,)``, see :attr:`ranking.tasks.Split.sample_log_q`), a sampled
    negative counts ``1 / q`` times in the cross-entropy (a weighted mean) and its logit is
    lowered by ``log q`` in the softmax (the logQ correction of sampled softmax, Bengio and
    Senecal (2008); Yi et al. (2019), RecSys), so both estimate the loss over the whole
    department, the distribution evaluation ranks.
    """
    return _loss_of(model(batch), batch, y, conv_weight, listwise_weight, log_q, groups)


def _loss_of(
    logits: torch.Tensor,
    batch: Batch,
    y: torch.Tensor,
    conv_weight: float,
    listwise_weight: float,
    log_q: torch.Tensor | None,
    groups: torch.Tensor | None = None,
) -> torch.Tensor:
    """:func:`_loss` of given logits, shape ``(n, 2)``."""
    per_row = nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none")
    if log_q is None:
        per_head = per_row.mean(dim=0)
    else:
        weight = torch.exp(-log_q).unsqueeze(1)
        per_head = (per_row * weight).sum(dim=0) / weight.sum()
    loss = per_head[0] + conv_weight * per_head[1]
    if listwise_weight > 0:
        click = logits[:, 0] if log_q is None else logits[:, 0] - log_q
        if groups is None:
            groups = batch.request_index
        else:  # numbered 0, 1, ... within the batch
            groups = torch.unique(groups, return_inverse=True)[1]
        loss = loss + listwise_weight * _listwise(click, y[:, 0], groups)
    return loss


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` or ``"cpu"``: CPU; ``"auto"``: CUDA when available, else CPU; ``"cuda"``/
    ``"cuda:N"``: that GPU.

    Raises:
        ValueError: CUDA asked for but not available.
    """
    if device is None or device == "auto":
        return torch.device("cuda" if device == "auto" and torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but CUDA is not available here")
    return resolved


def score_logits(model: DINRanker, batch: Batch, chunk: int = 8192) -> torch.Tensor:
    """Calibrated logits of every row, shape ``(n, 2)``, on the CPU; scored ``chunk`` rows at a
    time on the model's device, so a split of millions of rows fits in memory."""
    device = next(model.parameters()).device
    out = []
    with torch.inference_mode():
        for start in range(0, len(batch), chunk):
            rows = torch.arange(start, min(start + chunk, len(batch)))
            part = batch.take(rows).to(device)
            out.append(model.calibrated_logits(part).float().cpu())
    return torch.cat(out) if out else torch.zeros((0, len(HEADS)))


def _chunked_loss(
    model: DINRanker,
    batch: Batch,
    y: torch.Tensor,
    conv_weight: float,
    chunk: int,
    listwise_weight: float = 0.0,
) -> tuple[float, torch.Tensor]:
    """The mean :func:`_loss` over all rows, in chunks (raw logits: before calibration; the
    listwise part over each chunk's share of a request), and the click logits, on the CPU."""
    device = next(model.parameters()).device
    total = 0.0
    clicks = []
    with torch.inference_mode():
        for start in range(0, len(batch), chunk):
            rows = torch.arange(start, min(start + chunk, len(batch)))
            part = batch.take(rows).to(device)
            logits = model(part)
            loss = _loss_of(logits, part, y[rows].to(device), conv_weight, listwise_weight, None)
            total += float(loss) * len(rows)
            clicks.append(logits[:, 0].float().cpu())
    return total / max(len(batch), 1), torch.cat(clicks) if clicks else torch.zeros(0)


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


def evaluate(
    model: DINRanker,
    batch: Batch,
    labels: ArrayLike,
    k: int = 10,
    *,
    groups: ArrayLike | None = None,
    chunk: int = 8192,
) -> dict[str, float]:
    """AUC, log loss, NDCG@k and HR@k of each head, grouped by ``groups``.

    Args:
        model: the ranker (on any device; scoring runs in chunks there).
        batch: ``n`` rows.
        labels: shape ``(n, 2)``, columns click and conversion.
        k: the ranking cut-off.
        groups: shape ``(n,)``, each row's evaluation group (e.g.
            :attr:`ranking.tasks.Split.groups`); default: the row's request.
        chunk: rows scored at a time.
    """
    y = _labels(labels, len(batch), "labels").numpy()
    g = batch.request_index.numpy() if groups is None else np.asarray(groups)
    was_training = model.training
    model.eval()
    probs = torch.sigmoid(score_logits(model, batch, chunk)).double().numpy()
    model.train(was_training)
    out: dict[str, float] = {}
    for i, head in enumerate(HEADS):
        p = probs[:, i]
        out[f"{head}_auc"] = auc(y[:, i], p)
        out[f"{head}_logloss"] = logloss(y[:, i], p)
        out[f"{head}_ndcg@{k}"] = ndcg_at_k(y[:, i], p, g, k)
        out[f"{head}_hr@{k}"] = hit_rate_at_k(y[:, i], p, g, k)
    return out


def _distributed() -> tuple[int, int]:
    """``(rank, world size)`` of the initialised process group, else ``(0, 1)``."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _fit(
    model: DINRanker,
    train: Batch,
    y_train: torch.Tensor,
    valid: Batch,
    y_valid: torch.Tensor,
    cfg: TrainConfig,
    device: torch.device,
    valid_groups: NDArray[np.int64] | None = None,
    log_q: torch.Tensor | None = None,
    train_groups: torch.Tensor | None = None,
) -> tuple[float, list[dict[str, float]]]:
    """AdamW epochs with early stopping; leaves ``model`` at its best validation loss (or
    NDCG, ``stop_on``), the weights before the first epoch included when stopping on NDCG.

    With a process group of ``w > 1`` ranks, every rank draws the same permutation and trains
    on every ``w``-th row of it (the same number of steps on each rank, as DDP needs) through
    DistributedDataParallel; the validation loss is averaged over ranks, so all stop together.
    """
    rank, world = _distributed()
    net: nn.Module = model
    if world > 1:
        net = nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    opt = torch.optim.AdamW(
        model.parameters(),
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        fused=device.type == "cuda",  # one kernel for the whole update, not one per tensor
    )
    # Polyak averaging: the validated (and kept) weights are a moving average of the steps'.
    params = [p for p in model.parameters() if p.requires_grad]
    ema = [p.detach().clone() for p in params] if cfg.ema_decay > 0 else None
    gen = torch.Generator().manual_seed(cfg.seed)
    train = train.to(device)
    y_train = y_train.to(device)
    log_q = None if log_q is None else log_q.to(device)
    train_groups = None if train_groups is None else train_groups.to(device)
    best_loss, best_state, stale = math.inf, copy.deepcopy(model.state_dict()), 0
    best_criterion = math.inf
    history: list[dict[str, float]] = []
    by_ndcg = cfg.stop_on == "ndcg" and valid_groups is not None

    def validate() -> tuple[float, torch.Tensor]:
        """The validation loss and click logits of the model's current weights (eval mode)."""
        model.eval()
        return _chunked_loss(
            model, valid, y_valid, cfg.conversion_weight, cfg.eval_batch_size, cfg.listwise_weight
        )

    def ndcg_of(clicks: torch.Tensor) -> float:
        assert valid_groups is not None
        return ndcg_at_k(y_valid[:, 0].numpy(), clicks.double().numpy(), valid_groups, cfg.k)

    if by_ndcg:
        # The starting point competes too: a model that starts from a strong prior
        # (``frequency_recency_prior``) keeps it when no epoch beats it on validation.
        best_loss, start_clicks = validate()
        start_ndcg = ndcg_of(start_clicks)
        best_criterion = -start_ndcg
        logger.info("ranker before training: valid NDCG@%d %.4f", cfg.k, start_ndcg)
    show = cfg.progress and rank == 0
    bar = tqdm(range(cfg.max_epochs), desc="ranker", disable=not show, leave=False)
    per_rank = max(len(train) // world, 1)
    for _epoch in bar:
        started = time.perf_counter()
        model.train()
        order = torch.randperm(len(train), generator=gen)
        if cfg.listwise_weight > 0:  # whole groups in a random order, rows kept together
            group = train.request_index if train_groups is None else train_groups
            group = group.cpu()
            group_order = torch.randperm(int(group.max()) + 1, generator=gen)
            position = torch.empty_like(group_order)
            position[group_order] = torch.arange(len(group_order))
            order = torch.argsort(position[group], stable=True)
        if world > 1:
            order = order[rank::world][:per_rank]
        order = order.to(device)
        total = torch.zeros((), dtype=torch.float64, device=device)  # no sync per step
        for start in range(0, len(order), cfg.batch_size):
            rows = order[start : start + cfg.batch_size]
            loss = _loss(
                net,
                train.take(rows),
                y_train[rows],
                cfg.conversion_weight,
                cfg.listwise_weight,
                None if log_q is None else log_q[rows],
                None if train_groups is None else train_groups[rows],
            )
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            if ema is not None:
                with torch.no_grad():
                    for average, weight in zip(ema, params, strict=True):
                        average.lerp_(weight, 1.0 - cfg.ema_decay)
            total += loss.detach() * len(rows)
        train_loss = float(total) / len(order)
        trained = time.perf_counter()
        live = None
        if ema is not None:  # validate (and keep) the averaged weights
            with torch.no_grad():
                live = [p.detach().clone() for p in params]
                for weight, average in zip(params, ema, strict=True):
                    weight.copy_(average)
        valid_loss, valid_clicks = validate()
        if world > 1:
            both = torch.tensor([valid_loss, train_loss], dtype=torch.float64, device=device)
            dist.all_reduce(both)
            valid_loss, train_loss = (float(v) / world for v in both)
        entry = {"train_loss": train_loss, "valid_loss": valid_loss}
        criterion = valid_loss
        if by_ndcg:
            entry[f"valid_ndcg@{cfg.k}"] = ndcg_of(valid_clicks)
            criterion = -entry[f"valid_ndcg@{cfg.k}"]
        # Seconds of the optimisation steps and of the validation pass, for throughput reports.
        entry["train_s"] = trained - started
        entry["valid_s"] = time.perf_counter() - trained
        history.append(entry)
        bar.set_postfix(train=f"{train_loss:.4f}", valid=f"{valid_loss:.4f}")
        improved = criterion < best_criterion - 1e-5
        if improved:
            best_criterion, stale = criterion, 0
            best_loss, best_state = valid_loss, copy.deepcopy(model.state_dict())
        if live is not None:  # training goes on from the live weights
            with torch.no_grad():
                for weight, saved in zip(params, live, strict=True):
                    weight.copy_(saved)
        if not improved:
            stale += 1
            if stale >= cfg.patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    return best_loss, history


def _calibrate(model: DINRanker, valid: Batch, y_valid: torch.Tensor, chunk: int) -> None:
    """Fit each head's Platt parameters on the validation split."""
    model.calibration.copy_(torch.tensor([[1.0, 0.0]] * len(HEADS)))
    logits = score_logits(model, valid, chunk)  # identity calibration: the raw logits
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
    *,
    device: str | torch.device | None = None,
    valid_groups: ArrayLike | None = None,
    train_log_q: ArrayLike | None = None,
    train_groups: ArrayLike | None = None,
) -> TrainResult:
    """Train, early-stop and calibrate a :class:`DINRanker`.

    Args:
        train: training rows.
        train_labels: shape ``(len(train), 2)``, columns click and conversion (0/1).
        valid: validation rows (split by user or by time by the caller, never by row).
        valid_labels: shape ``(len(valid), 2)``.
        vocab: the vocabularies the batches were built with.
        config: training settings.
        device: where to train (see :func:`resolve_device`; default CPU). The returned model
            is on the CPU either way, ready to save or serve.
        valid_groups: shape ``(len(valid),)``, the validation groups for the reported ranking
            metrics (default: the request).
        train_log_q: shape ``(len(train),)``, each training row's log sampling count
            (:attr:`ranking.tasks.Split.sample_log_q`); used when ``config.sample_correction``.
        train_groups: shape ``(len(train),)``, each training row's group for the listwise loss
            (:attr:`ranking.tasks.Split.groups`: the (request, department) of department
            groups, so a positive competes only with its own department, as evaluation ranks
            it); default: the row's request.

    Raises:
        ValueError: labels of the wrong shape or not 0/1, an empty split, or CUDA asked for
            where there is none.
    """
    cfg = config or TrainConfig()
    if len(train) == 0 or len(valid) == 0:
        raise ValueError("train and valid must each hold at least one row")
    if cfg.stop_on not in ("loss", "ndcg"):
        raise ValueError(f"stop_on must be 'loss' or 'ndcg', got {cfg.stop_on!r}")
    if not 0.0 <= cfg.ema_decay < 1.0:
        raise ValueError(f"ema_decay must lie in [0, 1), got {cfg.ema_decay}")
    y_train = _labels(train_labels, len(train), "train_labels")
    y_valid = _labels(valid_labels, len(valid), "valid_labels")
    dev = resolve_device(device)
    cuda = [dev.index or 0] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(cfg.seed)
        model = DINRanker(DINConfig.for_vocab(vocab, **cfg.model))
        model.set_normalizer(train.numeric)
        model.to(dev)
        groups = None if valid_groups is None else np.asarray(valid_groups, dtype=np.int64)
        log_q = None
        if cfg.sample_correction and train_log_q is not None:
            log_q = torch.as_tensor(np.asarray(train_log_q, dtype=np.float32))
            if log_q.shape != (len(train),) or not bool(torch.isfinite(log_q).all()):
                raise ValueError(f"train_log_q must be finite with shape ({len(train)},)")
        by_group = None
        if train_groups is not None:
            by_group = torch.as_tensor(np.asarray(train_groups, dtype=np.int64))
            if by_group.shape != (len(train),) or (len(train) and int(by_group.min()) < 0):
                raise ValueError(f"train_groups must be >= 0 with shape ({len(train)},)")
        best_loss, history = _fit(
            model, train, y_train, valid, y_valid, cfg, dev, groups, log_q, by_group
        )
        _calibrate(model, valid, y_valid, cfg.eval_batch_size)
    metrics = evaluate(
        model, valid, y_valid.numpy(), cfg.k, groups=valid_groups, chunk=cfg.eval_batch_size
    )
    model.to("cpu")
    metrics["valid_loss"] = best_loss
    logger.info("ranker trained: %d epochs, %s", len(history), metrics)
    return TrainResult(model=model, metrics=metrics, epochs=len(history), history=history)


# -- command line -----------------------------------------------------------------------------

_SNAPSHOT_FIELDS = (
    "format",
    "source",
    "simulated",
    "task",
    "counts",
    "created_at",
    "valid_start",
    "test_start",
)
_SUMMARY_METRICS = ("click_auc", "click_logloss", "click_ndcg@10", "click_hr@10", "conversion_auc")


def train_task(
    data: RankingData,
    config: TrainConfig | None = None,
    *,
    device: str | torch.device | None = None,
) -> TrainResult:
    """:func:`train_ranker` on a task's train and valid splits (early stopping and calibration
    on valid, its groups for the validation metrics)."""
    return train_ranker(
        data.train.batch,
        data.train.labels,
        data.valid.batch,
        data.valid.labels,
        data.vocab,
        config,
        device=device,
        valid_groups=data.valid.groups,
        train_log_q=data.train.sample_log_q,
        train_groups=data.train.groups,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ranking.train",
        description=(
            "Train the DIN ranker on a training snapshot (ranking.snapshot), evaluate it on the "
            "snapshot's test period and write a versioned artifact. Needs only torch, numpy, "
            "pyarrow and tqdm. Under torchrun (WORLD_SIZE > 1) it trains with DDP: gloo on "
            "CPU, nccl on CUDA; rank 0 evaluates and writes."
        ),
        epilog=(
            "example: python -m ranking.train var/snapshots/cj --out var/rankers/cj --epochs 5; "
            "torchrun --standalone --nproc_per_node 2 -m ranking.train SNAP --out OUT"
        ),
    )
    parser.add_argument("snapshot", type=Path, metavar="SNAPSHOT_DIR", help="snapshot directory")
    parser.add_argument(
        "--out", type=Path, required=True, metavar="ARTIFACT_DIR", help="artifact directory"
    )
    parser.add_argument("--epochs", type=int, default=30, help="max epochs (default 30)")
    parser.add_argument("--seed", type=int, default=0, help="seed of sampling and init (0)")
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="auto: CUDA when available, else CPU (default auto)",
    )
    parser.add_argument(
        "--negatives", type=int, default=20, help="sampled negatives per positive (20)"
    )
    parser.add_argument(
        "--history-negatives",
        type=int,
        default=30,
        metavar="N",
        help="add the user's own items of a positive's department among the N most recent "
        "history events as negatives (30; 0: none)",
    )
    parser.add_argument(
        "--popular-negatives",
        type=float,
        default=0.5,
        metavar="SHARE",
        help="share of the sampled negatives drawn by popularity (0.5)",
    )
    parser.add_argument(
        "--department-share",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="train on department groups instead of sampled negatives: each positive's "
        "department with every item the user had before and this share of the rest "
        "(0: off; The Complete Journey's benchmark plan uses 0.02)",
    )
    parser.add_argument(
        "--recent-share",
        type=float,
        default=1.0,
        metavar="SHARE",
        help="train only on the requests of the last SHARE of the training period (1.0: all)",
    )
    parser.add_argument(
        "--popularity-days",
        type=float,
        default=30.0,
        metavar="DAYS",
        help="each row's item popularity counts the positive events of the DAYS before its "
        "request, as serving counts the last 30 days' reactions (30; 0: the whole training "
        "period)",
    )
    parser.add_argument(
        "--listwise",
        type=float,
        default=1.0,
        metavar="WEIGHT",
        help="weight of the listwise softmax loss next to the pointwise ones (1.0; 0: off); "
        "sampled negatives are corrected for their sampling probability and early stopping "
        "follows the validation NDCG@10",
    )
    parser.add_argument(
        "--max-train-positives",
        type=int,
        default=None,
        metavar="N",
        help="train on a seeded sample of requests holding at most N positives (default all)",
    )
    parser.add_argument(
        "--max-eval-groups",
        type=int,
        default=2000,
        metavar="N",
        help="evaluation groups kept per split, sampled with the seed (default 2000)",
    )
    parser.add_argument(
        "--ema-decay",
        type=float,
        default=RECOMMENDED_TRAINING["ema_decay"],
        metavar="D",
        help="validate and keep a moving average of the weights, decay D per step "
        f"({RECOMMENDED_TRAINING['ema_decay']}; 0: the last step's weights)",
    )
    parser.add_argument("--batch-size", type=int, default=512, help="rows per step (512)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="torch CPU threads per process (default: torch's; under torchrun: cores / ranks)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


class _CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def _run(args: argparse.Namespace) -> dict[str, Any]:
    from ranking.artifact import save_artifact
    from ranking.snapshot import SnapshotError, read_snapshot
    from ranking.tasks import build_task

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if not 0.0 <= args.ema_decay < 1.0:
        raise _CliError(f"--ema-decay must lie in [0, 1), got {args.ema_decay}")
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    try:
        device = resolve_device(args.device)
    except ValueError as exc:
        raise _CliError(str(exc)) from exc
    if device.type == "cuda":
        device = torch.device("cuda", local_rank if world > 1 else (device.index or 0))
        torch.cuda.set_device(device)
    progress = not args.quiet and rank == 0
    try:
        snapshot = read_snapshot(args.snapshot)
        data = build_task(
            snapshot,
            negatives=args.negatives,
            history_negatives=args.history_negatives,
            popular_negatives=args.popular_negatives,
            department_share=args.department_share,
            recent_train_share=args.recent_share,
            popularity_days=args.popularity_days or None,
            max_train_positives=args.max_train_positives,
            max_eval_groups=args.max_eval_groups,
            seed=args.seed,
            progress=progress,
        )
    except (SnapshotError, OSError, ValueError) as exc:
        raise _CliError(str(exc)) from exc
    if min(len(data.train), len(data.valid), len(data.test)) == 0:
        raise _CliError(
            f"{args.snapshot}: a split is empty (train {len(data.train)}, valid "
            f"{len(data.valid)}, test {len(data.test)} rows); move valid_start / test_start"
        )
    if world > 1:  # after the data: a bad snapshot fails every rank alike, before any rendezvous
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        # N processes on the machine's cores: a fair share of threads each, or they fight.
        local = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local))
    if args.threads is not None:
        torch.set_num_threads(max(1, args.threads))
    listwise = args.listwise > 0
    config = TrainConfig.recommended(
        seed=args.seed,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        progress=progress,
        listwise_weight=max(args.listwise, 0.0),
        sample_correction=listwise,
        stop_on="ndcg" if listwise else "loss",
        ema_decay=args.ema_decay,
    )
    started = time.perf_counter()
    result = train_task(data, config, device=device)
    seconds = time.perf_counter() - started
    summary: dict[str, Any] = {"rank": rank}
    if rank == 0:
        test = evaluate(result.model, data.test.batch, data.test.labels, groups=data.test.groups)
        rows_per_s = len(data.train) * result.epochs / max(seconds, 1e-9)
        manifest = dict(snapshot.manifest)
        summary = {
            "artifact": str(args.out),
            "source": data.source,
            "simulated": data.simulated,
            "task": data.task,
            "rows": {"train": len(data.train), "valid": len(data.valid), "test": len(data.test)},
            "epochs": result.epochs,
            "device": device.type,
            "world_size": world,
            "train_seconds": round(seconds, 2),
            "train_rows_per_s": round(rows_per_s),
            "test": {key: round(test[key], 4) for key in _SUMMARY_METRICS},
        }
        save_artifact(
            args.out,
            result.model,
            data.vocab,
            test,
            extra={
                "snapshot": {key: manifest.get(key) for key in _SNAPSHOT_FIELDS},
                "valid_metrics": result.metrics,
                "train": {
                    "seed": args.seed,
                    "epochs": result.epochs,
                    "negatives": args.negatives,
                    "history_negatives": args.history_negatives,
                    "popular_negatives": args.popular_negatives,
                    "department_share": args.department_share,
                    "recent_share": args.recent_share,
                    "popularity_days": args.popularity_days or None,
                    "listwise_weight": args.listwise,
                    "max_train_positives": args.max_train_positives,
                    "max_eval_groups": args.max_eval_groups,
                    "batch_size": args.batch_size,
                    "rows": summary["rows"],
                    "device": device.type,
                    "world_size": world,
                    "seconds": round(seconds, 2),
                    "rows_per_s": round(rows_per_s),
                    "history": result.history,
                },
            },
        )
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ranking.train``: train, evaluate, save; prints one JSON summary line.

    Returns:
        0 on success, 2 for a bad snapshot or arguments (one line on stderr, no traceback).
    """
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        summary = _run(args)
    except _CliError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    if summary.get("rank", 0) == 0 and "artifact" in summary:
        sys.stdout.write(json.dumps(summary, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
