"""A brute-force oracle for the deal engine, written from the deal model alone.

It shares nothing with :mod:`assistant.deals` but the domain dataclasses,
:func:`assistant.money.percent_of` and the schedule's occurrence expansion: its own scope,
audience and eligibility checks, its own arithmetic, and instead of choosing, it tries every
order activity (or none) x every coupon (or none) x every free-shipping activity (or none) and
keeps the lowest payable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from assistant.deals import DealContext
from assistant.domain import Activity, ActivityStatus, CartLine, Product, Scope, Shopper
from assistant.money import percent_of

ITEM_TYPES = {"flash_sale", "percent_off", "member_day"}
ORDER_TYPES = {"threshold", "bundle"}
COUPON_TYPES = {"coupon", "new_user"}


def scope_has(scope: Scope, product: Product) -> bool:
    """Own scope matching: every non-empty selector must match; categories by path prefix."""
    if scope.all:
        return True
    if scope.categories:
        path = product.category.split("/")
        if not any(
            path[: len(c.strip("/").split("/"))] == c.strip("/").split("/")
            for c in scope.categories
        ):
            return False
    if scope.brands and all(b.casefold() != product.brand.casefold() for b in scope.brands):
        return False
    return not scope.products or any(pid == product.id for pid in scope.products)


def admits(activity: Activity, shopper: Shopper) -> bool:
    kind = activity.audience.kind
    if kind == "all":
        return True
    if kind == "members":
        return shopper.member
    if kind == "new_users":
        return shopper.new_user
    return activity.audience.segment in shopper.segments


def _future_occurrence(activity: Activity, ctx: DealContext) -> bool:
    schedule = activity.schedule
    if not schedule.is_recurring:
        return ctx.now < schedule.starts_at
    last = schedule.ends_at or ctx.now + timedelta(days=60)
    if last <= ctx.now:
        return False
    return any(start > ctx.now for start, _ in schedule.windows(ctx.now, last))


def coupon_full(activity: Activity) -> int | None:
    if activity.amount is not None:
        cap = activity.max_discount
        return activity.amount if cap is None else min(cap, activity.amount)
    return activity.max_discount


def standing_reason(activity: Activity, ctx: DealContext) -> str | None:
    """Every cart-independent reason, in the model's order."""
    live = activity.schedule.window_at(ctx.now) is not None
    if activity.status == ActivityStatus.ENDED:
        return "expired"
    if activity.status != ActivityStatus.ACTIVE:
        return "not_started" if live or _future_occurrence(activity, ctx) else "expired"
    if not live:
        return "not_started" if _future_occurrence(activity, ctx) else "expired"
    if not admits(activity, ctx.shopper):
        return "audience"
    is_coupon = activity.type.value in COUPON_TYPES
    holds = is_coupon and activity.id in ctx.held
    limit = activity.per_user_limit
    if limit is not None and not holds and ctx.uses.get(activity.id, 0) >= limit:
        return "per_user_limit"
    if activity.budget is not None and not holds:
        left = ctx.budget_left.get(activity.id, activity.budget)
        need = coupon_full(activity) if is_coupon else None
        if (need is None and left <= 0) or (need is not None and left < need):
            return "budget_exhausted"
    units = activity.quantity_limit
    if units is not None and ctx.units_left.get(activity.id, units) <= 0:
        return "sold_out"
    return None


def _cap(activity: Activity, value: int, base: int) -> int:
    if activity.max_discount is not None and value > activity.max_discount:
        value = activity.max_discount
    if value > base:
        value = base
    return max(value, 0)


@dataclass(frozen=True)
class Evaluation:
    """One stacking choice, fully priced."""

    items: tuple[tuple[str, int] | None, ...]  # per merged line: (activity id, discount)
    order: tuple[str, int] | None
    coupon: tuple[str, int] | None
    free_shipping: str | None
    subtotal: int
    goods_total: int
    shipping: int

    @property
    def payable(self) -> int:
        return self.goods_total + self.shipping


