"""Fairness report: exposure and final-price spread across segments, checked by hand."""

from __future__ import annotations

import dataclasses
import doctest
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

import policy.fairness
from policy.fairness import fairness_report, fairness_report_from_frame, position_weight

# A hand-worked log. Members saw two slates: (A 1000 deal, B 2000, C 3000 deal) and (A 1000
# deal); new users saw one: (B 2000, D 5000, A 1200 deal).
LOG: dict[str, Any] = {
    "segments": ["member"] * 4 + ["new"] * 3,
    "item_ids": ["A", "B", "C", "A", "B", "D", "A"],
    "positions": [0, 1, 2, 0, 0, 1, 2],
    "final_prices": [1000, 2000, 3000, 1000, 2000, 5000, 1200],
    "on_deal": [True, False, True, True, False, False, True],
}
W1 = 1 / math.log2(3)  # second position
W2 = 0.5  # third position: 1 / log2(4)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(policy.fairness)
    assert result.attempted >= 3
    assert result.failed == 0


def test_position_weights_discount_like_dcg() -> None:
    assert [position_weight(p) for p in range(3)] == [1.0, pytest.approx(0.63093), 0.5]


def test_hand_worked_exposure() -> None:
    report = fairness_report(**LOG)
    member, new = report.segment("member"), report.segment("new")
    assert [s.segment for s in report.segments] == ["member", "new"]
    assert member.impressions == 4 and new.impressions == 3
    assert member.exposure == pytest.approx(2 + W1 + W2)
    assert new.exposure == pytest.approx(1 + W1 + W2)
    total = 3 + 2 * W1 + 2 * W2
    assert member.exposure_share == pytest.approx((2 + W1 + W2) / total)
    assert member.impression_share == pytest.approx(4 / 7)
    assert member.exposure_per_impression == pytest.approx((2 + W1 + W2) / 4)
    # Deal items: members A, C, A (1 + 0.5 + 1); new users only A at the bottom (0.5).
    assert member.deal_exposure_share == pytest.approx(2.5 / (2 + W1 + W2))
    assert new.deal_exposure_share == pytest.approx(0.5 / (1 + W1 + W2))
    assert (member.distinct_items, new.distinct_items) == (3, 3)
    # Pooled item exposure: A 2.5, B 1 + W1, C 0.5, D W1.
    pooled = {"A": 2.5, "B": 1 + W1, "C": 0.5, "D": W1}
    mine = {"A": 2.0, "B": W1, "C": 0.5, "D": 0.0}
    tvd = 0.5 * sum(abs(mine[i] / (2 + W1 + W2) - pooled[i] / total) for i in pooled)
    assert member.item_divergence == pytest.approx(tvd)
    assert 0.2 < member.item_divergence < 0.25


def test_hand_worked_prices_and_disparities() -> None:
    report = fairness_report(**LOG)
    member, new = report.segment("member"), report.segment("new")
    # Members: 1000, 1000, 2000, 3000 -> mean 1750, nearest-rank median 1000, p90 3000.
    assert (member.mean_final_price, member.median_final_price, member.p90_final_price) == (
        1750,
        1000,
        3000,
    )
    # New: 1200, 2000, 5000 -> mean 2733.33 rounds to 2733, median 2000, p90 5000.
    assert (new.mean_final_price, new.median_final_price, new.p90_final_price) == (
        2733,
        2000,
        5000,
    )
    d = {x.metric: x for x in report.disparities}
    assert d["mean_final_price"].ratio == pytest.approx(1750 / 2733)
    assert (d["mean_final_price"].lowest, d["mean_final_price"].highest) == ("member", "new")
    assert d["median_final_price"].ratio == 0.5
    assert d["p90_final_price"].ratio == pytest.approx(0.6)
    assert d["deal_exposure_share"].ratio == pytest.approx(
        (0.5 / (1 + W1 + W2)) / (2.5 / (2 + W1 + W2))
    )
    assert d["deal_exposure_share"].lowest == "new"
    assert d["exposure_per_impression"].ratio == pytest.approx(
        ((1 + W1 + W2) / 3) / ((2 + W1 + W2) / 4)
    )


