"""Ranking tasks from snapshots: no leakage, full departments, labels, prices, determinism."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ranking.features import (
    FEATURE_SPEC,
    OOV_ID,
    CandidateTable,
    HistoryEvent,
    UserContext,
    build_batch,
)
from ranking.snapshot import Snapshot, SnapshotError
from ranking.tasks import RankingData, Split, build_task
from tests.ranking._synthetic import make_snapshot

COL = {name: i for i, name in enumerate(FEATURE_SPEC.numeric)}
USER_COL = {name: i for i, name in enumerate(FEATURE_SPEC.user_numeric)}
T0 = datetime(2030, 3, 1, 10, tzinfo=UTC)  # a Friday


def _day(d: int, hour: int = 0) -> datetime:
    return T0 + timedelta(days=d, hours=hour)


# (request, user, item, day, query, shown, click, conversion)
EVENTS: list[tuple[str, str, str, int, str | None, bool, bool, bool]] = [
    ("r1", "u1", "a", 0, None, True, True, True),
    ("r1", "u1", "b", 0, None, True, False, False),  # shown, not clicked: a hard negative
    ("r2", "u1", "c", 1, "q1", True, True, False),
    ("r3", "u2", "d", 2, None, False, False, True),
    ("r4", "u1", "b", 3, None, False, False, True),  # valid
    ("r4", "u1", "d", 3, None, True, True, False),
    ("r5", "u1", "f", 4, None, False, False, True),  # test; f is only ever bought here
    ("r5", "u1", "a", 4, None, True, False, False),
    ("r6", "u1", "e", 5, None, False, True, True),
]


def _snapshot(
    events: list[tuple[str, str, str, int, str | None, bool, bool, bool]] = EVENTS,
    **overrides: Any,
) -> Snapshot:
    cols = list(zip(*events, strict=True))
    tables: dict[str, Any] = {
        "items": {
            "item_id": ["a", "b", "c", "d", "e", "f"],
            "category": ["x", "x", "y", "z", "z", "y"],
            "department": ["D1", "D1", "D1", "D2", "D2", "D1"],
            "brand": ["k", "k", "m", "m", "n", "k"],
            "price": [1000, 2000, 3000, 400, 500, 600],
            "listed_at": [_day(-10), None, _day(-1), _day(-3), _day(0), _day(3)],
            "embedding": pa.FixedSizeListArray.from_arrays(
                pa.array(np.eye(6, 3, dtype=np.float16).ravel()), 3
            ),
        },
        "users": {"user_id": ["u1"], "is_member": [True], "is_new": [False], "segment": ["vip"]},
        "events": {
            "request_id": cols[0],
            "user_id": cols[1],
            "item_id": cols[2],
            "ts": [_day(d) for d in cols[3]],
            "query_id": pa.array(cols[4], pa.string()),
            "shown": cols[5],
            "click": cols[6],
            "conversion": cols[7],
        },
        "prices": {
            "item_id": ["a", "a", "f"],
            "day": [date(2030, 3, 1), date(2030, 3, 5), date(2030, 3, 5)],
            "final_price": [500, 900, 300],
            "has_deal": [True, True, True],
            "needs_claim": [False, True, False],
            "hours_left": pa.array([5.0, 24.0, 2.0], pa.float32()),
        },
        "queries": {
            "query_id": ["q1"],
            "embedding": pa.FixedSizeListArray.from_arrays(
                pa.array(np.array([0.0, 0.6, 0.8], dtype=np.float16)), 3
            ),
        },
    }
    tables.update(overrides)
    return Snapshot.from_pydict(
        **tables, valid_start=_day(3), test_start=_day(4), source="test", task="next-item"
    )


@pytest.fixture(scope="module")
def data() -> RankingData:
    return build_task(_snapshot(), negatives=3, progress=False)


def _rows(split: Split, request: str) -> dict[str, int]:
    """Item id -> row index of the request's rows (first occurrence)."""
    out: dict[str, int] = {}
    for i in np.flatnonzero(split.request_ids == request):
        out.setdefault(str(split.item_ids[i]), int(i))
    return out


def _history_items(split: Split, row: int, data: RankingData) -> set[str]:
    r = int(split.batch.request_index[row])
    ids = split.batch.hist_item[r][split.batch.hist_mask[r]].tolist()
    tokens = ("<pad>", "<oov>", *data.vocab.item.tokens)
    return {tokens[i] for i in ids}


