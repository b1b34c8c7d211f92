"""Pricing a cart: the item level per line, then the best order / coupon / shipping stacking.

The item level is automatic (each line takes its single best item-level deal). The order and
coupon levels are chosen together, with the free-shipping level they lead to, by trying every
pair (each may be none) and keeping the lowest ``payable``; that is how a coupon that would
push the goods under the free-shipping minimum gets skipped when skipping is cheaper.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType

from assistant.deals._discounts import coupon_discount, item_discount, order_discount
from assistant.deals._eligibility import standing
from assistant.deals._gap import find_gap
from assistant.deals._model import AppliedDeal, CartQuote, DealContext, LineQuote
from assistant.domain import (
    Activity,
    ActivityType,
    CartLine,
    Group,
    IneligibleReason,
    Product,
)
from assistant.errors import CartError, ValidationError
from assistant.schedule import Window

__all__ = ["quote_cart", "quote_item"]


@dataclass(slots=True)
class _State:
    """One activity during a quote: its reason so far, live window and covered lines.

    Mutable on purpose and never leaves the quote: ``min_spend_not_met`` is filled in once
    the levels it depends on are priced.
    """

    activity: Activity
    reason: IneligibleReason | None
    window: Window | None
    covered: frozenset[int]

    def deal(self, discount: int, needs_claim: bool = False) -> AppliedDeal:
        return AppliedDeal(
            activity_id=self.activity.id,
            revision=self.activity.revision,
            type=self.activity.type,
            discount=discount,
            needs_claim=needs_claim,
            valid_until=self.window[1] if self.window is not None else None,
        )


@dataclass(frozen=True, slots=True)
class _Choice:
    """The chosen order/coupon pair and where it leads."""

    order: AppliedDeal | None
    coupon: AppliedDeal | None
    free_shipping: AppliedDeal | None
    goods_total: int
    shipping: int


def _validated_lines(
    products: Mapping[str, Product], cart: Sequence[CartLine]
) -> list[tuple[Product, int]]:
    """The cart as (product, quantity) in order, duplicate products merged."""
    if not cart:
        raise CartError("the cart is empty; add at least one product line")
    unknown = sorted({line.product_id for line in cart if line.product_id not in products})
    bad = [
        f"line {n} ({line.product_id} x {line.quantity!r})"
        for n, line in enumerate(cart, 1)
        if not isinstance(line.quantity, int)
        or isinstance(line.quantity, bool)
        or line.quantity < 1
    ]
    problems = []
    if unknown:
        problems.append(f"unknown product id(s) {', '.join(unknown)}")
    if bad:
        problems.append(f"quantity must be a whole number >= 1 on {', '.join(bad)}")
    if problems:
        raise CartError("cannot price the cart: " + "; ".join(problems))
    merged: dict[str, int] = {}
    for line in cart:
        merged[line.product_id] = merged.get(line.product_id, 0) + line.quantity
    return [(products[pid], quantity) for pid, quantity in merged.items()]


def _states(
    activities: Sequence[Activity], products: Sequence[Product], ctx: DealContext
) -> list[_State]:
    counts = Counter(activity.id for activity in activities)
    duplicates = sorted(aid for aid, n in counts.items() if n > 1)
    if duplicates:
        raise ValidationError(
            f"activity id(s) {', '.join(duplicates)} given more than once; pass one revision each"
        )
    states = []
    for activity in activities:
        reason, window = standing(activity, ctx)
        covered: frozenset[int] = frozenset()
        if reason is None:
            covered = frozenset(i for i, p in enumerate(products) if activity.scope.covers(p))
            if not covered:
                reason = IneligibleReason.OUT_OF_SCOPE
        states.append(_State(activity, reason, window, covered))
    return states


def _item_level(
    lines: Sequence[tuple[Product, int]], states: Sequence[_State], ctx: DealContext
) -> tuple[LineQuote, ...]:
    """Each line's single best item-level deal; quantity-limited units go in cart order."""
    candidates = sorted(
        (s for s in states if s.reason is None and s.activity.group is Group.ITEM),
        key=lambda s: s.activity.id,
    )
    units_left = {
        s.activity.id: ctx.units_left.get(s.activity.id, s.activity.quantity_limit)
        for s in candidates
        if s.activity.quantity_limit is not None
    }
    quoted = []
    for i, (product, quantity) in enumerate(lines):
        best: tuple[int, int, _State] | None = None  # (discount, units, state)
        for state in candidates:
            if i not in state.covered:
                continue
            units = min(quantity, units_left.get(state.activity.id, quantity))
            if units <= 0:
                continue
            discount = item_discount(state.activity, product.price, units)
            if discount > 0 and (best is None or discount > best[0]):
                best = (discount, units, state)
        subtotal = product.price * quantity
        deal = None
        if best is not None:
            discount, units, state = best
            deal = state.deal(discount)
            if state.activity.id in units_left:
                units_left[state.activity.id] -= units
        total = subtotal - (deal.discount if deal else 0)
        quoted.append(LineQuote(product.id, quantity, product.price, subtotal, deal, total))
    return tuple(quoted)


