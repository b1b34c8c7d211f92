"""Baselines on a small synthetic task where repurchase and a user-item block structure drive
clicks and popularity is noise.

Users fall into blocks; each buys mostly from a few favourite items of their block. A candidate
is clicked more often when the user bought it before and when it lies in the user's block.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import torch

from ranking import baselines
from ranking.baselines import BASELINES, GRIDS, tune
from ranking.features import FEATURE_SPEC, Batch, Vocabularies
from ranking.metrics import ndcg_at_k
from ranking.tasks import Interactions, RankingData, Split

pytestmark = [
    # implicit warns when OpenBLAS may use threads (a speed hint, see AlsBaseline); results are
    # the same either way, and the test process cannot set OPENBLAS_NUM_THREADS before numpy.
    pytest.mark.filterwarnings("ignore:OpenBLAS is configured to use \\d+ threads:RuntimeWarning"),
]

V2_COLUMNS = ("log_user_item_count", "user_item_recency", "user_category_share")
HAS_V2 = all(name in FEATURE_SPEC.numeric for name in V2_COLUMNS)
needs_v2 = pytest.mark.skipif(not HAS_V2, reason="feature schema v2 columns not there yet")

N_USERS, N_ITEMS, N_BLOCKS, N_CATEGORIES, N_BRANDS = 40, 60, 4, 6, 8
NOW_DAYS = 60.0
US_PER_DAY = 86_400 * 1_000_000


def _users_items(rng: np.random.Generator) -> dict[str, Any]:
    item_block = np.arange(N_ITEMS) % N_BLOCKS
    user_block = np.arange(N_USERS) % N_BLOCKS
    favourites = [
        rng.choice(np.flatnonzero(item_block == user_block[u]), size=5, replace=False)
        for u in range(N_USERS)
    ]
    events: list[tuple[int, int, float]] = []  # user, item, day
    for u in range(N_USERS):
        for _ in range(10):
            i = (
                int(rng.choice(favourites[u]))
                if rng.random() < 0.85
                else int(rng.integers(N_ITEMS))
            )
            events.append((u, i, float(rng.uniform(0.0, NOW_DAYS))))
    events.sort(key=lambda e: e[2])
    return {
        "item_block": item_block,
        "user_block": user_block,
        "category": np.arange(N_ITEMS) % N_CATEGORIES,
        "brand": rng.integers(0, N_BRANDS, N_ITEMS),
        "popularity": rng.integers(0, 50, N_ITEMS),
        "events": events,
    }


def _split(
    rng: np.random.Generator, world: dict[str, Any], vocab: Vocabularies, per_user: int, k: int
) -> Split:
    events = world["events"]
    count = np.zeros((N_USERS, N_ITEMS))
    last_day = np.full((N_USERS, N_ITEMS), -1.0)
    for u, i, day in events:
        count[u, i] += 1
        last_day[u, i] = max(last_day[u, i], day)
    cat_share = np.zeros((N_USERS, N_CATEGORIES))
    brand_share = np.zeros((N_USERS, N_BRANDS))
    for u, i, _ in events:
        cat_share[u, world["category"][i]] += 0.1
        brand_share[u, world["brand"][i]] += 0.1

    rows_u: list[int] = []
    rows_i: list[int] = []
    request_index: list[int] = []
    for r in range(N_USERS * per_user):
        u = r % N_USERS
        for i in rng.choice(N_ITEMS, size=k, replace=False):
            rows_u.append(u)
            rows_i.append(int(i))
            request_index.append(r)
    u_arr, i_arr = np.array(rows_u), np.array(rows_i)
    n, n_req = len(u_arr), N_USERS * per_user
    bought = count[u_arr, i_arr] > 0
    in_block = world["item_block"][i_arr] == world["user_block"][u_arr]
    logit = -3.0 + 3.0 * bought + 1.5 * in_block
    click = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    labels = np.stack([click, click & (rng.random(n) < 0.3)], axis=1).astype(np.float32)

    price = rng.uniform(100, 5000, n)
    final = price * rng.uniform(0.5, 1.0, n)
    last = last_day[u_arr, i_arr]
    columns = {
        "similarity": 0.3 * in_block + rng.normal(0.0, 0.3, n),
        "log_price": np.log1p(price),
        "log_final_price": np.log1p(final),
        "discount_depth": 1.0 - final / price,
        "has_deal": (final < price).astype(float),
        "hours_left": rng.uniform(0, 1, n),
        "log_popularity": np.log1p(world["popularity"][i_arr]),
        "log_freshness_days": np.log1p(rng.uniform(0, 300, n)),
        "log_user_item_count": np.log1p(count[u_arr, i_arr]),
        "user_item_recency": np.where(last >= 0, 1.0 / (1.0 + NOW_DAYS - last), 0.0),
        "user_category_share": cat_share[u_arr, world["category"][i_arr]],
        "user_brand_share": brand_share[u_arr, world["brand"][i_arr]],
    }
    numeric = np.stack([columns.get(c, np.zeros(n)) for c in FEATURE_SPEC.numeric], axis=1)

    length = FEATURE_SPEC.history_len
    hist = np.zeros((3, n_req, length), dtype=np.int64)
    recency = np.zeros((n_req, length), dtype=np.float32)
    mask = np.zeros((n_req, length), dtype=bool)
    for r in range(n_req):
        mine = [(i, day) for uu, i, day in events if uu == r % N_USERS][::-1][:length]
        items = [f"item-{i}" for i, _ in mine]
        hist[0, r, : len(mine)] = vocab.item.lookup(items)
        hist[1, r, : len(mine)] = vocab.category.lookup(
            f"cat-{world['category'][i]}" for i, _ in mine
        )
        hist[2, r, : len(mine)] = vocab.brand.lookup(f"brand-{world['brand'][i]}" for i, _ in mine)
        recency[r, : len(mine)] = np.log1p([NOW_DAYS - day for _, day in mine])
        mask[r, : len(mine)] = True
    segments = vocab.segment.lookup(f"seg-{r % N_USERS % 3}" for r in range(n_req))
    batch = Batch(
        numeric=torch.from_numpy(numeric.astype(np.float32)),
        item=torch.from_numpy(vocab.item.lookup(f"item-{i}" for i in i_arr)),
        category=torch.from_numpy(
            vocab.category.lookup(f"cat-{c}" for c in world["category"][i_arr])
        ),
        brand=torch.from_numpy(vocab.brand.lookup(f"brand-{b}" for b in world["brand"][i_arr])),
        request_index=torch.tensor(request_index, dtype=torch.int64),
        user_numeric=torch.from_numpy(
            rng.normal(size=(n_req, len(FEATURE_SPEC.user_numeric))).astype(np.float32)
        ),
        segment=torch.from_numpy(segments),
        hist_item=torch.from_numpy(hist[0]),
        hist_category=torch.from_numpy(hist[1]),
        hist_brand=torch.from_numpy(hist[2]),
        hist_recency=torch.from_numpy(recency),
        hist_mask=torch.from_numpy(mask),
    )
    return Split(
        batch=batch,
        labels=labels,
        groups=np.array(request_index, dtype=np.int64),
        user_ids=np.array([f"user-{u}" for u in u_arr], dtype=object),
        item_ids=np.array([f"item-{i}" for i in i_arr], dtype=object),
        request_ids=np.array([f"req-{r}" for r in request_index], dtype=object),
    )


def make_data(seed: int = 0) -> RankingData:
    rng = np.random.default_rng(seed)
    world = _users_items(rng)
    vocab = Vocabularies.fit(
        items=[f"item-{i}" for i in range(N_ITEMS)],
        categories=[f"cat-{c}" for c in range(N_CATEGORIES)],
        brands=[f"brand-{b}" for b in range(N_BRANDS)],
        segments=["seg-0", "seg-1", "seg-2"],
    )
    events = world["events"]
    interactions = Interactions(
        user_ids=np.array([f"user-{u}" for u, _, _ in events], dtype=object),
        item_ids=np.array([f"item-{i}" for _, i, _ in events], dtype=object),
        ts_us=np.array([int(day * US_PER_DAY) for _, _, day in events], dtype=np.int64),
        conversion=np.ones(len(events), dtype=bool),
    )
    return RankingData(
        task="next-item",
        vocab=vocab,
        train=_split(rng, world, vocab, per_user=2, k=10),
        valid=_split(rng, world, vocab, per_user=1, k=10),
        test=_split(rng, world, vocab, per_user=1, k=10),
        interactions=interactions,
        source="synthetic",
        simulated=True,
    )


@pytest.fixture(autouse=True)
def _one_library_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # Same reason as the one-torch-thread fixture: two OpenMP threads on a busy 2-core machine
    # spin against each other and a 0.4 s LightGBM fit takes 4 s.
    monkeypatch.setattr(baselines, "NUM_THREADS", 1)


@pytest.fixture(scope="module")
def data() -> RankingData:
    return make_data()


def _test_ndcg(data: RankingData, scores: np.ndarray) -> float:
    return ndcg_at_k(data.test.labels[:, 0], scores, data.test.groups, 10)


def _fitted(name: str, data: RankingData, **params: Any) -> Any:
    baseline = BASELINES[name]()
    baseline.fit(data, params, 0)
    return baseline


def test_registry_lists_the_baselines_in_order() -> None:
    expected = [
        "popularity",
        "frequency-recency",
        "similarity",
        "logistic",
        "lightgbm-binary",
        "lightgbm-lambdarank",
        "als",
    ]
    assert list(BASELINES) == expected
    assert list(GRIDS) == expected
    assert all(BASELINES[name].name == name for name in expected)
    assert all(GRIDS[name] for name in expected)


@pytest.mark.parametrize("name", list(BASELINES))
def test_fits_and_scores_finite_values_of_the_right_shape(name: str, data: RankingData) -> None:
    if name == "frequency-recency" and not HAS_V2:
        pytest.skip("feature schema v2 columns not there yet")
    baseline = _fitted(name, data)
    for split in (data.train, data.valid, data.test):
        scores = baseline.score(split)
        assert scores.dtype == np.float64
        assert scores.shape == (len(split),)
        assert np.isfinite(scores).all()


@needs_v2
def test_frequency_recency_beats_popularity_when_repurchase_drives_clicks(
    data: RankingData,
) -> None:
    freq = _test_ndcg(data, _fitted("frequency-recency", data).score(data.test))
    pop = _test_ndcg(data, _fitted("popularity", data).score(data.test))
    assert freq > pop + 0.1


def test_lightgbm_lambdarank_beats_random(data: RankingData) -> None:
    lgbm = _test_ndcg(data, _fitted("lightgbm-lambdarank", data).score(data.test))
    rng = np.random.default_rng(0)
    random = np.mean([_test_ndcg(data, rng.random(len(data.test))) for _ in range(20)])
    assert lgbm > random + 0.1


def test_lightgbm_is_deterministic_for_a_seed(data: RankingData) -> None:
    first = _fitted("lightgbm-binary", data).score(data.test)
    np.testing.assert_array_equal(first, _fitted("lightgbm-binary", data).score(data.test))


def test_als_recovers_the_block_structure_better_than_popularity(data: RankingData) -> None:
    als = _test_ndcg(data, _fitted("als", data).score(data.test))
    pop = _test_ndcg(data, _fitted("popularity", data).score(data.test))
    assert als > pop + 0.1


def test_als_ranks_unknown_users_and_items_below_known_pairs_by_popularity(
    data: RankingData,
) -> None:
    als = _fitted("als", data)
    split = data.test
    user_ids = split.user_ids.copy()
    item_ids = split.item_ids.copy()
    user_ids[:5] = "user-new"
    item_ids[5:10] = "item-new"
    scores = als.score(dataclasses.replace(split, user_ids=user_ids, item_ids=item_ids))
    cold = ~np.isin(user_ids, data.interactions.user_ids) | ~np.isin(
        item_ids, data.interactions.item_ids
    )
    assert cold[:10].all()
    assert not cold.all()
    assert scores[cold].max() < scores[~cold].min()
    pop = split.batch.numeric[:, FEATURE_SPEC.numeric.index("log_popularity")].numpy()[cold]
    assert (np.diff(scores[cold][np.argsort(pop, kind="stable")]) >= 0).all()


def test_tune_records_one_trial_per_setting_and_keeps_the_best(data: RankingData) -> None:
    result = tune("lightgbm-lambdarank", data, trials=3, seed=0)
    assert len(result.trials) == 3
    assert dict(result.trials[0].params) == GRIDS["lightgbm-lambdarank"][0]
    assert result.best.valid_ndcg == max(t.valid_ndcg for t in result.trials)
    assert result.params == result.best.params
    assert all(t.seconds > 0 for t in result.trials)
    valid = data.valid
    refit = ndcg_at_k(valid.labels[:, 0], result.baseline.score(valid), valid.groups, 10)
    assert refit == pytest.approx(result.best.valid_ndcg)

    assert len(tune("popularity", data, trials=5, seed=0).trials) == 1


@pytest.mark.parametrize("name", ["lightgbm-lambdarank", "als"])
def test_tune_is_deterministic_for_a_seed(name: str, data: RankingData) -> None:
    runs = [tune(name, data, trials=3, seed=3) for _ in range(2)]
    assert [len(run.trials) for run in runs] == [3, 3]
    assert [t.params for t in runs[0].trials] == [t.params for t in runs[1].trials]
    assert [t.valid_ndcg for t in runs[0].trials] == [t.valid_ndcg for t in runs[1].trials]
    assert runs[0].params == runs[1].params
    np.testing.assert_array_equal(
        runs[0].baseline.score(data.test), runs[1].baseline.score(data.test)
    )
    # The default first, then a sample of the rest in grid order.
    positions = [GRIDS[name].index(dict(t.params)) for t in runs[0].trials]
    assert positions[0] == 0
    assert positions == sorted(set(positions))


def test_score_before_fit_is_refused(data: RankingData) -> None:
    with pytest.raises(RuntimeError, match=r"popularity: score\(\) before fit\(\)"):
        BASELINES["popularity"]().score(data.test)


def test_empty_split_is_refused(data: RankingData) -> None:
    rows = torch.empty(0, dtype=torch.int64)
    empty = Split(
        batch=data.test.batch.take(rows),
        labels=data.test.labels[:0],
        groups=data.test.groups[:0],
        user_ids=data.test.user_ids[:0],
        item_ids=data.test.item_ids[:0],
        request_ids=data.test.request_ids[:0],
    )
    with pytest.raises(ValueError, match="cannot score an empty split"):
        _fitted("popularity", data).score(empty)


def test_nan_scores_are_never_returned(data: RankingData) -> None:
    numeric = data.test.batch.numeric.clone()
    numeric[3, FEATURE_SPEC.numeric.index("similarity")] = float("nan")
    split = dataclasses.replace(
        data.test, batch=dataclasses.replace(data.test.batch, numeric=numeric)
    )
    with pytest.raises(ValueError, match=r"similarity: 1 of \d+ scores are not finite"):
        _fitted("similarity", data).score(split)


def test_unknown_parameters_are_refused(data: RankingData) -> None:
    with pytest.raises(ValueError, match=r"logistic: unknown parameters \['depth'\]"):
        BASELINES["logistic"]().fit(data, {"depth": 3}, 0)


def test_tune_refuses_bad_arguments(data: RankingData) -> None:
    with pytest.raises(ValueError, match="unknown baseline 'bm25'"):
        tune("bm25", data, trials=2, seed=0)
    with pytest.raises(ValueError, match="trials must be an int >= 1"):
        tune("popularity", data, trials=0, seed=0)