def test_splits_follow_the_request_time(data: RankingData) -> None:
    assert set(data.train.request_ids) == {"r1", "r2", "r3"}
    assert set(data.valid.request_ids) == {"r4"}
    assert set(data.test.request_ids) == {"r5", "r6"}
    assert data.source == "test" and data.task == "next-item"
    # Interactions: the training period's positives, in time order.
    assert data.interactions.item_ids.tolist() == ["a", "c", "d"]
    assert data.interactions.conversion.tolist() == [True, False, True]


def test_history_never_leaks_the_request_or_later(data: RankingData) -> None:
    r1 = _rows(data.train, "r1")
    assert not bool(data.train.batch.hist_mask[int(data.train.batch.request_index[r1["a"]])].any())
    assert _history_items(data.train, _rows(data.train, "r2")["c"], data) == {"a"}
    # r4 (valid) sees a and c, not its own b and d; r5 sees r4's purchases but not r6's e.
    assert _history_items(data.valid, _rows(data.valid, "r4")["b"], data) == {"a", "c"}
    r5 = _rows(data.test, "r5")
    assert _history_items(data.test, r5["f"], data) == {"a", "c", "b", "d"}
    log_len = data.test.batch.user_numeric[:, USER_COL["log_history_len"]]
    assert float(log_len[int(data.test.batch.request_index[r5["f"]])]) == pytest.approx(
        math.log1p(4)
    )
    # u2's history holds nothing of u1's.
    assert _history_items(data.train, _rows(data.train, "r3")["d"], data) == set()


def test_user_item_fields_count_only_earlier_requests(data: RankingData) -> None:
    numeric = data.test.batch.numeric
    r5 = _rows(data.test, "r5")
    # a bought once, 4 days before r5; f never before r5 although r5 buys it.
    assert float(numeric[r5["a"], COL["log_user_item_count"]]) == pytest.approx(math.log1p(1))
    assert float(numeric[r5["a"], COL["user_item_recency"]]) == pytest.approx(1 / 5)
    assert float(numeric[r5["f"], COL["log_user_item_count"]]) == 0.0
    assert float(numeric[r5["f"], COL["user_item_recency"]]) == 0.0
    # History a(x, k), c(y, m), b(x, k), d(z, m): f is in category y and brand k.
    assert float(numeric[r5["f"], COL["user_category_share"]]) == pytest.approx(1 / 4)
    assert float(numeric[r5["f"], COL["user_brand_share"]]) == pytest.approx(2 / 4)


def test_eval_groups_hold_the_whole_department(data: RankingData) -> None:
    test = data.test
    assert test.groups.tolist() == [0, 0, 0, 0, 1, 1]  # contiguous, one per (request, dept)
    assert sorted(test.item_ids[test.groups == 0]) == ["a", "b", "c", "f"]
    assert sorted(test.item_ids[test.groups == 1]) == ["d", "e"]
    labels = dict(
        zip(test.item_ids[test.groups == 0], test.labels[test.groups == 0].tolist(), strict=True)
    )
    assert labels == {"a": [0, 0], "b": [0, 0], "c": [0, 0], "f": [0, 1]}
    assert test.labels[test.groups == 1].tolist() in ([[0, 0], [1, 1]], [[1, 1], [0, 0]])
    # r4 has positives in D1 (b) and D2 (d): two groups.
    assert len(set(data.valid.groups)) == 2


def test_train_rows_positives_hard_and_sampled_negatives(data: RankingData) -> None:
    train = data.train
    rows = np.flatnonzero(train.request_ids == "r1")
    items = train.item_ids[rows].tolist()
    assert items[:2] == ["a", "b"]  # the positive, then the shown-not-clicked item
    assert train.labels[rows[0]].tolist() == [1, 1]
    assert train.labels[rows[1:]].sum() == 0
    # Three sampled negatives from a's department (D1), never a itself.
    assert len(rows) == 2 + 3 and set(items[2:]) <= {"b", "c", "f"}
    r2 = np.flatnonzero(train.request_ids == "r2")
    assert train.labels[r2[0]].tolist() == [1, 0]  # a click without conversion
    assert (np.diff(train.groups) >= 0).all()


