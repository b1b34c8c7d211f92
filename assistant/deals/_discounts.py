"""What one activity takes off a given base: the arithmetic of each level.

Money is integer minor units; percentages round half up (:func:`assistant.money.percent_of`)
and ``max_discount`` caps apply after rounding. No discount exceeds the base it is taken from.
"""

from __future__ import annotations

from assistant.domain import Activity, ActivityType
from assistant.money import percent_of

__all__ = ["coupon_discount", "item_discount", "order_discount"]


def _capped(activity: Activity, discount: int, base: int) -> int:
    if activity.max_discount is not None:
        discount = min(discount, activity.max_discount)
    return max(0, min(discount, base))


def item_discount(activity: Activity, unit_price: int, units: int) -> int:
    """An item-level discount on ``units`` units of one line, capped per line."""
    assert activity.percent is not None  # an item-level type always has a percent
    return _capped(activity, percent_of(unit_price * units, activity.percent), unit_price * units)


def order_discount(activity: Activity, base: int, units: int) -> int | None:
    """A ``threshold`` or ``bundle`` discount on its in-scope base; ``None`` below its minimum.

    Args:
        activity: A ``threshold`` (highest tier whose threshold ``base`` reaches) or a
            ``bundle`` (``amount`` or ``percent`` of ``base`` once ``units`` >= min_quantity).
        base: The in-scope subtotal after the item level.
        units: The in-scope number of units.
    """
    if activity.type is ActivityType.THRESHOLD:
        reached = [tier.discount for tier in activity.tiers if tier.threshold <= base]
        return _capped(activity, reached[-1], base) if reached else None
    assert activity.min_quantity is not None
    if units < activity.min_quantity:
        return None
    if activity.amount is not None:
        return _capped(activity, activity.amount, base)
    assert activity.percent is not None
    return _capped(activity, percent_of(base, activity.percent), base)


def coupon_discount(activity: Activity, base: int) -> int | None:
    """A ``coupon`` / ``new_user`` discount on its in-scope base; ``None`` below min spend."""
    if base < (activity.min_spend or 0):
        return None
    if activity.amount is not None:
        return _capped(activity, activity.amount, base)
    assert activity.percent is not None
    return _capped(activity, percent_of(base, activity.percent), base)
