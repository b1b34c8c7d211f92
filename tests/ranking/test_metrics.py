"""Offline metrics against hand-worked values and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ranking.metrics import auc, hit_rate_at_k, logloss, ndcg_at_k


def test_auc_matches_pair_counting_with_ties() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    s = rng.integers(0, 5, 60).astype(float)  # many ties
    pairs = [
        1.0 if a > b else 0.5 if a == b else 0.0
        for (a, ya), (b, yb) in itertools.product(zip(s, y, strict=True), repeat=2)
        if ya == 1 and yb == 0
    ]
    assert auc(y, s) == pytest.approx(np.mean(pairs))


def test_auc_of_one_class_is_half() -> None:
    assert auc([1, 1], [0.2, 0.3]) == 0.5


def test_logloss_clips() -> None:
    assert logloss([1, 0], [0.5, 0.5]) == pytest.approx(np.log(2))
    assert np.isfinite(logloss([1], [0.0]))


def test_ndcg_and_hr_by_hand() -> None:
    y = [0, 0, 1, 1, 0, 0, 0]
    s = [0.9, 0.8, 0.1, 0.5, 0.4, 0.3, 0.2]
    g = [0, 0, 0, 1, 1, 2, 2]  # group 2 has no positive: skipped
    ndcg_g0 = (1 / np.log2(4)) / 1.0
    assert ndcg_at_k(y, s, g, 3) == pytest.approx((ndcg_g0 + 1.0) / 2)
    assert hit_rate_at_k(y, s, g, 2) == pytest.approx(0.5)
    assert hit_rate_at_k(y, s, g, 3) == pytest.approx(1.0)


def test_constant_scores_get_no_free_credit() -> None:
    assert ndcg_at_k([0, 1], [0.5, 0.5], [0, 0], 1) == 0.0


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_bad_k_is_refused(k: object) -> None:
    with pytest.raises(ValueError, match="k must be a positive int"):
        ndcg_at_k([1], [1.0], [0], k)  # type: ignore[arg-type]


def test_mismatched_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="1-d of one length"):
        auc([1, 0], [0.5])
    with pytest.raises(ValueError, match="scores must be finite"):
        auc([1, 0], [0.5, np.nan])