def test_history_negatives_are_earlier_items_of_a_positive_department() -> None:
    data = build_task(_snapshot(), negatives=0, history_negatives=5, progress=False)
    r2 = _rows(data.train, "r2")
    # u1 clicked a (D1) in r1, before r2; r2's positive c is in D1 too: a is a negative.
    assert set(r2) == {"c", "a"}
    assert data.train.labels[r2["a"]].tolist() == [0, 0]
    assert set(_rows(data.train, "r1")) == {"a", "b"}  # nothing earlier: no history negative
    assert set(_rows(data.train, "r3")) == {"d"}  # u2 has no history


def test_department_share_one_trains_on_the_evaluations_whole_department_groups() -> None:
    data = build_task(_snapshot(), department_share=1.0, progress=False)
    train = data.train
    # r1 and r2 bought in D1 (a, b, c, f), r3 in D2 (d, e): every item of the department.
    assert {r: set(_rows(train, r)) for r in ("r1", "r2", "r3")} == {
        "r1": {"a", "b", "c", "f"},
        "r2": {"a", "b", "c", "f"},
        "r3": {"d", "e"},
    }
    assert len(train) == 10  # no (request, item) twice
    assert train.labels.sum(axis=0).tolist() == [2, 2]  # a (click + buy), c (click), d (buy)
    assert train.sample_log_q is not None and not train.sample_log_q.any()
    assert len(np.unique(train.groups)) == 3 and (np.diff(train.groups) >= 0).all()


def test_department_share_keeps_every_earlier_item_of_the_department_and_samples_the_rest() -> None:
    snap = make_snapshot(n_requests=400, seed=3)
    share = 0.3
    data = build_task(snap, department_share=share, seed=2, progress=False)
    train = data.train
    events = snap.events.to_pylist()
    department = dict(
        zip(
            snap.items.column("item_id").to_pylist(),
            snap.items.column("department").to_pylist(),
            strict=True,
        )
    )
    positive = [e for e in events if e["click"] or e["conversion"]]
    request_ts = {}
    for e in events:
        request_ts[e["request_id"]] = min(e["ts"], request_ts.get(e["request_id"], e["ts"]))
    pairs = list(zip(train.request_ids.tolist(), train.item_ids.tolist(), strict=True))
    assert len(set(pairs)) == len(pairs)  # no (request, item) twice
    assert train.sample_log_q is not None
    sampled = np.isclose(train.sample_log_q, math.log(share))
    assert (sampled | (train.sample_log_q == 0)).all()
    checked, others, drawn = 0, 0, 0
    for request in np.unique(train.request_ids).tolist():
        rows = np.flatnonzero(train.request_ids == request)
        user = str(train.user_ids[rows[0]])
        bought = {e["item_id"] for e in positive if e["request_id"] == request}
        departments = {department[i] for i in bought}
        earlier = {
            e["item_id"]
            for e in positive
            if e["user_id"] == user
            and e["ts"] < request_ts[request]
            and department[e["item_id"]] in departments
        }
        items = dict(zip(train.item_ids[rows].tolist(), rows.tolist(), strict=True))
        assert {department[i] for i in items} == departments
        assert bought | earlier <= set(items)  # kept with certainty, log q = 0
        assert not sampled[[items[i] for i in bought | earlier]].any()
        assert (train.labels[rows].max(axis=1) > 0).sum() == len(bought)
        in_departments = sum(department[i] in departments for i in department)
        others += in_departments - len(bought | earlier)
        drawn += int(sampled[rows].sum())
        checked += bool(earlier)
    assert checked > 50  # most requests have earlier items in the department
    assert 0.25 < drawn / others < 0.35  # the share of the rest, drawn uniformly


def test_popular_negatives_follow_popularity_within_the_department() -> None:
    snap = make_snapshot(n_requests=400, seed=3)
    col = COL["log_popularity"]

    def mean_popularity(share: float) -> float:
        data = build_task(snap, negatives=5, popular_negatives=share, seed=1, progress=False)
        negative = data.train.labels.max(axis=1) == 0
        return float(data.train.batch.numeric[negative, col].mean())

    assert mean_popularity(1.0) > mean_popularity(0.0)
    with pytest.raises(ValueError, match="popular_negatives"):
        build_task(snap, popular_negatives=1.5, progress=False)
    with pytest.raises(ValueError, match="history_negatives"):
        build_task(snap, history_negatives=-1, progress=False)
    with pytest.raises(ValueError, match="department_share"):
        build_task(snap, department_share=1.5, progress=False)


