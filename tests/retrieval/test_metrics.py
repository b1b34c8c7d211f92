"""Retrieval metrics against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from retrieval import mrr, ndcg_at_k, recall_at_k, recall_vs_exact

GRADES = {"a": 2, "b": 1, "c": 1}


def test_recall_counts_relevant_in_the_top_k_over_the_reachable_maximum() -> None:
    assert recall_at_k(["a", "x", "b", "c"], GRADES, 2) == 0.5  # 1 of min(2, 3)
    assert recall_at_k(["a", "x", "b", "c"], GRADES, 4) == 1.0  # 3 of 3
    assert recall_at_k(["x", "y"], GRADES, 2) == 0.0
    assert recall_at_k(["a", "a", "b"], GRADES, 3) == pytest.approx(2 / 3)  # repeats count once


def test_recall_and_ndcg_are_zero_when_nothing_is_relevant() -> None:
    assert recall_at_k(["a"], {"a": 0}, 1) == 0.0
    assert ndcg_at_k(["a"], {}, 1) == 0.0


def test_ndcg_by_hand() -> None:
    # ranked b, x, a: gains 1, 0, 3 at discounts 1, 1/log2(3), 1/2
    dcg = 1.0 + 0.0 + 3.0 / 2.0
    ideal = 3.0 + 1.0 / math.log2(3) + 1.0 / 2.0  # a, b, c
    assert ndcg_at_k(["b", "x", "a"], GRADES, 3) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(["a", "b", "c"], GRADES, 3) == pytest.approx(1.0)
    assert ndcg_at_k(["a", "b"], GRADES, 1) == pytest.approx(1.0)


def test_mrr_is_the_reciprocal_rank_of_the_first_relevant_item() -> None:
    assert mrr(["x", "y", "b"], GRADES) == pytest.approx(1 / 3)
    assert mrr(["a"], GRADES) == 1.0
    assert mrr(["x"], GRADES) == 0.0


def test_recall_vs_exact_counts_ties_at_the_cut() -> None:
    exact = np.array([0.9, 0.8, 0.8])
    assert recall_vs_exact(np.array([0.9, 0.8, 0.8]), exact, 3) == 1.0
    # another item tied with the exact k-th score is as good as the one it replaced
    assert recall_vs_exact(np.array([0.9, 0.8, 0.7]), exact, 3) == pytest.approx(2 / 3)
    assert recall_vs_exact(np.array([]), np.array([]), 5) == 1.0  # nothing passes the filter


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_bad_k_is_refused(k: object) -> None:
    with pytest.raises(ValueError, match="k must be a positive int"):
        recall_at_k(["a"], GRADES, k)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="k must be a positive int"):
        ndcg_at_k(["a"], GRADES, k)  # type: ignore[arg-type]
