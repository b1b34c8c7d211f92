"""The trained DIN ranker: beats the seed's logistic regression, calibrates, saves, serves."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from ranking.artifact import MANIFEST_NAME, load_artifact, save_artifact
from ranking.baselines import LogisticRanker
from ranking.features import (
    FEATURE_SCHEMA_VERSION,
    FEATURE_SPEC,
    CandidateTable,
    HistoryEvent,
    UserContext,
    build_batch,
)
from ranking.metrics import ndcg_at_k
from ranking.train import (
    TrainConfig,
    TrainResult,
    _listwise,
    _loss_of,
    evaluate,
    train_ranker,
)
from tests.ranking._synthetic import World, make_world

logger = logging.getLogger(__name__)


def _train(
    world: World,
    config: TrainConfig,
    *,
    labels: np.ndarray | None = None,
    **kwargs: Any,
) -> TrainResult:
    """:func:`train_ranker` on ``world``'s train and valid splits (``labels``: other training
    labels); keyword arguments pass through."""
    return train_ranker(
        world.train.batch,
        world.train.labels if labels is None else labels,
        world.valid.batch,
        world.valid.labels,
        world.vocab,
        config,
        **kwargs,
    )


def test_din_matches_logistic_regression_on_held_out_users(
    trained: TrainResult, world: World
) -> None:
    test = world.test
    groups = test.batch.request_index.numpy()
    clicks = test.labels[:, 0]
    din = ndcg_at_k(clicks, trained.model.score(test.batch, "click"), groups, 10)
    logistic = LogisticRanker(world.vocab).fit(world.train.batch, world.train.labels[:, 0])
    lr = ndcg_at_k(clicks, logistic.score(test.batch), groups, 10)
    # Clicks follow "candidate category in the user's history". Under schema 1 a linear model
    # could not see it (DIN scored 1.5x); schema 2's user_category_share hands it to both.
    assert din >= lr - 0.02, (din, lr)
    assert din > 0.45


def test_conversion_head_is_calibrated(trained: TrainResult, world: World) -> None:
    probs = trained.model.score(world.test.batch)  # default head: conversion
    rate = float(world.test.labels[:, 1].mean())
    assert float(probs.mean()) == pytest.approx(rate, rel=0.25)
    metrics = evaluate(trained.model, world.test.batch, world.test.labels)
    assert metrics["conversion_auc"] > 0.65
    assert metrics["click_auc"] > 0.7


def test_training_is_deterministic() -> None:
    small = make_world(seed=3, n_train=60, n_valid=20, n_test=5)
    config = TrainConfig(seed=1, max_epochs=2, progress=False)
    runs = [_train(small, config) for _ in range(2)]
    assert runs[0].metrics == runs[1].metrics
    for a, b in zip(
        runs[0].model.state_dict().values(), runs[1].model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)


def test_bad_labels_are_refused(world: World) -> None:
    batch = world.valid.batch
    with pytest.raises(ValueError, match=r"train_labels must have shape \(\d+, 2\)"):
        train_ranker(batch, world.valid.labels[:, 0], batch, world.valid.labels, world.vocab)
    labels = world.valid.labels.copy()
    labels[0, 0] = 0.5
    with pytest.raises(ValueError, match="valid_labels must hold only 0 and 1"):
        train_ranker(batch, world.valid.labels, batch, labels, world.vocab)


def test_artifact_round_trip(trained: TrainResult, world: World, tmp_path: Path) -> None:
    save_artifact(tmp_path, trained.model, world.vocab, trained.metrics)
    loaded = load_artifact(tmp_path)
    assert loaded.vocab == world.vocab
    assert loaded.metrics == pytest.approx(trained.metrics)
    assert not loaded.model.training
    np.testing.assert_array_equal(
        loaded.model.score(world.test.batch), trained.model.score(world.test.batch)
    )


@pytest.mark.parametrize("old", ["ranking-features/0", "ranking-features/1"])
def test_artifact_of_another_schema_is_refused(
    trained: TrainResult, world: World, tmp_path: Path, old: str
) -> None:
    save_artifact(tmp_path, trained.model, world.vocab, trained.metrics)
    manifest = json.loads((tmp_path / MANIFEST_NAME).read_text())
    manifest["schema_version"] = old
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=f"'{old}', this code builds '{FEATURE_SCHEMA_VERSION}'"):
        load_artifact(tmp_path)


def test_scoring_500_candidates_latency(trained: TrainResult, world: World) -> None:
    """Measured, loosely bounded: the 2 ms p95 target is checked by the benchmark, not here."""
    rng = np.random.default_rng(0)
    n = 500
    items = rng.integers(0, 400, n)
    table = CandidateTable(
        item_ids=[f"item-{i}" for i in items],
        categories=[f"cat-{i % 20}" for i in items],
        brands=[f"brand-{i % 40}" for i in items],
        similarity=rng.uniform(0, 1, n),
        price=rng.integers(1_000, 9_000, n),
        final_price=rng.integers(500, 1_000, n),
        has_deal=np.ones(n),
        needs_claim=np.zeros(n),
        hours_left=rng.uniform(0, 48, n),
        popularity=rng.integers(0, 100, n),
        freshness_days=rng.uniform(0, 90, n),
    )
    history = tuple(
        HistoryEvent(f"item-{i}", f"cat-{i % 20}", f"brand-{i % 40}", float(d))
        for d, i in enumerate(rng.integers(0, 400, 40))
    )
    user = UserContext(hour=12, weekday=3, is_member=True, segment="seg-1", history=history)
    batch = build_batch(table, [user], world.vocab)
    model = trained.model.eval()
    assert torch.get_num_threads() == 1  # the conftest's autouse fixture
    for _ in range(20):
        model.score(batch)
    times = []
    for _ in range(200):
        start = time.perf_counter()
        model.score(batch)
        times.append(time.perf_counter() - start)
    p50, p95 = (float(np.percentile(times, q)) * 1e3 for q in (50, 95))
    logger.info("scoring 500 candidates, 1 thread: p50 %.3f ms, p95 %.3f ms", p50, p95)
    # The median, not the tail: on a shared 2-core machine other processes' time slices land
    # in the p95 (89 ms once, with a 1.1 ms median); the benchmark reports both.
    assert p50 < 20.0, (p50, p95)


def test_one_request_fast_path_matches_the_general_path(trained: TrainResult, world: World) -> None:
    batch = world.test.batch
    rows = torch.nonzero(batch.request_index == 7).squeeze(1)
    alone = batch.take(rows)
    assert alone.n_requests == 1
    with_others = batch.take(torch.cat([rows, torch.arange(40)]))
    assert with_others.n_requests > 1
    np.testing.assert_allclose(
        trained.model.score(alone),
        trained.model.score(with_others)[: len(rows)],
        rtol=1e-5,
        atol=1e-6,
    )


def test_eval_functional_path_matches_the_modules(trained: TrainResult, world: World) -> None:
    """Serving runs the cross network and MLP through functional calls (no module overhead);
    the modules themselves (train mode, dropout off) give the same logits."""
    model = trained.model
    batch = world.test.batch.take(torch.nonzero(world.test.batch.request_index == 7).squeeze(1))
    with torch.inference_mode():
        fast = model.eval()(batch)
        dropouts = [m for m in model.modules() if isinstance(m, torch.nn.Dropout)]
        saved = [m.p for m in dropouts]
        try:
            for m in dropouts:
                m.p = 0.0
            slow = model.train()(batch)
        finally:
            for m, p in zip(dropouts, saved, strict=True):
                m.p = p
            model.eval()
    torch.testing.assert_close(fast, slow, rtol=0, atol=0)


def test_listwise_loss_is_softmax_cross_entropy_per_group() -> None:
    logits = torch.tensor([2.0, 0.5, -1.0, 0.3, 0.1], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0], dtype=torch.float64)
    groups = torch.tensor([0, 0, 0, 1, 1])
    first = torch.log_softmax(logits[:3], 0)[0]
    second = torch.log_softmax(logits[3:], 0)[1]
    expected = -(first + second) / 2
    torch.testing.assert_close(_listwise(logits, y, groups), expected)


def test_listwise_loss_follows_the_training_groups_not_the_request(world: World) -> None:
    """Department groups (``train_groups``) split a request's softmax: a positive competes only
    with the rows of its own group, as evaluation ranks it within its department."""
    counts = torch.bincount(world.train.batch.request_index)
    request = int(torch.nonzero(counts >= 4)[0, 0])
    rows = torch.nonzero(world.train.batch.request_index == request)[:4, 0]
    batch = world.train.batch.take(rows)
    logits = torch.tensor([[2.0, 0.0], [0.5, 0.0], [-1.0, 0.0], [0.3, 0.0]])
    y = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    pointwise = _loss_of(logits, batch, y, 0.0, 0.0, None)
    whole = _loss_of(logits, batch, y, 0.0, 1.0, None) - pointwise
    split = _loss_of(logits, batch, y, 0.0, 1.0, None, torch.tensor([7, 7, 9, 9])) - pointwise
    every = torch.log_softmax(logits[:, 0], 0)
    torch.testing.assert_close(whole, -(every[0] + every[3]) / 2)
    first, second = torch.log_softmax(logits[:2, 0], 0), torch.log_softmax(logits[2:, 0], 0)
    torch.testing.assert_close(split, -(first[0] + second[1]) / 2)


def test_train_groups_of_one_per_request_train_as_the_default(world: World) -> None:
    small = make_world(seed=4, n_train=60, n_valid=20, n_test=5)
    config = TrainConfig(seed=0, max_epochs=1, progress=False, listwise_weight=1.0)
    requests = small.train.batch.request_index.numpy()
    default, grouped = _train(small, config), _train(small, config, train_groups=requests)
    assert torch.equal(default.model.heads.weight, grouped.model.heads.weight)
    with pytest.raises(ValueError, match="train_groups"):
        _train(small, config, train_groups=requests[:-1])


def test_listwise_sample_correction_and_ndcg_stopping_train(world: World) -> None:
    small = make_world(seed=4, n_train=60, n_valid=20, n_test=5)
    log_q = np.log(np.full(len(small.train.labels), 0.5, dtype=np.float32))
    config = TrainConfig(
        seed=0,
        max_epochs=2,
        progress=False,
        listwise_weight=1.0,
        sample_correction=True,
        stop_on="ndcg",
    )
    result = _train(
        small, config, valid_groups=small.valid.batch.request_index.numpy(), train_log_q=log_q
    )
    assert "valid_ndcg@10" in result.history[0]
    assert np.isfinite(result.metrics["click_logloss"])
    with pytest.raises(ValueError, match="train_log_q"):
        _train(small, config, train_log_q=log_q[:-1])
    with pytest.raises(ValueError, match="stop_on"):
        _train(small, TrainConfig(stop_on="auc"))


def test_an_untrained_model_with_the_prior_ranks_in_frequency_recency_order(world: World) -> None:
    """With the prior the model starts as the frequency-recency baseline: its scores are a
    rising function of the ``freq_recency`` column alone (ties aside), whatever the rest of
    the features say; the deep part still gets gradients from the first step."""
    from ranking.model import DINConfig, DINRanker

    column = FEATURE_SPEC.numeric.index("freq_recency")
    torch.manual_seed(0)
    primed = DINRanker(DINConfig.for_vocab(world.vocab, frequency_recency_prior=3.0)).eval()
    primed.set_normalizer(world.train.batch.numeric)
    batch = world.test.batch
    scores = primed.score(batch, "click").astype(np.float64)
    fr = batch.numeric[:, column].numpy().astype(np.float64)
    order = np.argsort(fr, kind="stable")
    rising = np.diff(scores[order])
    assert (rising >= -1e-9).all(), "scores must follow freq_recency"
    assert len(np.unique(fr)) > 5 and (rising > 0).any()
    torch.manual_seed(0)
    plain = DINRanker(DINConfig.for_vocab(world.vocab)).eval()
    plain.set_normalizer(world.train.batch.numeric)
    plain_scores = plain.score(batch, "click").astype(np.float64)
    assert (np.diff(plain_scores[order]) < -1e-6).any(), "without the prior it is not"
    primed.train()
    primed(batch).sum().backward()  # type: ignore[no-untyped-call]
    assert primed.heads.weight.grad is not None and bool(primed.heads.weight.grad.any())


def test_training_keeps_the_prior_when_no_epoch_beats_it(world: World) -> None:
    """Stopping on validation NDCG, the weights before the first epoch compete: a run whose
    epochs only make things worse (trained on inverted labels) returns the frequency-recency
    model, which scores validation exactly as well as before training."""
    from ranking.model import DINConfig, DINRanker

    small = make_world(seed=4, n_train=60, n_valid=20, n_test=5)
    groups = small.valid.batch.request_index.numpy()
    config = TrainConfig(
        seed=0,
        max_epochs=2,
        progress=False,
        stop_on="ndcg",
        model={"frequency_recency_prior": 3.0},
    )
    result = _train(small, config, labels=1.0 - small.train.labels, valid_groups=groups)
    clicks = small.valid.labels[:, 0]
    untrained = DINRanker(DINConfig.for_vocab(small.vocab, frequency_recency_prior=3.0)).eval()
    untrained.set_normalizer(small.train.batch.numeric)

    def ndcg(model: DINRanker) -> float:  # raw logits: calibration's rounding can merge ties
        with torch.inference_mode():
            logits = model(small.valid.batch)[:, 0].double().numpy()
        return ndcg_at_k(clicks, logits, groups, 10)

    before = ndcg(untrained)
    epochs = [h["valid_ndcg@10"] for h in result.history]
    assert max(epochs) < before, "the setup must make every epoch worse"
    assert ndcg(result.model) == pytest.approx(before)


def test_weight_averaging_validates_and_returns_the_average(world: World) -> None:
    """With ``ema_decay`` the kept weights are the moving average, not the last step's: the
    returned model differs from a run without it, and the run is deterministic."""
    small = make_world(seed=5, n_train=60, n_valid=20, n_test=5)

    def run(decay: float) -> TrainResult:
        config = TrainConfig(seed=0, max_epochs=2, patience=5, progress=False, ema_decay=decay)
        return _train(small, config)

    plain, averaged, again = run(0.0), run(0.9), run(0.9)
    weights = [r.model.heads.weight.detach() for r in (plain, averaged, again)]
    assert not torch.allclose(weights[0], weights[1])
    assert torch.equal(weights[1], weights[2])
    assert averaged.epochs == 2 and np.isfinite(averaged.metrics["click_logloss"])
    assert TrainConfig.recommended().ema_decay > 0