def test_prices_come_from_the_request_day_for_every_row(data: RankingData) -> None:
    train, test = data.train, data.test
    a_r1 = _rows(train, "r1")["a"]
    assert float(train.batch.numeric[a_r1, COL["log_final_price"]]) == pytest.approx(
        math.log1p(500)
    )
    assert float(train.batch.numeric[a_r1, COL["has_deal"]]) == 1.0
    r5 = _rows(test, "r5")
    # Day 4 (2030-03-05): a at 900 and needs a claim; f (the positive) at 300; b: list price.
    assert float(test.batch.numeric[r5["a"], COL["log_final_price"]]) == pytest.approx(
        math.log1p(900)
    )
    assert float(test.batch.numeric[r5["a"], COL["needs_claim"]]) == 1.0
    assert float(test.batch.numeric[r5["f"], COL["discount_depth"]]) == pytest.approx(0.5)
    assert float(test.batch.numeric[r5["b"], COL["has_deal"]]) == 0.0
    # The valid day (2030-03-04) has no price row for a: list price, no deal.
    a_r6 = np.flatnonzero(test.request_ids == "r6")
    assert len(a_r6) == 2


def test_similarity_popularity_and_freshness(data: RankingData) -> None:
    train = data.train
    c_r2 = _rows(train, "r2")["c"]
    # r2 has query q1 = (0, .6, .8); c's embedding is (0, 0, 1).
    assert float(train.batch.numeric[c_r2, COL["similarity"]]) == pytest.approx(0.8, abs=1e-3)
    # r4 has no query: the history (a, c) mean (1, 0, 1)/sqrt2 against b = (0, 1, 0) and d.
    b_r4 = _rows(data.valid, "r4")["b"]
    assert float(data.valid.batch.numeric[b_r4, COL["similarity"]]) == pytest.approx(0.0)
    # Popularity: positives before valid_start (a, c, d once each).
    r5 = _rows(data.test, "r5")
    assert float(data.test.batch.numeric[r5["a"], COL["log_popularity"]]) == pytest.approx(
        math.log1p(1)
    )
    assert float(data.test.batch.numeric[r5["b"], COL["log_popularity"]]) == 0.0
    # b has no listing time: 365 days.
    assert float(data.test.batch.numeric[r5["b"], COL["log_freshness_days"]]) == pytest.approx(
        math.log1p(365)
    )


def test_cold_start_item_and_unknown_user(data: RankingData) -> None:
    r5 = _rows(data.test, "r5")
    assert int(data.test.batch.item[r5["f"]]) == OOV_ID  # never seen in training
    assert int(data.test.batch.item[r5["a"]]) != OOV_ID
    r3 = data.train.batch.request_index[_rows(data.train, "r3")["d"]]
    member = data.train.batch.user_numeric[int(r3), USER_COL["is_member"]]
    assert float(member) == 0.0  # u2 is not in users: defaults


def test_request_time_features(data: RankingData) -> None:
    r = int(data.train.batch.request_index[_rows(data.train, "r1")["a"]])
    user = data.train.batch.user_numeric[r]
    assert float(user[USER_COL["hour_sin"]]) == pytest.approx(math.sin(2 * math.pi * 10 / 24))
    assert float(user[USER_COL["weekday_sin"]]) == pytest.approx(math.sin(2 * math.pi * 4 / 7))


def test_recent_train_share_keeps_the_end_of_the_training_period() -> None:
    snap = make_snapshot(n_requests=400, seed=3)
    _, _, req_ts, _ = _plain_events(snap)
    full = build_task(snap, negatives=2, progress=False)
    recent = build_task(snap, negatives=2, recent_train_share=0.25, progress=False)
    times = [req_ts[r] for r in np.unique(full.train.request_ids).tolist()]
    cut = snap.valid_start - 0.25 * (snap.valid_start - min(req_ts.values()))
    kept = {r for r in np.unique(full.train.request_ids).tolist() if req_ts[r] >= cut}
    assert set(recent.train.request_ids.tolist()) == kept
    assert 0 < len(kept) < len(times) / 2
    # Evaluation is untouched.
    assert np.array_equal(recent.test.item_ids, full.test.item_ids)
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="recent_train_share"):
            build_task(snap, recent_train_share=bad, progress=False)


