"""Activities as cards, and which products a scope covers (see :mod:`._log_items`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.domain import Activity, ActivityStatus, ActivityType
from assistant.pricing import ScopeIndex
from policy.world import DealType

__all__ = ["AUDIENCE_CODES", "LOG_PERIOD", "Cards", "cards_of"]

LOG_PERIOD = timedelta(days=30)
"""How far back the logs go; activity windows are read over this period."""

AUDIENCE_CODES = {"all": 0, "members": 1, "new_users": 2, "segment": 3}
"""Audience kinds of cards as small integers (``CatalogSnapshot.card_audience``)."""

IntArray = npt.NDArray[np.int64]
_MAX_DEPTH = 0.9


def _card_depth(activity: Activity, base: float, fee: int) -> float:
    """The nominal depth of an activity's terms on a typical in-scope price ``base`` (minor)."""
    a, t = activity, activity.type
    depth = 0.0
    if t in (ActivityType.FLASH_SALE, ActivityType.PERCENT_OFF, ActivityType.MEMBER_DAY):
        off = base * (a.percent or 0) / 100
        depth = min(off, a.max_discount if a.max_discount is not None else off) / base
    elif t is ActivityType.THRESHOLD and a.tiers:
        depth = a.tiers[0].discount / a.tiers[0].threshold
    elif t is ActivityType.BUNDLE:
        units = base * (a.min_quantity or 1)
        depth = (a.percent or 0) / 100 if a.amount is None else a.amount / units
    elif t in (ActivityType.COUPON, ActivityType.NEW_USER) and a.value_known:
        spend = max(base, float(a.min_spend or 0))
        off = spend * (a.percent or 0) / 100 if a.amount is None else float(a.amount)
        depth = min(off, a.max_discount if a.max_discount is not None else off) / spend
    elif t is ActivityType.FREE_SHIPPING:
        depth = fee / max(base, float(a.min_spend or 0), 1.0)
    return float(min(max(depth, 0.0), _MAX_DEPTH))


@dataclasses.dataclass
class Cards:
    """Activity cards under construction (see ``CatalogSnapshot``)."""

    ids: list[str] = dataclasses.field(default_factory=list)
    rows: list[tuple[int, int, int, int, int, bool, float, float]] = dataclasses.field(
        default_factory=list
    )  # leaf, brand, list minor, final minor, deal type, claim, hours left, breadth
    leaves: list[set[int]] = dataclasses.field(default_factory=list)
    audience: list[int] = dataclasses.field(default_factory=list)
    segment: list[str | None] = dataclasses.field(default_factory=list)
    windows: list[tuple[int, float, float]] = dataclasses.field(default_factory=list)

    def column(self, i: int, dtype: type) -> npt.NDArray[Any]:
        """Field ``i`` of every card's row as an array."""
        return np.array([r[i] for r in self.rows], dtype=dtype).reshape(len(self.rows))


def cards_of(
    activities: Sequence[Activity],
    index: ScopeIndex,
    now: datetime,
    p_leaf: IntArray,
    p_brand: IntArray,
    p_list: IntArray,
    fee: int,
    no_brand: int,
) -> Cards:
    """One card per active activity with a window in the log period and a product in scope."""
    out = Cards()
    start = now - LOG_PERIOD
    for activity in activities:
        if activity.status is not ActivityStatus.ACTIVE:
            continue
        windows = activity.schedule.windows(start, now)
        rows = index.rows(activity.scope)
        if not windows or rows.size == 0:
            continue
        card = len(out.ids)
        base = float(np.median(p_list[rows]))
        list_minor = max(round(base), 1)
        final = max(round(list_minor * (1.0 - _card_depth(activity, base, fee))), 1)
        brand = int(np.bincount(p_brand[rows]).argmax()) if activity.scope.brands else no_brand
        typical = float(np.median([(e - s).total_seconds() for s, e in windows]))
        out.ids.append(activity.id)
        out.rows.append(
            (
                int(np.bincount(p_leaf[rows]).argmax()),
                brand,
                list_minor,
                final,
                int(DealType[activity.type.name]),
                activity.type.claimable,
                typical / 2 / 3600.0,
                float(np.log(rows.size)),
            )
        )
        out.leaves.append(set(np.unique(p_leaf[rows]).tolist()))
        out.audience.append(AUDIENCE_CODES[activity.audience.kind])
        out.segment.append(activity.audience.segment)
        # Clipped to the period (a day's margin): only moments inside it are ever asked about.
        low, high = -(LOG_PERIOD + timedelta(days=1)), timedelta(days=1)
        for s, e in windows:
            out.windows.append(
                (card, max(s - now, low).total_seconds(), min(e - now, high).total_seconds())
            )
    return out