def test_markdown_shows_the_numbers_and_flags_large_gaps() -> None:
    md = fairness_report(**LOG).to_markdown()
    assert "| member | 4 | 57.1% |" in md
    assert "| 1750 | 1000 | 3000 |" in md and "| 2733 | 2000 | 5000 |" in md
    assert "| median_final_price | 0.500 | member | new | below 0.8 |" in md
    assert "| exposure_per_impression | 0.907 | new | member |  |" in md


def test_unpriced_rows_and_missing_deal_flags() -> None:
    report = fairness_report(
        ["a", "a", "b"], ["x", "y", "x"], [0, 1, 0], [None, 700, None], on_deal=None
    )
    a, b = report.segment("a"), report.segment("b")
    assert (a.priced, a.mean_final_price, a.median_final_price) == (1, 700, 700)
    assert (b.priced, b.mean_final_price, b.p90_final_price) == (0, None, None)
    assert a.deal_exposure_share is None
    metrics = [d.metric for d in report.disparities]
    assert "deal_exposure_share" not in metrics
    # With a single priced segment the price ratio is parity by construction.
    assert report.disparity("mean_final_price").ratio == 1.0
    assert "| b | 1 |" in report.to_markdown()


def test_report_from_a_dataframe_matches() -> None:
    frame = pd.DataFrame(
        {
            "segment": LOG["segments"],
            "item_id": LOG["item_ids"],
            "position": np.array(LOG["positions"], dtype=np.int64),
            "final_price": [*LOG["final_prices"][:-1], np.nan],
            "deal": LOG["on_deal"],
        }
    )
    from_frame = fairness_report_from_frame(frame, on_deal="deal")
    expected = fairness_report(**{**LOG, "final_prices": [*LOG["final_prices"][:-1], None]})
    assert from_frame == expected
    assert from_frame.segment("new").priced == 2


def test_report_is_frozen() -> None:
    report = fairness_report(**LOG)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.segments = ()  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"segments": []}, r"impression log is empty"),
        ({"item_ids": ["A"]}, r"`item_ids` has 1 rows but `segments` has 7"),
        ({"on_deal": [True]}, r"`on_deal` has 1 rows"),
        ({"segments": ["member"] * 6 + [""]}, r"segments\[6\].*non-empty string"),
        ({"item_ids": ["A", "B", "C", "A", "B", "D", 7]}, r"item_ids\[6\].*non-empty string"),
        ({"positions": [0, 1, 2, 0, 0, 1, -1]}, r"positions\[6\].*0-based integer"),
        ({"positions": [0, 1, 2, 0, 0, 1, 2.0]}, r"positions\[6\].*0-based integer"),
        (
            {"final_prices": [1000, 2000, 3000, 1000, 2000, 5000, 12.5]},
            r"final_prices\[6\].*minor units",
        ),
        (
            {"final_prices": [1000, 2000, 3000, 1000, 2000, 5000, -1]},
            r"final_prices\[6\].*non-negative",
        ),
        ({"on_deal": [True] * 6 + [1]}, r"on_deal\[6\].*True or False"),
    ],
)
def test_bad_logs_are_rejected(change: dict[str, Any], match: str) -> None:
    log = {**LOG, **change}
    if change.get("segments") == []:
        log = {k: [] for k in LOG}
    with pytest.raises(ValueError, match=match):
        fairness_report(**log)


def test_frame_and_lookup_errors() -> None:
    with pytest.raises(ValueError, match=r"missing column\(s\) \['final_price'\]"):
        fairness_report_from_frame(
            pd.DataFrame({"segment": ["a"], "item_id": ["x"], "position": [0]})
        )
    with pytest.raises(ValueError, match=r"must be a pandas DataFrame"):
        fairness_report_from_frame({"segment": ["a"]})
    report = fairness_report(**LOG)
    with pytest.raises(KeyError, match=r"no impressions logged for segment 'vip'.*member, new"):
        report.segment("vip")
    with pytest.raises(KeyError, match=r"no disparity for metric 'revenue'"):
        report.disparity("revenue")