class Oracle:
    """Prices one cart by enumeration. Build once per example."""

    def __init__(
        self,
        products: Mapping[str, Product],
        cart: Sequence[CartLine],
        activities: Sequence[Activity],
        ctx: DealContext,
    ) -> None:
        merged: dict[str, int] = {}
        for line in cart:
            merged[line.product_id] = merged.get(line.product_id, 0) + line.quantity
        self.lines = [(products[pid], qty) for pid, qty in merged.items()]
        self.activities = {a.id: a for a in activities}
        self.ctx = ctx
        self.standing = {a.id: standing_reason(a, ctx) for a in activities}
        self.covers = {
            a.id: [i for i, (p, _) in enumerate(self.lines) if scope_has(a.scope, p)]
            for a in activities
        }
        self.items = self._item_level()
        self.line_totals = [
            p.price * q - (d[1] if d else 0)
            for (p, q), d in zip(self.lines, self.items, strict=True)
        ]
        self.subtotal = sum(p.price * q for p, q in self.lines)

    def ok(self, aid: str) -> bool:
        return self.standing[aid] is None and bool(self.covers[aid])

    def _item_level(self) -> tuple[tuple[str, int] | None, ...]:
        left = {
            a.id: self.ctx.units_left.get(a.id, a.quantity_limit)
            for a in self.activities.values()
            if a.quantity_limit is not None
        }
        out: list[tuple[str, int] | None] = []
        for i, (product, qty) in enumerate(self.lines):
            options = []
            for aid, a in self.activities.items():
                if a.type.value not in ITEM_TYPES or not self.ok(aid) or i not in self.covers[aid]:
                    continue
                units = qty if aid not in left else min(qty, left[aid])
                if units < 1:
                    continue
                assert a.percent is not None
                off = _cap(a, percent_of(product.price * units, a.percent), product.price * units)
                if off > 0:
                    options.append((-off, aid, units))
            if not options:
                out.append(None)
                continue
            neg, aid, units = min(options)
            if aid in left:
                left[aid] -= units
            out.append((aid, -neg))
        return tuple(out)

    def base(self, aid: str) -> int:
        return sum(self.line_totals[i] for i in self.covers[aid])

    def units(self, aid: str) -> int:
        return sum(self.lines[i][1] for i in self.covers[aid])

    def order_value(self, aid: str) -> int | None:
        a, base = self.activities[aid], self.base(aid)
        if a.type.value == "threshold":
            best = None
            for tier in a.tiers:
                if base >= tier.threshold and (best is None or tier.threshold > best.threshold):
                    best = tier
            return None if best is None else _cap(a, best.discount, base)
        assert a.min_quantity is not None
        if self.units(aid) < a.min_quantity:
            return None
        raw = a.amount if a.amount is not None else percent_of(base, a.percent or 0)
        return _cap(a, raw, base)

    def coupon_value(self, aid: str, base: int | None = None) -> int | None:
        a = self.activities[aid]
        base = self.base(aid) if base is None else base
        if a.min_spend is not None and base < a.min_spend:
            return None
        raw = a.amount if a.amount is not None else percent_of(base, a.percent or 0)
        return _cap(a, raw, base)

    def evaluate(
        self, order: str | None, coupon: str | None, free: str | None
    ) -> Evaluation | None:
        """The priced choice, or ``None`` if it is not a valid one."""
        after_items = sum(self.line_totals)
        order_pair = coupon_pair = None
        order_off = 0
        if order is not None:
            a = self.activities[order]
            value = self.order_value(order) if self.ok(order) else None
            if a.type.value not in ORDER_TYPES or value is None:
                return None
            order_pair, order_off = (order, value), value
        coupon_off = 0
        if coupon is not None:
            a = self.activities[coupon]
            value = self.coupon_value(coupon) if self.ok(coupon) else None
            if a.type.value not in COUPON_TYPES or value is None:
                return None
            coupon_off = min(value, after_items - order_off)
            coupon_pair = (coupon, coupon_off)
        goods = after_items - order_off - coupon_off
        shipping = self.ctx.shipping_fee
        if free is not None:
            a = self.activities[free]
            if a.type.value != "free_shipping" or not self.ok(free):
                return None
            if goods < (a.min_spend or 0):
                return None
            shipping = 0
        return Evaluation(self.items, order_pair, coupon_pair, free, self.subtotal, goods, shipping)

    def every_choice(self) -> list[Evaluation]:
        by_type: dict[str, list[str | None]] = {"order": [None], "coupon": [None], "ship": [None]}
        for aid, a in self.activities.items():
            kind = a.type.value
            if kind in ORDER_TYPES:
                by_type["order"].append(aid)
            elif kind in COUPON_TYPES:
                by_type["coupon"].append(aid)
            elif kind == "free_shipping":
                by_type["ship"].append(aid)
        found = []
        for o in by_type["order"]:
            for c in by_type["coupon"]:
                for f in by_type["ship"]:
                    priced = self.evaluate(o, c, f)
                    if priced is not None:
                        found.append(priced)
        return found

    def best_payable(self) -> int:
        return min(e.payable for e in self.every_choice())

    def preferred(self) -> Evaluation:
        """The model's pick among the cheapest: most savings, fewest claims, smallest ids."""

        def key(e: Evaluation) -> tuple[int, int, int, str, str, str]:
            claims = int(e.coupon is not None and e.coupon[0] not in self.ctx.held)
            return (
                e.payable,
                e.goods_total - e.subtotal,
                claims,
                e.order[0] if e.order else "",
                e.coupon[0] if e.coupon else "",
                e.free_shipping or "",
            )

        return min(self.every_choice(), key=key)

    def reasons(self, goods_total: int) -> dict[str, str]:
        """Every activity's reason it does not apply, free shipping judged on ``goods_total``."""
        out: dict[str, str] = {}
        for aid, a in self.activities.items():
            reason = self.standing[aid]
            if reason is None and not self.covers[aid]:
                reason = "out_of_scope"
            if reason is None:
                kind = a.type.value
                short = (
                    (kind in ORDER_TYPES and self.order_value(aid) is None)
                    or (kind in COUPON_TYPES and self.coupon_value(aid) is None)
                    or (kind == "free_shipping" and goods_total < (a.min_spend or 0))
                )
                reason = "min_spend_not_met" if short else None
            if reason is not None:
                out[aid] = reason
        return out

    def gap(self, chosen: Evaluation) -> tuple[str, int, int] | None:
        """``(activity id, add, unlocks)`` from the model's definition of the gap."""
        reasons = self.reasons(chosen.goods_total)
        order_now = chosen.order[1] if chosen.order else 0
        coupon_now = chosen.coupon[1] if chosen.coupon else 0
        found = []
        for aid, a in self.activities.items():
            kind = a.type.value
            if kind == "threshold" and reasons.get(aid) in (None, "min_spend_not_met"):
                base = self.base(aid)
                for tier in a.tiers:
                    if tier.threshold > base:
                        value = _cap(a, tier.discount, tier.threshold)
                        found.append((tier.threshold - base, -(value - order_now), aid))
            elif kind in COUPON_TYPES and reasons.get(aid) == "min_spend_not_met":
                assert a.min_spend is not None
                value = self.coupon_value(aid, a.min_spend) or 0
                found.append((a.min_spend - self.base(aid), -(value - coupon_now), aid))
            elif kind == "free_shipping" and reasons.get(aid) == "min_spend_not_met":
                found.append(((a.min_spend or 0) - chosen.goods_total, -chosen.shipping, aid))
        useful = sorted(c for c in found if c[1] < 0 and c[0] > 0)
        if not useful:
            return None
        add, neg_unlocks, aid = useful[0]
        return aid, add, -neg_unlocks