def test_popularity_days_counts_the_days_before_each_request() -> None:
    data = build_task(_snapshot(), negatives=3, popularity_days=2, progress=False)

    def count(request: str, item: str) -> int:
        row = _rows(data.test, request)[item]
        return round(math.expm1(float(data.test.batch.numeric[row, COL["log_popularity"]])))

    # r5 (day 4) counts days 2 to 4: b's purchase in r4 (a valid request, but before r5)
    # counts; a's click on day 0 no longer does; f's only purchase is r5's own.
    assert (count("r5", "a"), count("r5", "b"), count("r5", "c"), count("r5", "f")) == (0, 1, 0, 0)
    # r6 (day 5): d's click in r4 (day 3) counts, e's own purchase does not.
    assert (count("r6", "d"), count("r6", "e")) == (1, 0)
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="popularity_days"):
            build_task(_snapshot(), popularity_days=bad, progress=False)


def test_same_seed_same_rows_other_seed_other_negatives() -> None:
    snap = make_snapshot(n_requests=400, seed=3)
    a, b = (build_task(snap, negatives=5, seed=1, progress=False) for _ in range(2))
    c = build_task(snap, negatives=5, seed=2, progress=False)
    for name in ("train", "valid", "test"):
        sa, sb = getattr(a, name), getattr(b, name)
        assert np.array_equal(sa.item_ids, sb.item_ids)
        assert np.array_equal(sa.labels, sb.labels)
        assert np.array_equal(sa.batch.numeric.numpy(), sb.batch.numeric.numpy())
    assert not np.array_equal(a.train.item_ids, c.train.item_ids)


def test_caps_sample_requests_and_groups() -> None:
    snap = make_snapshot(n_requests=400, seed=3)
    full = build_task(snap, negatives=2, max_eval_groups=None, progress=False)
    capped = build_task(
        snap, negatives=2, max_train_positives=50, max_eval_groups=10, progress=False
    )
    assert int(capped.train.labels.max(axis=1).sum()) <= 50
    assert len(np.unique(capped.test.groups)) == 10
    assert len(np.unique(full.test.groups)) > 10
    assert set(capped.test.request_ids) <= set(full.test.request_ids)


def _plain_events(
    snap: Snapshot,
) -> tuple[dict[str, str], dict[str, str], dict[str, datetime], list[tuple[str, str, datetime]]]:
    """The snapshot as plain Python, for brute-force checks: each item's category and brand,
    each request's time (its earliest event) and the positive events as (user, item, ts)."""
    ev = snap.events.to_pydict()
    items = snap.items.to_pydict()
    cat = dict(zip(items["item_id"], items["category"], strict=True))
    brand = dict(zip(items["item_id"], items["brand"], strict=True))
    req_ts: dict[str, datetime] = {}
    for r, t in zip(ev["request_id"], ev["ts"], strict=True):
        req_ts[r] = min(t, req_ts.get(r, t))
    positives = [
        (u, i, t)
        for u, i, t, c, v in zip(
            ev["user_id"], ev["item_id"], ev["ts"], ev["click"], ev["conversion"], strict=True
        )
        if c or v
    ]
    return cat, brand, req_ts, positives


def test_row_features_match_brute_force_history() -> None:
    """The vectorised user-item fields against a plain loop over the events."""
    snap = make_snapshot(n_requests=300, seed=5)
    data = build_task(snap, negatives=2, progress=False)
    cat, _, req_ts, positives = _plain_events(snap)
    split = data.test
    rng = np.random.default_rng(0)
    for row in rng.choice(len(split), size=60, replace=False):
        user, item, t = split.user_ids[row], split.item_ids[row], req_ts[split.request_ids[row]]
        hist = [(i, ts) for u, i, ts in positives if u == user and ts < t]
        same = [ts for i, ts in hist if i == item]
        days = (t - max(same)).total_seconds() / 86_400 if same else None
        got = split.batch.numeric[row]
        assert float(got[COL["log_user_item_count"]]) == pytest.approx(math.log1p(len(same)))
        assert float(got[COL["user_item_recency"]]) == pytest.approx(
            0.0 if days is None else 1 / (1 + days), abs=1e-6
        )
        share = sum(cat[i] == cat[item] for i, _ in hist) / max(len(hist), 1)
        assert float(got[COL["user_category_share"]]) == pytest.approx(share, abs=1e-6)
        r = int(split.batch.request_index[row])
        assert int(split.batch.hist_mask[r].sum()) == min(len(hist), FEATURE_SPEC.history_len)
        in_cat = [ts for i, ts in hist if cat[i] == cat[item]]
        cat_days = (t - max(in_cat)).total_seconds() / 86_400 if in_cat else None
        assert float(got[COL["user_category_recency"]]) == pytest.approx(
            0.0 if cat_days is None else 1 / (1 + cat_days), abs=1e-6
        )
        repeats = len(hist) - len({i for i, _ in hist})
        assert float(split.batch.user_numeric[r, USER_COL["user_repeat_share"]]) == pytest.approx(
            repeats / max(len(hist), 1), abs=1e-6
        )
        expected_fr = (
            math.log1p(len(same)) + (0.0 if days is None else 1 / (1 + days)) + 0.25 * share
        )
        assert float(got[COL["freq_recency"]]) == pytest.approx(expected_fr, abs=1e-4)


