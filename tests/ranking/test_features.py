"""Features from plain inputs: validation, cold start, empty history, batching."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from ranking.features import (
    FEATURE_SPEC,
    FREQUENCY_RECENCY_WEIGHTS,
    OOV_ID,
    PAD_ID,
    CandidateTable,
    HistoryArrays,
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


COL = {name: i for i, name in enumerate(FEATURE_SPEC.numeric)}


def _user_item(batch_numeric: torch.Tensor, name: str) -> list[float]:
    return [round(float(v), 6) for v in batch_numeric[:, COL[name]]]


def test_user_item_fields_from_the_history() -> None:
    user = dataclasses.replace(
        USER, history=(*USER.history, HistoryEvent("i1", "shoes", "other", 10.0))
    )
    batch = build_batch(_table(item_ids=["i1", "i2", "i3"]), [user], VOCAB)
    numeric = batch.numeric
    assert _user_item(numeric, "log_user_item_count") == pytest.approx(
        [np.log1p(2), np.log1p(1), 0.0], abs=1e-6
    )
    # i1's most recent event is 3 days ago, not 10; i3 never happened.
    assert _user_item(numeric, "user_item_recency") == pytest.approx([0.25, 0.5, 0.0], abs=1e-6)
    # Categories shoes, hats, shoes against a history of 2 shoes + 1 hat.
    assert _user_item(numeric, "user_category_share") == pytest.approx(
        [2 / 3, 1 / 3, 2 / 3], abs=1e-6
    )
    assert _user_item(numeric, "user_brand_share") == pytest.approx([2 / 3] * 3, abs=1e-6)


def test_user_item_fields_use_the_full_history_not_only_the_last_l() -> None:
    events = tuple(HistoryEvent("i1", "shoes", "acme", float(d)) for d in range(100))
    user = UserContext(hour=1, weekday=1, history=events)
    batch = build_batch(_table(), [user], VOCAB)
    assert int(batch.hist_mask.sum()) == FEATURE_SPEC.history_len
    assert float(batch.numeric[0, COL["log_user_item_count"]]) == pytest.approx(np.log1p(100))
    log_len = FEATURE_SPEC.user_numeric.index("log_history_len")
    assert float(batch.user_numeric[0, log_len]) == pytest.approx(np.log1p(100))


def test_unseen_items_match_only_themselves() -> None:
    user = UserContext(hour=1, weekday=1, history=(HistoryEvent("new-a", "x", "y", 1.0),))
    batch = build_batch(_table(item_ids=["new-a", "new-b", "i1"]), [user], VOCAB)
    assert batch.item.tolist() == [OOV_ID, OOV_ID, VOCAB.item.lookup(["i1"])[0]]
    assert _user_item(batch.numeric, "user_item_recency") == pytest.approx([0.5, 0.0, 0.0])


def test_empty_history_has_zero_user_item_fields() -> None:
    batch = build_batch(_table(), [UserContext(hour=1, weekday=1)], VOCAB)
    for name in ("log_user_item_count", "user_item_recency", "user_category_share"):
        assert _user_item(batch.numeric, name) == [0.0, 0.0, 0.0]


def test_user_item_fields_are_per_request() -> None:
    other = UserContext(hour=1, weekday=1, history=(HistoryEvent("i2", "hats", "acme", 0.0),))
    batch = build_batch(_table(), [USER, other], VOCAB, request_index=[0, 1, 1])
    assert _user_item(batch.numeric, "user_item_recency") == pytest.approx([0.25, 1.0, 0.0])


def test_history_arrays_give_the_same_batch_as_history_events() -> None:
    length = FEATURE_SPEC.history_len
    ids = np.full((3, 1, length), PAD_ID)
    days = np.zeros((1, length))
    # USER's history, most recent first: i2 (hats, 1 day), i1 (shoes, 3 days).
    ids[:, 0, :2] = [
        VOCAB.item.lookup(["i2", "i1"]),
        VOCAB.category.lookup(["hats", "shoes"]),
        VOCAB.brand.lookup(["acme", "acme"]),
    ]
    days[0, :2] = [1.0, 3.0]
    arrays = HistoryArrays(
        item=ids[0],
        category=ids[1],
        brand=ids[2],
        days_ago=days,
        length=np.array([2]),
        item_count=np.array([1.0, 1.0, 1.0]),
        item_days=np.array([3.0, 1.0, 3.0]),
        item_first_days=np.array([3.0, 1.0, 3.0]),
        category_count=np.array([1.0, 1.0, 1.0]),
        brand_count=np.array([2.0, 2.0, 2.0]),
        category_days=np.array([3.0, 1.0, 3.0]),
        distinct_items=np.array([2]),
    )
    bare = dataclasses.replace(USER, history=())
    from_arrays = build_batch(_table(), [bare], VOCAB, history=arrays)
    from_events = build_batch(_table(), [USER], VOCAB)
    for name in ("numeric", "user_numeric", "hist_item", "hist_brand", "hist_recency", "hist_mask"):
        torch.testing.assert_close(getattr(from_arrays, name), getattr(from_events, name))
    with pytest.raises(ValueError, match="either in the requests or as `history`"):
        build_batch(_table(), [USER], VOCAB, history=arrays)
    with pytest.raises(ValueError, match="'item_count' must have shape"):
        build_batch(
            _table(), [bare], VOCAB, history=dataclasses.replace(arrays, item_count=np.ones(2))
        )
    with pytest.raises(ValueError, match="'item_first_days' must be >= 'item_days'"):
        build_batch(
            _table(),
            [bare],
            VOCAB,
            history=dataclasses.replace(arrays, item_first_days=np.array([2.0, 1.0, 3.0])),
        )


# --- schema 3: frequency-recency, category recency, repeat rates ---------------------------

REPEAT_VOCAB = Vocabularies.fit(
    items=["i1", "i2", "i3"],
    categories=["shoes", "hats"],
    brands=["acme"],
    segments=[],
    item_buyers={"i1": (10, 5), "i2": (10, 0)},
)
USER_COL = {name: i for i, name in enumerate(FEATURE_SPEC.user_numeric)}


def test_item_repeat_rate_is_smoothed_and_unseen_items_get_the_prior() -> None:
    prior = 5 / 20
    assert REPEAT_VOCAB.repeat_prior == pytest.approx(prior)
    cands = _table(item_ids=["i1", "i3", "new"])
    batch = build_batch(cands, [UserContext(hour=1, weekday=1)], REPEAT_VOCAB)
    # i1: (5 + 5 * prior) / (10 + 5); i3 is known but had no buyer; "new" is out of vocabulary.
    assert _user_item(batch.numeric, "item_repeat_rate") == pytest.approx(
        [(5 + 5 * prior) / 15, prior, prior], abs=1e-6
    )
    # No buyers at all (an empty training period): 0 everywhere, still finite.
    assert build_batch(cands, [UserContext(hour=1, weekday=1)], VOCAB).numeric.isfinite().all()


def test_repeat_rates_survive_the_artifact_json() -> None:
    again = Vocabularies.from_json(REPEAT_VOCAB.to_json())
    assert again == REPEAT_VOCAB
    assert again.repeat_rates(np.array([OOV_ID, 2])).tolist() == pytest.approx(
        REPEAT_VOCAB.repeat_rates(np.array([OOV_ID, 2])).tolist()
    )


def test_bad_repeat_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="item_repeat_rate has 1 values for 2 items"):
        dataclasses.replace(VOCAB, item_repeat_rate=(0.5,))
    with pytest.raises(ValueError, match="must be finite"):
        dataclasses.replace(VOCAB, item_repeat_rate=(np.nan, 0.1))


def test_frequency_recency_feature_is_the_baselines_formula() -> None:
    from ranking.baselines import FrequencyRecencyBaseline

    batch = build_batch(_table(), [USER], VOCAB)
    expected = (
        np.array(_user_item(batch.numeric, "log_user_item_count"))
        + np.array(_user_item(batch.numeric, "user_item_recency"))
        + 0.25 * np.array(_user_item(batch.numeric, "user_category_share"))
        + 1e-6 * np.array(_user_item(batch.numeric, "log_popularity"))
    )
    assert _user_item(batch.numeric, "freq_recency") == pytest.approx(expected, abs=1e-5)
    assert FrequencyRecencyBaseline().weights == FREQUENCY_RECENCY_WEIGHTS


def _acme_user(*events: tuple[str, str, float]) -> UserContext:
    """A user whose history is these (item, category, days ago) events, all of brand acme."""
    history = tuple(HistoryEvent(item, cat, "acme", days) for item, cat, days in events)
    return UserContext(hour=1, weekday=1, history=history)


def test_category_recency_and_repeat_share_from_the_history() -> None:
    user = _acme_user(
        ("i1", "shoes", 1.0),
        ("i1", "shoes", 4.0),
        ("unseen", "shoes", 2.0),
        ("unseen", "shoes", 3.0),
    )
    batch = build_batch(_table(), [user], VOCAB)
    # Candidates i1 (shoes), i2 (hats), i1: the last shoes event was a day ago; no hats.
    assert _user_item(batch.numeric, "user_category_recency") == pytest.approx([0.5, 0.0, 0.5])
    # Two of four events repeat an earlier item (an unseen item repeats itself, too).
    assert float(batch.user_numeric[0, USER_COL["user_repeat_share"]]) == pytest.approx(0.5)


def test_cold_start_user_gets_documented_values() -> None:
    batch = build_batch(_table(), [UserContext(hour=1, weekday=1)], REPEAT_VOCAB)
    assert _user_item(batch.numeric, "user_category_recency") == [0.0, 0.0, 0.0]
    assert float(batch.user_numeric[0, USER_COL["user_repeat_share"]]) == 0.0
    # Only the popularity tie-break is left of frequency-recency.
    expected = 1e-6 * np.log1p(np.arange(3))
    got = batch.numeric[:, COL["freq_recency"]].double().numpy()
    assert got == pytest.approx(expected, abs=1e-8)
    assert bool(batch.numeric.isfinite().all())


# --- schema 4: the user-item purchase cycle --------------------------------------------------


def test_purchase_cycle_columns_from_the_history() -> None:
    """i1 bought 20, 13 and 6 days ago (every 7 days, last 6 days ago: nearly due again); i2
    once, 2 days ago; i3 never."""
    user = _acme_user(
        ("i1", "shoes", 6.0), ("i2", "hats", 2.0), ("i1", "shoes", 20.0), ("i1", "shoes", 13.0)
    )
    batch = build_batch(_table(item_ids=["i1", "i2", "i3"]), [user], VOCAB)
    assert _user_item(batch.numeric, "user_item_rate") == pytest.approx(
        [np.log1p(7 * 3 / 21), np.log1p(7 * 1 / 3), 0.0], abs=1e-5
    )
    assert _user_item(batch.numeric, "user_item_log_gap") == pytest.approx(
        [np.log1p(7.0), 0.0, 0.0], abs=1e-5
    )
    assert _user_item(batch.numeric, "user_item_due") == pytest.approx(
        [np.log1p(6 / 8), 0.0, 0.0], abs=1e-5
    )
    assert _user_item(batch.numeric, "user_item_repeated") == [1.0, 0.0, 0.0]
    assert _user_item(batch.numeric, "user_item_log_age") == pytest.approx(
        [np.log1p(20.0), np.log1p(2.0), 0.0], abs=1e-5
    )
    # Only the last 30 events form the sequence, but the cycle reads the full history.
    far = build_batch(
        _table(), [_acme_user(*(("i1", "shoes", 2.0 * d) for d in range(1, 101)))], VOCAB
    )
    assert _user_item(far.numeric, "user_item_log_age")[0] == pytest.approx(np.log1p(200.0))
    assert _user_item(far.numeric, "user_item_log_gap")[0] == pytest.approx(np.log1p(2.0))
