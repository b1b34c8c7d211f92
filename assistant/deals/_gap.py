"""The gap: the smallest extra spend that would raise what the shopper saves.

Candidates are activities whose scope already covers a cart line and that fail, if at all,
only on a minimum: the tiers of a ``threshold`` above its in-scope base, coupons short of
their ``min_spend``, and free shipping not reached on the goods total while a fee is paid.
``unlocks`` is the increase over what the stacking group gives now, and only candidates that
unlock something count. Bundles are not candidates (their minimum is a quantity, not money).
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.deals._discounts import coupon_discount
from assistant.deals._model import Gap
from assistant.domain import Activity

__all__ = ["find_gap"]


def find_gap(
    thresholds: Sequence[tuple[Activity, int]],
    coupons: Sequence[tuple[Activity, int]],
    free_shipping: Sequence[Activity],
    *,
    order_discount: int,
    coupon_discount_now: int,
    goods_total: int,
    shipping: int,
) -> Gap | None:
    """The candidate with the smallest ``add``; ties go to larger ``unlocks``, then smaller id.

    Args:
        thresholds: ``(threshold activity, its in-scope base after the item level)`` for every
            threshold that stands and covers a cart line, applied or not.
        coupons: ``(coupon, its in-scope base)`` for coupons failing only on ``min_spend``.
        free_shipping: Free-shipping activities failing only on ``min_spend``.
        order_discount: What the order group gives now.
        coupon_discount_now: What the coupon group gives now.
        goods_total: The goods total after all discounts (the free-shipping base).
        shipping: The shipping fee paid now.
    """
    found: list[Gap] = []
    for activity, base in thresholds:
        for tier in activity.tiers:
            if tier.threshold > base:
                value = tier.discount
                if activity.max_discount is not None:
                    value = min(value, activity.max_discount)
                found.append(Gap(activity.id, tier.threshold - base, value - order_discount))
    for activity, base in coupons:
        target = activity.min_spend or 0
        value = coupon_discount(activity, target) or 0
        found.append(Gap(activity.id, target - base, value - coupon_discount_now))
    for activity in free_shipping:
        found.append(Gap(activity.id, (activity.min_spend or 0) - goods_total, shipping))
    useful = [gap for gap in found if gap.unlocks > 0 and gap.add > 0]
    if not useful:
        return None
    return min(useful, key=lambda gap: (gap.add, -gap.unlocks, gap.activity_id))