def test_item_repeat_rate_counts_the_training_period_only() -> None:
    """Buyers and repeat buyers before valid_start, smoothed towards their overall rate; what
    happens in valid and test changes nothing, unseen items get the overall rate."""
    snap = make_snapshot(n_requests=300, seed=5)
    data = build_task(snap, negatives=2, progress=False)
    ev = snap.events.to_pydict()
    counts: dict[str, dict[str, int]] = {}
    for u, i, t, c, v in zip(
        ev["user_id"], ev["item_id"], ev["ts"], ev["click"], ev["conversion"], strict=True
    ):
        if (c or v) and t < snap.valid_start:
            counts.setdefault(i, {}).setdefault(u, 0)
            counts[i][u] += 1
    buyers = {i: len(us) for i, us in counts.items()}
    repeat = {i: sum(n >= 2 for n in us.values()) for i, us in counts.items()}
    prior = sum(repeat.values()) / sum(buyers.values())
    assert 0 < prior < 1
    assert data.vocab.repeat_prior == pytest.approx(prior)
    for split in (data.train, data.valid, data.test):
        rates = split.batch.numeric[:, COL["item_repeat_rate"]].numpy()
        for row in range(0, len(split), max(1, len(split) // 50)):
            item = str(split.item_ids[row])
            known = int(split.batch.item[row]) != OOV_ID
            b, r = (buyers.get(item, 0), repeat.get(item, 0)) if known else (0, 0)
            assert rates[row] == pytest.approx((r + 5 * prior) / (b + 5), abs=1e-6)
    # Later events do not move the rates: buying every valid and test item again (a second
    # request a second later) leaves the vocabularies as they were.
    events = snap.events
    later = events.filter(pc.greater_equal(events["ts"], pa.scalar(snap.valid_start)))
    copies = later.set_column(
        later.schema.get_field_index("request_id"),
        "request_id",
        pc.binary_join_element_wise(later["request_id"], "again", "-"),
    ).set_column(
        later.schema.get_field_index("ts"),
        "ts",
        pc.add(later["ts"], pa.scalar(timedelta(seconds=1))),
    )
    both = pa.concat_tables([events, copies]).sort_by("ts")
    again = build_task(dataclasses.replace(snap, events=both), negatives=2, progress=False)
    assert again.vocab.item_repeat_rate == data.vocab.item_repeat_rate


def test_task_rows_and_serving_build_the_same_features() -> None:
    """Parity: a task row's features equal :func:`build_batch` on the same history given as
    :class:`HistoryEvent` tuples (what serving passes), for every numeric column."""
    snap = make_snapshot(n_requests=300, seed=5)
    data = build_task(snap, negatives=2, progress=False)
    cat, brand, req_ts, positives = _plain_events(snap)
    split = data.test
    rng = np.random.default_rng(1)
    for row in rng.choice(len(split), size=30, replace=False):
        user, item, t = split.user_ids[row], split.item_ids[row], req_ts[split.request_ids[row]]
        history = tuple(
            HistoryEvent(i, cat[i], brand[i], (t - ts).total_seconds() / 86_400)
            for u, i, ts in positives
            if u == user and ts < t
        )
        got = split.batch.numeric[row].numpy()
        served = build_batch(
            CandidateTable(
                item_ids=[item],
                categories=[cat[item]],
                brands=[brand[item]],
                similarity=np.zeros(1),
                price=np.full(1, 1000),
                final_price=np.full(1, 1000),
                has_deal=np.zeros(1),
                needs_claim=np.zeros(1),
                hours_left=np.zeros(1),
                popularity=np.expm1(got[COL["log_popularity"]].astype(np.float64))[None],
                freshness_days=np.zeros(1),
            ),
            [UserContext(hour=0, weekday=0, history=history)],
            data.vocab,
        )
        r = int(split.batch.request_index[row])
        # Every user-item column: the schema's numeric fields from log_user_item_count on.
        for name in FEATURE_SPEC.numeric[COL["log_user_item_count"] :]:
            assert float(served.numeric[0, COL[name]]) == pytest.approx(
                float(got[COL[name]]), abs=1e-4
            ), name
        for name in ("log_history_len", "user_repeat_share"):
            assert float(served.user_numeric[0, USER_COL[name]]) == pytest.approx(
                float(split.batch.user_numeric[r, USER_COL[name]]), abs=1e-5
            ), name


def test_impressions_task_rows_are_the_shown_events() -> None:
    snap = _snapshot()
    snap = Snapshot.build(
        items=snap.items,
        users=snap.users,
        events=snap.events,
        valid_start=_day(3),
        test_start=_day(4),
        source="test",
        task="impressions",
    )
    data = build_task(snap, progress=False)
    assert data.task == "impressions"
    assert list(data.train.request_ids) == ["r1", "r1", "r2"]
    assert data.train.labels.tolist() == [[1, 1], [0, 0], [1, 0]]
    assert data.train.groups.tolist() == [0, 0, 1]
    assert list(data.test.item_ids) == ["a"]


def test_nan_in_a_snapshot_column_is_refused() -> None:
    prices = {
        "item_id": ["a"],
        "day": [date(2030, 3, 1)],
        "final_price": [500],
        "has_deal": [True],
        "needs_claim": [False],
        "hours_left": pa.array([float("nan")], pa.float32()),
    }
    with pytest.raises(SnapshotError, match=r"prices\.hours_left: NaN or inf at row 0"):
        build_task(_snapshot(prices=prices), progress=False)
    emb = np.eye(6, 3, dtype=np.float16)
    emb[2, 1] = np.nan
    items = dict(_snapshot_items())
    items["embedding"] = pa.FixedSizeListArray.from_arrays(pa.array(emb.ravel()), 3)
    with pytest.raises(SnapshotError, match=r"items\.embedding: NaN or inf in row 2"):
        build_task(_snapshot(items=items), progress=False)


def _snapshot_items() -> dict[str, Any]:
    return {
        "item_id": ["a", "b", "c", "d", "e", "f"],
        "category": ["x", "x", "y", "z", "z", "y"],
        "department": ["D1", "D1", "D1", "D2", "D2", "D1"],
        "brand": ["k", "k", "m", "m", "n", "k"],
        "price": [1000, 2000, 3000, 400, 500, 600],
    }


def test_events_of_unknown_items_and_empty_training_are_refused() -> None:
    bad = [*EVENTS, ("r7", "u1", "zz", 5, None, False, True, True)]
    with pytest.raises(SnapshotError, match="events.item_id: 1 id\\(s\\) not in items, e.g. 'zz'"):
        build_task(_snapshot(bad), progress=False)
    late = [e for e in EVENTS if e[3] >= 3]
    with pytest.raises(SnapshotError, match="no training rows before valid_start"):
        build_task(_snapshot(late), progress=False)
    with pytest.raises(ValueError, match="negatives must be >= 0"):
        build_task(_snapshot(), negatives=-1, progress=False)


def test_similarity_without_any_query_uses_the_history() -> None:
    # Organic baskets (The Complete Journey): no event has a query, items have embeddings.
    snap = _snapshot(queries=None)
    snap = Snapshot.from_pydict(
        items=snap.items.to_pydict(),
        users=snap.users.to_pydict(),
        events={**snap.events.to_pydict(), "query_id": pa.nulls(snap.events.num_rows, pa.string())},
        valid_start=snap.valid_start,
        test_start=snap.test_start,
        source="test",
    )
    data = build_task(snap, negatives=3, progress=False)
    sims = np.concatenate(
        [s.batch.numeric[:, COL["similarity"]].numpy() for s in (data.train, data.valid)]
    )
    assert np.isfinite(sims).all()
    assert (sims != 0).any()  # history means against item embeddings