def _in_scope(state: _State, lines: Sequence[LineQuote]) -> tuple[int, int]:
    """The in-scope subtotal after the item level, and the in-scope units."""
    return (
        sum(lines[i].total for i in state.covered),
        sum(lines[i].quantity for i in state.covered),
    )


def _lowest_id_per_terms(deals: Sequence[AppliedDeal]) -> list[AppliedDeal]:
    kept: dict[tuple[int, bool], AppliedDeal] = {}
    for deal in deals:
        key = (deal.discount, deal.needs_claim)
        if key not in kept or deal.activity_id < kept[key].activity_id:
            kept[key] = deal
    return list(kept.values())


def _choose(
    orders: Sequence[AppliedDeal],
    coupons: Sequence[AppliedDeal],
    shipping_options: Sequence[_State],
    after_items: int,
    ctx: DealContext,
) -> _Choice:
    """The order/coupon pair (each may be none) with the lowest payable, tie-broken.

    Ties: lower payable, then more savings (lower goods total), then fewer claims, then the
    smaller (order id, coupon id) with "none" as the empty id.
    """
    fee = ctx.shipping_fee
    # Deals that differ only in id tie everywhere but the last key: keep the lowest id of each
    # (discount, needs_claim), which leaves the choice unchanged and the loop small.
    orders = _lowest_id_per_terms(orders)
    coupons = _lowest_id_per_terms(coupons)
    best: tuple[tuple[int, int, int, str, str], AppliedDeal | None, AppliedDeal | None] | None
    best = None
    for order in (None, *orders):
        order_off = order.discount if order else 0
        for coupon in (None, *coupons):
            # Goods never go below zero: a coupon takes at most what the order level left.
            coupon_off = min(coupon.discount, after_items - order_off) if coupon else 0
            goods = after_items - order_off - coupon_off
            free = fee > 0 and any(goods >= (s.activity.min_spend or 0) for s in shipping_options)
            key = (
                goods + (0 if free else fee),
                goods,
                int(coupon is not None and coupon.needs_claim),
                order.activity_id if order else "",
                coupon.activity_id if coupon else "",
            )
            if best is None or key < best[0]:
                best = (key, order, coupon)
    assert best is not None
    (_, goods, *_), order, coupon = best
    if coupon is not None:
        coupon = replace(coupon, discount=after_items - (order.discount if order else 0) - goods)
    waiver = None
    if fee > 0:
        for state in shipping_options:  # sorted by id: the lowest that qualifies
            if goods >= (state.activity.min_spend or 0):
                waiver = state.deal(fee)
                break
    return _Choice(order, coupon, waiver, goods, 0 if waiver else fee)


