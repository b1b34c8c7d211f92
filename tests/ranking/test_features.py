"""Features from plain inputs: validation, cold start, empty history, batching."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from ranking.features import (
    FEATURE_SPEC,
    OOV_ID,
    CandidateTable,
    HistoryEvent,
    UserContext,
    Vocabularies,
    build_batch,
)
from ranking.train import TrainResult
from tests.ranking._synthetic import World

VOCAB = Vocabularies.fit(
    items=["i1", "i2"], categories=["shoes", "hats"], brands=["acme"], segments=["vip"]
)


def _table(n: int = 3, **overrides: object) -> CandidateTable:
    values: dict[str, object] = {
        "item_ids": ["i1", "i2", "i1"][:n],
        "categories": ["shoes", "hats", "shoes"][:n],
        "brands": ["acme"] * n,
        "similarity": np.linspace(0.1, 0.9, n),
        "price": np.full(n, 10_000),
        "final_price": np.full(n, 8_000),
        "has_deal": np.ones(n, dtype=bool),
        "needs_claim": np.zeros(n, dtype=bool),
        "hours_left": np.full(n, 500.0),
        "popularity": np.arange(n),
        "freshness_days": np.full(n, 30.0),
    }
    values.update(overrides)
    return CandidateTable(**values)  # type: ignore[arg-type]


USER = UserContext(
    hour=20,
    weekday=4,
    is_member=True,
    segment="vip",
    history=(
        HistoryEvent("i1", "shoes", "acme", 3.0),
        HistoryEvent("i2", "hats", "acme", 1.0),
    ),
)


def test_numeric_columns_follow_the_spec() -> None:
    batch = build_batch(_table(), [USER], VOCAB)
    assert batch.numeric.shape == (3, len(FEATURE_SPEC.numeric))
    col = {name: i for i, name in enumerate(FEATURE_SPEC.numeric)}
    row = batch.numeric[0]
    assert row[col["discount_depth"]] == pytest.approx(0.2)
    assert row[col["hours_left"]] == pytest.approx(1.0)  # 500 h clipped to the 168 h cap
    assert row[col["log_price"]] == pytest.approx(np.log1p(10_000))


def test_history_is_most_recent_first_and_masked() -> None:
    batch = build_batch(_table(), [USER], VOCAB)
    assert batch.hist_mask[0].tolist()[:3] == [True, True, False]
    assert batch.hist_category[0, 0] == VOCAB.category.lookup(["hats"])[0]
    assert batch.hist_recency[0, 0] == pytest.approx(np.log1p(1.0))


def test_history_keeps_only_the_last_l_events() -> None:
    events = tuple(HistoryEvent("i1", "shoes", "acme", float(d)) for d in range(100))
    batch = build_batch(_table(), [UserContext(hour=1, weekday=1, history=events)], VOCAB)
    assert batch.hist_mask.shape == (1, FEATURE_SPEC.history_len)
    assert bool(batch.hist_mask.all())
    assert batch.hist_recency[0, -1] == pytest.approx(np.log1p(FEATURE_SPEC.history_len - 1))


@pytest.mark.parametrize("field", ["similarity", "price", "hours_left", "popularity"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_feature_is_refused_with_its_name(field: str, bad: float) -> None:
    values = np.asarray(getattr(_table(), field), dtype=np.float64).copy()
    values[1] = bad
    with pytest.raises(ValueError, match=f"'{field}' holds a non-finite value .* at row 1"):
        build_batch(_table(**{field: values}), [USER], VOCAB)


def test_final_price_above_price_is_refused() -> None:
    with pytest.raises(ValueError, match="'final_price' must lie in"):
        build_batch(_table(final_price=np.full(3, 20_000)), [USER], VOCAB)


def test_wrong_column_length_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'similarity' must have shape \(3,\)"):
        build_batch(_table(similarity=np.ones(2)), [USER], VOCAB)


def test_bad_history_days_are_refused() -> None:
    user = dataclasses.replace(USER, history=(HistoryEvent("i1", "shoes", "acme", np.nan),))
    with pytest.raises(ValueError, match="'days_ago' must be finite"):
        build_batch(_table(), [user], VOCAB)


def test_request_index_is_required_with_several_requests() -> None:
    with pytest.raises(ValueError, match="request_index is required with 2 requests"):
        build_batch(_table(), [USER, USER], VOCAB)
    with pytest.raises(ValueError, match="request_index must have shape"):
        build_batch(_table(), [USER, USER], VOCAB, request_index=[0, 1, 2])


def test_unseen_ids_map_to_oov_and_still_score(trained: TrainResult, world: World) -> None:
    table = _table(item_ids=["new-1", "new-2", "new-3"], categories=["never", "seen", "x"])
    batch = build_batch(table, [UserContext(hour=3, weekday=0, segment="nobody")], world.vocab)
    assert batch.item.tolist() == [OOV_ID] * 3
    assert batch.category.tolist() == [OOV_ID] * 3
    assert batch.segment.tolist() == [OOV_ID]
    scores = trained.model.score(batch)
    assert scores.shape == (3,)
    assert np.isfinite(scores).all() and ((scores > 0) & (scores < 1)).all()


def test_empty_history_is_all_masked_and_scores(trained: TrainResult, world: World) -> None:
    table = _table(item_ids=["item-1", "item-2", "item-3"], categories=["cat-1"] * 3)
    batch = build_batch(table, [UserContext(hour=3, weekday=0, is_new=True)], world.vocab)
    assert not bool(batch.hist_mask.any())
    scores = trained.model.score(batch, "click")
    assert np.isfinite(scores).all()


def test_take_keeps_each_row_with_its_own_request(world: World) -> None:
    batch = world.train.batch
    rows = torch.tensor([5, 4_000, 6, 39_000])
    sub = batch.take(rows)
    assert sub.n_requests == 3
    for i, row in enumerate(rows.tolist()):
        original = int(batch.request_index[row])
        local = int(sub.request_index[i])
        assert torch.equal(sub.hist_item[local], batch.hist_item[original])
        assert torch.equal(sub.numeric[i], batch.numeric[row])
