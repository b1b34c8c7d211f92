"""Fairness report: how exposure and final prices spread across user segments.

Input is the impression log: one row per recommendation shown, with the viewer's segment (e.g.
``new``, ``member``, a region), the item id, its 0-based slate position and the final price shown
in minor units (None for rows without a price, such as activity cards).

Exposure is position-discounted the way DCG discounts gain: an impression at position j is worth
``1 / log2(j + 2)`` (1 at the top, 0.63 second, 0.5 third), following Singh & Joachims 2018,
"Fairness of Exposure in Rankings". Per segment the report gives

* its share of all exposure and of all impressions, and its exposure per impression (a segment
  shown shorter or lower-placed slates gets less);
* with `on_deal` given, the share of its exposure that went to items carrying a deal;
* how differently it is exposed to items: the total variation distance between its item-exposure
  distribution and the pooled one (0: the same items in the same proportions, 1: disjoint);
* the mean (rounded half up), median and 90th percentile of the final prices it was shown; the
  two percentiles are nearest-rank, so each is a price some shopper actually saw.

Disparity ratios compare segments on one metric as lowest / highest (1 = parity). Ratios below
0.8 are flagged, after the "four-fifths" screening rule of US employment practice (29 CFR
1607.4(D)); a flag is a prompt to look, not a verdict.

Example:
    >>> report = fairness_report(
    ...     segments=["new", "new", "member", "member"],
    ...     item_ids=["a", "b", "a", "b"],
    ...     positions=[0, 1, 0, 1],
    ...     final_prices=[1000, 2000, 900, 1800],
    ... )
    >>> report.segment("member").mean_final_price
    1350
    >>> report.disparity("mean_final_price").ratio
    0.9
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Disparity",
    "FairnessReport",
    "SegmentStats",
    "fairness_report",
    "fairness_report_from_frame",
    "position_weight",
]

FLAG_BELOW = 0.8
"""Disparity ratios below this are flagged in `FairnessReport.to_markdown` (four-fifths rule)."""


def position_weight(position: int) -> float:
    """Exposure of one impression at 0-based `position`: ``1 / log2(position + 2)``."""
    return 1.0 / math.log2(position + 2)


@dataclass(frozen=True, slots=True)
class SegmentStats:
    """One segment's exposure and prices.

    Attributes:
        segment: Segment name.
        impressions: Rows logged for the segment.
        exposure: Sum of the position weights of its impressions.
        exposure_share: Its exposure over all segments' exposure.
        impression_share: Its impressions over all impressions.
        exposure_per_impression: `exposure` / `impressions`, in (0, 1].
        deal_exposure_share: Share of its exposure on items with a deal (None without `on_deal`).
        distinct_items: Distinct item ids it was shown.
        item_divergence: Total variation distance between its item-exposure distribution and
            the pooled one, in [0, 1].
        priced: Impressions with a final price.
        mean_final_price: Mean final price shown, minor units rounded half up (None if unpriced).
        median_final_price: Nearest-rank median final price, minor units.
        p90_final_price: Nearest-rank 90th percentile final price, minor units.
    """

    segment: str
    impressions: int
    exposure: float
    exposure_share: float
    impression_share: float
    exposure_per_impression: float
    deal_exposure_share: float | None
    distinct_items: int
    item_divergence: float
    priced: int
    mean_final_price: int | None
    median_final_price: int | None
    p90_final_price: int | None


@dataclass(frozen=True, slots=True)
class Disparity:
    """One metric compared across segments.

    Attributes:
        metric: A `SegmentStats` field name.
        ratio: Lowest value / highest value across the segments that have one (1 = parity;
            1 as well when every value is 0).
        lowest: Segment with the lowest value.
        highest: Segment with the highest value.
    """

    metric: str
    ratio: float
    lowest: str
    highest: str


_DISPARITY_METRICS = (
    "exposure_per_impression",
    "deal_exposure_share",
    "mean_final_price",
    "median_final_price",
    "p90_final_price",
)


@dataclass(frozen=True, slots=True)
class FairnessReport:
    """Per-segment exposure and price statistics with disparity ratios.

    Attributes:
        segments: One entry per segment, sorted by name.
        disparities: One entry per metric that at least one segment has a value for.
    """

    segments: tuple[SegmentStats, ...]
    disparities: tuple[Disparity, ...]

    def segment(self, name: str) -> SegmentStats:
        """The statistics of segment `name`.

        Raises:
            KeyError: If no impression of that segment was logged.
        """
        for s in self.segments:
            if s.segment == name:
                return s
        known = ", ".join(s.segment for s in self.segments)
        raise KeyError(f"no impressions logged for segment {name!r}; segments: {known}")

    def disparity(self, metric: str) -> Disparity:
        """The disparity entry for `metric`.

        Raises:
            KeyError: If the report has no such metric.
        """
        for d in self.disparities:
            if d.metric == metric:
                return d
        known = ", ".join(d.metric for d in self.disparities)
        raise KeyError(f"no disparity for metric {metric!r}; metrics: {known}")

    def to_markdown(self) -> str:
        """A segment table and a disparity table; ratios below 0.8 are flagged."""

        def pct(x: float | None) -> str:
            return "-" if x is None else f"{x:.1%}"

        def money(x: int | None) -> str:
            return "-" if x is None else str(x)

        lines = [
            "| segment | impressions | impression share | exposure share | exposure / impression "
            "| deal exposure | item divergence (TVD) | distinct items | mean final price "
            "| median | p90 |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for s in self.segments:
            lines.append(
                f"| {s.segment} | {s.impressions} | {pct(s.impression_share)} | "
                f"{pct(s.exposure_share)} | {s.exposure_per_impression:.3f} | "
                f"{pct(s.deal_exposure_share)} | {s.item_divergence:.3f} | {s.distinct_items} | "
                f"{money(s.mean_final_price)} | {money(s.median_final_price)} | "
                f"{money(s.p90_final_price)} |"
            )
        lines += [
            "",
            "Prices in minor units of the shop currency; exposure weighted 1 / log2(position + 2).",
            "",
            "| metric | ratio (lowest / highest) | lowest | highest | flag |",
            "| --- | ---: | --- | --- | --- |",
        ]
        for d in self.disparities:
            flag = f"below {FLAG_BELOW}" if d.ratio < FLAG_BELOW else ""
            lines.append(f"| {d.metric} | {d.ratio:.3f} | {d.lowest} | {d.highest} | {flag} |")
        return "\n".join(lines) + "\n"


def _nearest_rank(sorted_values: list[int], q: float) -> int:
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def _check_position(i: int, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(
            f"fairness_report: `positions[{i}]` must be a 0-based integer position >= 0; "
            f"got {value!r}"
        )
    return int(value)


def _check_price(i: int, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(
            f"fairness_report: `final_prices[{i}]` must be a non-negative integer in minor units "
            f"or None; got {value!r}"
        )
    return int(value)


def fairness_report(
    segments: Sequence[str],
    item_ids: Sequence[str],
    positions: Sequence[int],
    final_prices: Sequence[int | None],
    *,
    on_deal: Sequence[bool] | None = None,
) -> FairnessReport:
    """Exposure and final-price spread across user segments, from an impression log.

    Args:
        segments: The viewer's segment per impression, shape (n,).
        item_ids: The item shown, shape (n,).
        positions: Its 0-based position in the slate, shape (n,).
        final_prices: The final price shown, minor units, or None if unpriced, shape (n,).
        on_deal: Whether the item carried a deal, shape (n,); optional.

    Returns:
        The report.

    Raises:
        ValueError: If the log is empty, the columns differ in length, or a value has the wrong
            type or sign (the message names the column and row).
    """
    n = len(segments)
    if n == 0:
        raise ValueError("fairness_report: the impression log is empty; log impressions first")
    columns: dict[str, Sequence[Any]] = {
        "item_ids": item_ids,
        "positions": positions,
        "final_prices": final_prices,
    }
    if on_deal is not None:
        columns["on_deal"] = on_deal
    for name, column in columns.items():
        if len(column) != n:
            raise ValueError(
                f"fairness_report: `{name}` has {len(column)} rows but `segments` has {n}; "
                "every column needs one entry per impression"
            )
    for name, column in (("segments", segments), ("item_ids", item_ids)):
        for i, value in enumerate(column):
            if not isinstance(value, str) or not value:
                raise ValueError(
                    f"fairness_report: `{name}[{i}]` must be a non-empty string; got {value!r}"
                )
    pos = [_check_position(i, v) for i, v in enumerate(positions)]
    prices = [_check_price(i, v) for i, v in enumerate(final_prices)]
    if on_deal is not None:
        for i, v in enumerate(on_deal):
            if not isinstance(v, bool | np.bool_):
                raise ValueError(
                    f"fairness_report: `on_deal[{i}]` must be True or False; got {v!r}"
                )

    weights = [position_weight(p) for p in pos]
    total_exposure = math.fsum(weights)
    pooled: dict[str, float] = defaultdict(float)
    by_segment: dict[str, list[int]] = defaultdict(list)
    for i in range(n):
        pooled[item_ids[i]] += weights[i]
        by_segment[segments[i]].append(i)

    stats = []
    for name in sorted(by_segment):
        rows = by_segment[name]
        exposure = math.fsum(weights[i] for i in rows)
        items: dict[str, float] = defaultdict(float)
        for i in rows:
            items[item_ids[i]] += weights[i]
        divergence = 0.5 * math.fsum(
            abs(items.get(item, 0.0) / exposure - mass / total_exposure)
            for item, mass in pooled.items()
        )
        deal_share = None
        if on_deal is not None:
            deal_share = math.fsum(weights[i] for i in rows if on_deal[i]) / exposure
        shown = sorted(p for i in rows if (p := prices[i]) is not None)
        mean = median = p90 = None
        if shown:
            total = sum(shown)
            mean = (2 * total + len(shown)) // (2 * len(shown))  # round half up
            median = _nearest_rank(shown, 0.5)
            p90 = _nearest_rank(shown, 0.9)
        stats.append(
            SegmentStats(
                segment=name,
                impressions=len(rows),
                exposure=exposure,
                exposure_share=exposure / total_exposure,
                impression_share=len(rows) / n,
                exposure_per_impression=exposure / len(rows),
                deal_exposure_share=deal_share,
                distinct_items=len(items),
                item_divergence=divergence,
                priced=len(shown),
                mean_final_price=mean,
                median_final_price=median,
                p90_final_price=p90,
            )
        )

    disparities = []
    for metric in _DISPARITY_METRICS:
        values = [(getattr(s, metric), s.segment) for s in stats if getattr(s, metric) is not None]
        if not values:
            continue
        low = min(values)
        high = max(values)
        ratio = 1.0 if high[0] == 0 else float(low[0]) / float(high[0])
        disparities.append(Disparity(metric, ratio, low[1], high[1]))
    return FairnessReport(segments=tuple(stats), disparities=tuple(disparities))


def fairness_report_from_frame(
    frame: Any,
    *,
    segment: str = "segment",
    item_id: str = "item_id",
    position: str = "position",
    final_price: str = "final_price",
    on_deal: str | None = None,
) -> FairnessReport:
    """`fairness_report` over a pandas DataFrame of impressions (missing prices: NaN or None).

    Args:
        frame: A pandas DataFrame with one row per impression.
        segment: Column of the viewer's segment.
        item_id: Column of the item id.
        position: Column of the 0-based position.
        final_price: Column of the final price in minor units.
        on_deal: Column of the deal flag, if any.

    Raises:
        ValueError: If a column is missing, or as `fairness_report`.
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise ValueError(
            f"fairness_report_from_frame: `frame` must be a pandas DataFrame; got "
            f"{type(frame).__name__}"
        )
    wanted = [segment, item_id, position, final_price] + ([on_deal] if on_deal else [])
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise ValueError(
            f"fairness_report_from_frame: missing column(s) {missing}; have {list(frame.columns)}"
        )
    prices = [
        None if v is None or (isinstance(v, float) and math.isnan(v)) else v
        for v in frame[final_price].astype(object).tolist()
    ]
    prices = [int(v) if isinstance(v, float) and v.is_integer() else v for v in prices]
    return fairness_report(
        frame[segment].astype(object).tolist(),
        frame[item_id].astype(object).tolist(),
        frame[position].astype(object).tolist(),
        prices,
        on_deal=None if on_deal is None else frame[on_deal].astype(object).tolist(),
    )