def quote_cart(
    products: Mapping[str, Product],
    cart: Sequence[CartLine],
    activities: Sequence[Activity],
    ctx: DealContext,
) -> CartQuote:
    """Price ``cart`` for ``ctx.shopper`` at ``ctx.now`` with the best stacking of deals.

    Args:
        products: Product id -> product; must hold every product of the cart.
        cart: The lines, in order; lines of the same product are merged.
        activities: The activities to consider (one revision per id), live or not; the quote
            says why each one that does not apply does not.
        ctx: The shopper, the moment, the shipping fee and their claims and budgets.

    Returns:
        The quote: lines after the item level, the chosen order, coupon and free-shipping
        deals, totals, the gap to the next saving and the reasons for the rest.

    Raises:
        CartError: The cart is empty, names unknown products, or has a quantity below 1.
        ValidationError: An activity id appears twice.

    Example:
        >>> from datetime import UTC, datetime
        >>> from assistant.domain import Activity, ActivityType, CartLine, Product, Scope
        >>> from assistant.domain import Shopper, Tier
        >>> from assistant.schedule import Schedule
        >>> jan = Schedule.once(datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 2, 1, tzinfo=UTC))
        >>> shoe = Product("P1", "Stride Run 2", "shoes/running", "Stride", price=6000)
        >>> deals = [
        ...     Activity("A1", ActivityType.PERCENT_OFF, Scope(categories=("shoes",)), jan,
        ...              percent=20),
        ...     Activity("A3", ActivityType.THRESHOLD, Scope(all=True), jan,
        ...              tiers=(Tier(5000, 500), Tier(10000, 1500))),
        ... ]
        >>> ctx = DealContext(datetime(2030, 1, 15, tzinfo=UTC), Shopper("U1"), shipping_fee=600)
        >>> quote = quote_cart({"P1": shoe}, [CartLine("P1", 2)], deals, ctx)
        >>> quote.goods_total, quote.savings, quote.payable, quote.breakdown()
        (9100, 2900, 9700, {'A1': 2400, 'A3': 500})
        >>> quote.gap
        Gap(activity_id='A3', add=400, unlocks=1000)
    """
    lines = _validated_lines(products, cart)
    states = _states(activities, [product for product, _ in lines], ctx)
    quoted = _item_level(lines, states, ctx)
    subtotal = sum(line.subtotal for line in quoted)
    after_items = sum(line.total for line in quoted)

    orders: list[AppliedDeal] = []
    coupons: list[AppliedDeal] = []
    bases: dict[str, int] = {}
    for state in states:
        group = state.activity.group
        if state.reason is not None or group not in (Group.ORDER, Group.COUPON):
            continue
        if not state.activity.value_known:
            continue  # a coupon without a face value takes nothing off and is never applied
        base, units = _in_scope(state, quoted)
        bases[state.activity.id] = base
        if group is Group.ORDER:
            discount = order_discount(state.activity, base, units)
        else:
            discount = coupon_discount(state.activity, base)
        if discount is None:
            state.reason = IneligibleReason.MIN_SPEND_NOT_MET
        elif group is Group.ORDER:
            orders.append(state.deal(discount))
        else:
            coupons.append(state.deal(discount, state.activity.id not in ctx.held))

    shipping_options = sorted(
        (s for s in states if s.reason is None and s.activity.group is Group.SHIPPING),
        key=lambda s: s.activity.id,
    )
    choice = _choose(orders, coupons, shipping_options, after_items, ctx)
    for state in shipping_options:
        if choice.goods_total < (state.activity.min_spend or 0):
            state.reason = IneligibleReason.MIN_SPEND_NOT_MET

    short = IneligibleReason.MIN_SPEND_NOT_MET
    gap = find_gap(
        [
            (s.activity, bases[s.activity.id])
            for s in states
            if s.activity.type is ActivityType.THRESHOLD and s.activity.id in bases
        ],
        [
            (s.activity, bases[s.activity.id])
            for s in states
            if s.activity.group is Group.COUPON and s.reason is short
        ],
        [s.activity for s in shipping_options if s.reason is short],
        order_discount=choice.order.discount if choice.order else 0,
        coupon_discount_now=choice.coupon.discount if choice.coupon else 0,
        goods_total=choice.goods_total,
        shipping=choice.shipping,
    )

    applied = [line.item_deal for line in quoted] + [
        choice.order,
        choice.coupon,
        choice.free_shipping,
    ]
    ends: list[datetime] = [d.valid_until for d in applied if d and d.valid_until]
    return CartQuote(
        lines=quoted,
        order=choice.order,
        coupon=choice.coupon,
        free_shipping=choice.free_shipping,
        subtotal=subtotal,
        goods_total=choice.goods_total,
        savings=subtotal - choice.goods_total,
        shipping=choice.shipping,
        payable=choice.goods_total + choice.shipping,
        gap=gap,
        ineligible=MappingProxyType(
            {s.activity.id: s.reason for s in states if s.reason is not None}
        ),
        valid_until=min(ends, default=None),
    )


def quote_item(product: Product, activities: Sequence[Activity], ctx: DealContext) -> CartQuote:
    """Price one unit of ``product`` alone; its final price is the quote's ``goods_total``.

    Args:
        product: The product.
        activities: The activities to consider, as for :func:`quote_cart`.
        ctx: The shopper, the moment and their claims and budgets.
    """
    return quote_cart({product.id: product}, [CartLine(product.id, 1)], activities, ctx)
