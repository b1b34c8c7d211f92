"""One-unit final prices of many products for one shopper now, vectorized and exact.

:func:`assistant.deals.quote_item` prices one product against every activity: on the demo world
(5,000 products, 3,360 activities) about 0.2 s per product with every activity, about 1 ms with
:func:`assistant.pricing.price_items`' filtering. A turn needs the final price of a few hundred
candidates for one shopper in a few milliseconds, so :class:`CatalogPricer` splits the work the
way the deal model allows:

* once per catalog snapshot: product and activity terms as arrays, and which activities cover
  which product (a CSR matrix built with :class:`assistant.pricing.ScopeIndex`, the semantics of
  :meth:`assistant.domain.Scope.covers`), with each item-level discount of one unit, which
  depends on the list price only;
* once per turn (:meth:`CatalogPricer.context`): which activities the shopper may use now, the
  engine's ``standing`` checks over arrays (status and live window, audience, per-user limit,
  budget against :func:`assistant.deals.full_value`, units left; a held coupon skips the limit
  and the budget). Recurring windows are expanded once per UTC day and cached;
* per call (:meth:`CatalogPricer.price`): the levels of a one-unit cart over the covering
  entries of every requested product at once.

The result equals ``quote_item(product, activities, ctx).goods_total`` exactly; the tests check
it against the engine on the demo world and on random worlds. For one unit the engine's search
over order x coupon pairs reduces to: take the largest order and coupon discounts (goods
``g_min``) unless the shipping fee makes it cheaper to stop at the free-shipping minimum ``m``:
then the largest pair total ``d <= base - m`` gives goods ``base - d``, chosen when that is below
``g_min + fee`` (equal payables go to the lower goods).

Example:
    >>> pricer = CatalogPricer(products, activities)  # doctest: +SKIP
    >>> prices = pricer.price(["P1", "P7"], pricer.context(ctx))  # doctest: +SKIP
    >>> prices.final_price  # doctest: +SKIP
    array([4200, 1999])
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.deals import DealContext, full_value
from assistant.domain import Activity, ActivityStatus, ActivityType, Group, Product
from assistant.errors import UnknownEntityError, ValidationError
from assistant.pricing import ScopeIndex
from assistant.schedule import Schedule, aware

__all__ = ["CatalogPricer", "ItemPrices", "PricingContext", "Products", "percent_of_minor"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Products = Sequence[str] | Sequence[int] | npt.NDArray[np.integer[Any]]
"""Product ids, or row numbers of the pricer's catalog."""

_BIG = np.int64(1) << 60
"""Stands for "no limit" in int64 arrays; far above any sum of two amounts."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY = timedelta(days=1)
_DAYS_CACHED = 8
_PRICER_KEYS = itertools.count(1)

# Audience kinds as small ints.
_ALL, _NEW, _MEMBERS, _SEGMENT = 0, 1, 2, 3
_AUDIENCE_CODE = {"all": _ALL, "new_users": _NEW, "members": _MEMBERS, "segment": _SEGMENT}
# How an order- or coupon-level activity computes its discount.
_TIERS, _AMOUNT, _PERCENT = 0, 1, 2
# Stacking groups as small ints.
_G_ITEM, _G_ORDER, _G_COUPON, _G_SHIP = 0, 1, 2, 3
_GROUP_CODE = {Group.ITEM: _G_ITEM, Group.ORDER: _G_ORDER, Group.COUPON: _G_COUPON}
_GROUP_CODE[Group.SHIPPING] = _G_SHIP


def _micros(moment: datetime) -> int:
    """Microseconds since the epoch: exact, so comparisons match ``datetime``'s."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def percent_of_minor(minor: IntArray, percent: IntArray) -> IntArray:
    """``percent`` % of non-negative amounts, rounded half up: :func:`assistant.money.percent_of`.

    ``floor(minor * percent / 100 + 1/2)`` in integers; for ``minor >= 0`` this is Decimal's
    ``ROUND_HALF_UP``.

    Args:
        minor: Amounts in minor units, shape (n,), non-negative.
        percent: Percentages, shape (n,) or broadcastable.
    """
    return (minor * percent + 50) // 100


def _gather(indptr: IntArray, rows: IntArray) -> tuple[IntArray, IntArray]:
    """CSR entries of ``rows``: (entry positions, the index into ``rows`` each belongs to)."""
    first = indptr[rows]
    counts = indptr[rows + 1] - first
    total = int(counts.sum())
    seg = np.repeat(np.arange(rows.size, dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    positions = np.arange(total, dtype=np.int64) + (first - starts)[seg]
    return positions, seg


@dataclass(frozen=True, slots=True)
class PricingContext:
    """One shopper at one moment, resolved against a :class:`CatalogPricer`'s activities.

    Attributes:
        ctx: The engine's context it was built from.
        usable: Per activity (the pricer's order), shape (n_activities,): whether it passes
            every standing check for this shopper now (scope and minimum spends aside).
        pricer_key: Identifies the pricer that built it; another pricer refuses it.
    """

    ctx: DealContext
    usable: BoolArray
    pricer_key: int

    @property
    def shipping_fee(self) -> int:
        """The order's shipping fee before any free-shipping deal."""
        return self.ctx.shipping_fee


@dataclass(frozen=True, slots=True)
class ItemPrices:
    """One-unit prices of the requested products, all arrays of shape (n,) in request order.

    Attributes:
        rows: The products' rows in the pricer.
        price: List prices (minor units).
        final_price: ``quote_item(...).goods_total``: the goods after every discount.
        savings: ``price - final_price``.
        shipping: The shipping fee a one-unit order pays (0 when a free-shipping deal waives
            it), as the quote's ``shipping``.
        covered: Whether at least one activity the shopper may use now covers the product and
            could change a one-unit quote at its price (``eligibility(activity, ctx, [product])
            is None`` and :func:`assistant.pricing.could_apply_to_one_unit`), whether or not it
            ends up saving money (a threshold tier the item-level discount falls below, a coupon
            worth less than another).
    """

    rows: IntArray
    price: IntArray
    final_price: IntArray
    savings: IntArray
    shipping: IntArray
    covered: BoolArray


class CatalogPricer:
    """Exact one-unit final prices for many products, precomputed per catalog snapshot.

    Building costs about 0.2 s for the demo world (5,000 products, 3,360 activities); the
    first :meth:`context` of a UTC day expands that day's recurring occurrences (about 0.1 s),
    later ones reuse them (the last eight days are kept).

    Args:
        products: The catalog's priced products; their order defines the rows.
        activities: Every activity at its current revision (one per id), live or not.
        now: If given, expand the recurring occurrences of its UTC day now rather than in the
            first turn.

    Raises:
        ValidationError: A product or activity id appears twice, or a price is negative or
            not an integer.

    Example:
        >>> from datetime import UTC, datetime
        >>> from assistant.domain import ActivityType, Scope, Shopper
        >>> from assistant.schedule import Schedule, aware
        >>> jan = Schedule.once(datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 2, 1, tzinfo=UTC))
        >>> shoe = Product("P1", "Stride Run 2", "shoes/running", "Stride", price=6000)
        >>> sale = Activity("A1", ActivityType.PERCENT_OFF, Scope(categories=("shoes",)), jan,
        ...                 percent=20)
        >>> pricer = CatalogPricer([shoe], [sale])
        >>> ctx = DealContext(datetime(2030, 1, 15, tzinfo=UTC), Shopper("U1"), shipping_fee=600)
        >>> pricer.final_prices(["P1"], pricer.context(ctx)).tolist()
        [4800]
    """

    def __init__(
        self,
        products: Sequence[Product],
        activities: Sequence[Activity],
        *,
        now: datetime | None = None,
    ) -> None:
        self.products = tuple(products)
        self.activities = tuple(activities)
        self.row_of = _unique_index("product", [p.id for p in self.products])
        self.activity_index = _unique_index("activity", [a.id for a in self.activities])
        bad = [
            p.id
            for p in self.products
            if not isinstance(p.price, int) or isinstance(p.price, bool) or p.price < 0
        ]
        if bad:
            raise ValidationError(
                f"product price must be a non-negative integer of minor units: {', '.join(bad[:5])}"
            )
        self.list_price = np.array([p.price for p in self.products], dtype=np.int64)
        self._lock = threading.Lock()
        self._day_windows: dict[int, tuple[IntArray, IntArray, IntArray]] = {}
        self._key = next(_PRICER_KEYS)
        self._activity_arrays()
        self._coverage()
        if now is not None:
            self.live_at(aware(now, "now"))

    # ---- once per catalog -------------------------------------------------------------------

    def _activity_arrays(self) -> None:
        acts = self.activities
        n = len(acts)

        def column(values: list[int | None], default: int) -> IntArray:
            return np.array([default if v is None else v for v in values], dtype=np.int64)

        self.group = np.array([_GROUP_CODE[a.group] for a in acts], dtype=np.int64)
        self.percent = column([a.percent for a in acts], 0)
        self.amount = column([a.amount for a in acts], 0)
        self.max_discount = column([a.max_discount for a in acts], int(_BIG))
        self.min_spend = column([a.min_spend for a in acts], 0)
        # Only coupons and free shipping have a minimum spend; the engine ignores one elsewhere.
        self.coupon_min_spend = np.where(self.group == _G_COUPON, self.min_spend, 0)
        self.per_user_limit = column([a.per_user_limit for a in acts], int(_BIG))
        self.budget = column([a.budget for a in acts], 0)
        self.has_budget = np.array([a.budget is not None for a in acts], dtype=np.bool_)
        fulls = [full_value(a) for a in acts]
        self.full_value = column(fulls, 0)
        self.has_full_value = np.array([f is not None for f in fulls], dtype=np.bool_)
        self.quantity_limit = column([a.quantity_limit for a in acts], 0)
        self.has_quantity_limit = np.array(
            [a.quantity_limit is not None for a in acts], dtype=np.bool_
        )
        self.claimable = np.array([a.type.claimable for a in acts], dtype=np.bool_)
        self.active = np.array([a.status is ActivityStatus.ACTIVE for a in acts], dtype=np.bool_)
        self.audience_kind = np.array(
            [_AUDIENCE_CODE[a.audience.kind] for a in acts], dtype=np.int64
        )
        segments = sorted({a.audience.segment for a in acts if a.audience.segment})
        self.segment_code = {name: i for i, name in enumerate(segments)}
        self.audience_segment = np.array(
            [self.segment_code.get(a.audience.segment or "", -1) for a in acts], dtype=np.int64
        )
        # Order / coupon terms: tiers, a fixed amount or a percent of the in-scope base.
        self.ladder_kind = np.array(
            [
                _TIERS if a.type is ActivityType.THRESHOLD else _AMOUNT
                if a.amount is not None else _PERCENT
                for a in acts
            ],
            dtype=np.int64,
        )  # fmt: skip
        depth = max((len(a.tiers) for a in acts), default=0) or 1
        self.tier_threshold = np.full((n, depth), _BIG, dtype=np.int64)
        self.tier_discount = np.zeros((n, depth), dtype=np.int64)
        for i, a in enumerate(acts):
            for j, tier in enumerate(a.tiers):
                self.tier_threshold[i, j] = tier.threshold
                self.tier_discount[i, j] = tier.discount
        # The lowest list price at which an activity can change a one-unit quote: a unit's goods
        # never exceed its price, so a threshold's first tier, a coupon's or free shipping's
        # minimum spend above it cannot be reached. Never (_BIG): a coupon of unknown value
        # (nothing to give), a bundle that needs two or more units.
        self.reach_price = np.array([_reach_price(a) for a in acts], dtype=np.int64)
        # Schedules: one-off windows as arrays, recurring ones expanded per UTC day on demand.
        self.once_start = np.full(n, _BIG, dtype=np.int64)
        self.once_end = np.full(n, -_BIG, dtype=np.int64)
        recurring = []
        for i, a in enumerate(acts):
            if a.status is not ActivityStatus.ACTIVE:
                continue  # never live, whatever the schedule says
            if a.schedule.is_recurring:
                recurring.append(i)
            else:
                assert a.schedule.ends_at is not None
                self.once_start[i] = _micros(a.schedule.starts_at)
                self.once_end[i] = _micros(a.schedule.ends_at)
        self.recurring = np.array(recurring, dtype=np.int64)

    def _coverage(self) -> None:
        """Which activities cover which product and could change its one-unit quote (CSR).

        Entries are grouped by product row, activities in order within a row, each with the
        static terms a turn needs.
        """
        index = ScopeIndex(self.products)
        n_rows = len(self.products)
        row_parts: list[IntArray] = [np.zeros(0, dtype=np.int64)]
        act_parts: list[IntArray] = [np.zeros(0, dtype=np.int64)]
        for i, activity in enumerate(self.activities):
            rows = index.rows(activity.scope)
            rows = rows[self.list_price[rows] >= self.reach_price[i]]
            row_parts.append(rows)
            act_parts.append(np.full(rows.size, i, dtype=np.int64))
        rows_all = np.concatenate(row_parts)
        order = np.argsort(rows_all, kind="stable")
        a = np.concatenate(act_parts)[order]
        self.entry_activity = a
        self.indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows_all, minlength=n_rows), out=self.indptr[1:])
        price = self.list_price[rows_all[order]]
        self.entry_group = self.group[a]
        # One unit's item-level discount depends on the list price only.
        off = np.minimum(percent_of_minor(price, self.percent[a]), self.max_discount[a])
        off = np.maximum(0, np.minimum(off, price))
        self.entry_item_off = np.where(self.entry_group == _G_ITEM, off, 0)
        self.entry_ship_min = np.where(self.entry_group == _G_SHIP, self.min_spend[a], _BIG)

    # ---- once per turn ----------------------------------------------------------------------

    def _recurring_windows(self, day: datetime) -> tuple[IntArray, IntArray, IntArray]:
        """(activity, start, end) of every recurring occurrence overlapping the UTC ``day``."""
        key = _micros(day)
        with self._lock:
            cached = self._day_windows.get(key)
        if cached is not None:
            return cached
        owners: list[int] = []
        starts: list[int] = []
        ends: list[int] = []
        expanded: dict[Schedule, list[tuple[int, int]]] = {}  # activities often share one
        for i in self.recurring.tolist():
            schedule = self.activities[i].schedule
            windows = expanded.get(schedule)
            if windows is None:
                windows = [(_micros(s), _micros(e)) for s, e in schedule.windows(day, day + _DAY)]
                expanded[schedule] = windows
            for start, end in windows:
                owners.append(i)
                starts.append(start)
                ends.append(end)
        found = (
            np.array(owners, dtype=np.int64),
            np.array(starts, dtype=np.int64),
            np.array(ends, dtype=np.int64),
        )
        with self._lock:
            if len(self._day_windows) >= _DAYS_CACHED:
                self._day_windows.pop(next(iter(self._day_windows)))
            self._day_windows[key] = found
        return found

    def live_at(self, now: datetime) -> BoolArray:
        """Per activity, shape (n_activities,): active with an occurrence live at ``now``.

        The same as ``status is ACTIVE and schedule.window_at(now) is not None``.
        """
        now = now.astimezone(UTC)
        t = _micros(now)
        live = (self.once_start <= t) & (t < self.once_end)
        if self.recurring.size:
            day = now.replace(hour=0, minute=0, second=0, microsecond=0)
            owners, starts, ends = self._recurring_windows(day)
            live[owners[(starts <= t) & (t < ends)]] = True
        return live

    def _per_activity(self, counts: Mapping[str, int], default: IntArray) -> IntArray:
        """``default`` with the entries of an activity id -> int mapping written over it."""
        out = default.copy()
        index = self.activity_index
        for aid, value in counts.items():
            i = index.get(aid)
            if i is not None:
                out[i] = value
        return out

    def context(self, ctx: DealContext) -> PricingContext:
        """Resolve which activities ``ctx.shopper`` may use at ``ctx.now``.

        Exactly the engine's ``standing`` checks, per activity: active with a live occurrence,
        the audience admits the shopper, uses below the per-user limit and a budget that covers
        the coupon's full value (unless the coupon is held), and units left for a quantity
        limit.
        """
        shopper = ctx.shopper
        usable = self.live_at(ctx.now)
        kind = self.audience_kind
        segment_ok = np.zeros(len(self.segment_code) + 1, dtype=np.bool_)  # last: no segment
        for name in shopper.segments:
            code = self.segment_code.get(name)
            if code is not None:
                segment_ok[code] = True
        usable &= (
            (kind == _ALL)
            | ((kind == _NEW) & shopper.new_user)
            | ((kind == _MEMBERS) & shopper.member)
            | ((kind == _SEGMENT) & segment_ok[self.audience_segment])
        )
        held = np.zeros(len(self.activities), dtype=np.bool_)
        for aid in ctx.held:
            i = self.activity_index.get(aid)
            if i is not None:
                held[i] = True
        held &= self.claimable
        uses = self._per_activity(ctx.uses, np.zeros(len(self.activities), dtype=np.int64))
        usable &= held | (uses < self.per_user_limit)
        left = self._per_activity(ctx.budget_left, self.budget)
        short = np.where(self.has_full_value, left < self.full_value, left <= 0)
        usable &= held | ~self.has_budget | ~short
        units = self._per_activity(ctx.units_left, self.quantity_limit)
        usable &= ~self.has_quantity_limit | (units > 0)
        usable.flags.writeable = False
        return PricingContext(ctx, usable, self._key)

    # ---- per call ---------------------------------------------------------------------------

    def rows(self, products: Products) -> IntArray:
        """Rows of product ids, or validated row numbers, shape (n,).

        Raises:
            UnknownEntityError: An id is not in this pricer's catalog.
            ValidationError: A row number is out of range, or a bare string was given.
        """
        if isinstance(products, str):
            raise ValidationError(f"give a list of product ids, not the string {products!r}")
        ids = (
            [p for p in products if isinstance(p, str)]
            if isinstance(products, list | tuple)
            else []
        )
        if ids and len(ids) == len(products):
            row_of = self.row_of
            missing = sorted({p for p in ids if p not in row_of})
            if missing:
                shown = ", ".join(missing[:20]) + (
                    f" and {len(missing) - 20} more" if len(missing) > 20 else ""
                )
                raise UnknownEntityError(
                    f"unknown product id(s) {shown}: not in this catalog snapshot; "
                    "price only products the pricer was built with"
                )
            return np.array([row_of[p] for p in ids], dtype=np.int64)
        rows = np.asarray(products)
        if rows.size == 0:
            return np.zeros(0, dtype=np.int64)
        if rows.ndim != 1 or not np.issubdtype(rows.dtype, np.integer):
            raise ValidationError("rows must be a 1-d array of integers or a list of product ids")
        rows = rows.astype(np.int64)
        if rows.min() < 0 or rows.max() >= len(self.products):
            raise ValidationError(f"row out of range: rows must be in 0..{len(self.products) - 1}")
        return rows

    def price(self, products: Products, pctx: PricingContext) -> ItemPrices:
        """One-unit prices of ``products`` (ids or rows) for the shopper of ``pctx``.

        Args:
            products: Product ids, or rows (int array of shape (n,)), in any order, repeats
                allowed.
            pctx: From :meth:`context` of this pricer.

        Raises:
            UnknownEntityError: An unknown product id.
            ValidationError: A row out of range, or ``pctx`` built by another pricer.
        """
        if pctx.pricer_key != self._key or pctx.usable.shape != (len(self.activities),):
            raise ValidationError("the pricing context was built by another CatalogPricer")
        rows = self.rows(products)
        n = rows.size
        price = self.list_price[rows]
        positions, seg = _gather(self.indptr, rows)
        keep = np.flatnonzero(pctx.usable[self.entry_activity[positions]])
        positions, seg = positions[keep], seg[keep]
        covered = np.bincount(seg, minlength=n) > 0
        group = self.entry_group[positions]

        # Item level: the single best one-unit discount.
        pick = group == _G_ITEM
        best_item = np.zeros(n, dtype=np.int64)
        np.maximum.at(best_item, seg[pick], self.entry_item_off[positions[pick]])
        base = price - best_item

        # Order and coupon levels on the base after the item level.
        ladder = np.flatnonzero((group == _G_ORDER) | (group == _G_COUPON))
        l_act = self.entry_activity[positions[ladder]]
        l_seg = seg[ladder]
        l_base = base[l_seg]
        l_kind = self.ladder_kind[l_act]
        reached = (self.tier_threshold[l_act] <= l_base[:, None]).sum(axis=1)
        tier_off = self.tier_discount[l_act, np.maximum(reached - 1, 0)]
        raw = np.where(
            l_kind == _TIERS,
            tier_off,
            np.where(
                l_kind == _AMOUNT,
                self.amount[l_act],
                percent_of_minor(l_base, self.percent[l_act]),
            ),
        )
        applies = np.where(l_kind == _TIERS, reached > 0, l_base >= self.coupon_min_spend[l_act])
        off = np.maximum(0, np.minimum(np.minimum(raw, self.max_discount[l_act]), l_base))
        is_order = group[ladder] == _G_ORDER
        o_pick = applies & is_order
        c_pick = applies & ~is_order
        best_order = np.zeros(n, dtype=np.int64)
        best_coupon = np.zeros(n, dtype=np.int64)
        np.maximum.at(best_order, l_seg[o_pick], off[o_pick])
        np.maximum.at(best_coupon, l_seg[c_pick], off[c_pick])
        goods = base - np.minimum(best_order + best_coupon, base)

        # Shipping: the lowest free-shipping minimum among usable covering ones.
        fee = pctx.ctx.shipping_fee
        pick = group == _G_SHIP
        ship_min = np.full(n, _BIG, dtype=np.int64)
        np.minimum.at(ship_min, seg[pick], self.entry_ship_min[positions[pick]])
        if fee > 0:
            # Below the minimum with the most discount, yet able to reach it: the largest pair
            # total that stays at or above it may be cheaper once the fee is counted.
            need = (goods < ship_min) & (ship_min <= base)
            if need.any():
                goods = self._stop_at_minimum(
                    goods, base, ship_min, need, l_seg, off, o_pick, c_pick, fee
                )
        free = (fee > 0) & (goods >= ship_min)
        shipping = np.where(free, 0, fee).astype(np.int64)
        return ItemPrices(rows, price, goods, price - goods, shipping, covered)

    @staticmethod
    def _stop_at_minimum(
        goods: IntArray,
        base: IntArray,
        ship_min: IntArray,
        need: BoolArray,
        l_seg: IntArray,
        off: IntArray,
        o_pick: BoolArray,
        c_pick: BoolArray,
        fee: int,
    ) -> IntArray:
        """Goods after the engine's order x coupon choice where free shipping is in play.

        For products in ``need`` the most discount leaves the goods under the free-shipping
        minimum. The best pair (order or none, coupon or none) whose total ``d`` keeps the goods
        at or above it, ``d <= base - minimum``, pays ``base - d``; it wins when that is below
        ``goods + fee`` (the engine prefers the lower goods when payables tie).
        """
        n = goods.size
        room = base - ship_min  # >= 0 where needed
        keep_o = o_pick & need[l_seg]
        keep_c = c_pick & need[l_seg]
        o_seg, o_off = l_seg[keep_o], off[keep_o]
        c_seg, c_off = l_seg[keep_c], off[keep_c]
        best = np.zeros(n, dtype=np.int64)  # (none, none) always fits
        fits = o_off <= room[o_seg]
        np.maximum.at(best, o_seg[fits], o_off[fits])
        fits = c_off <= room[c_seg]
        np.maximum.at(best, c_seg[fits], c_off[fits])
        # Every order x coupon pair of the same product; entries are grouped by product.
        c_counts = np.bincount(c_seg, minlength=n)
        c_first = np.cumsum(c_counts) - c_counts
        per_order = c_counts[o_seg]
        total = int(per_order.sum())
        if total:
            o_rep = np.repeat(np.arange(o_seg.size, dtype=np.int64), per_order)
            pair_first = np.cumsum(per_order) - per_order
            within = np.arange(total, dtype=np.int64) - pair_first[o_rep]
            c_idx = c_first[o_seg[o_rep]] + within
            pair_seg = o_seg[o_rep]
            sums = o_off[o_rep] + c_off[c_idx]
            fits = sums <= room[pair_seg]
            np.maximum.at(best, pair_seg[fits], sums[fits])
        stop = base - best
        return np.where(need & (stop < goods + fee), stop, goods)

    def final_prices(self, products: Products, pctx: PricingContext) -> IntArray:
        """``quote_item(product, activities, pctx.ctx).goods_total`` of each, shape (n,)."""
        return self.price(products, pctx).final_price


def _reach_price(activity: Activity) -> int:
    """The lowest list price at which ``activity`` can change a one-unit quote, or _BIG."""
    kind = activity.type
    if kind is ActivityType.THRESHOLD:
        return activity.tiers[0].threshold
    if kind is ActivityType.BUNDLE:
        return 0 if (activity.min_quantity or 1) <= 1 else int(_BIG)
    if activity.group is Group.COUPON:
        return activity.min_spend or 0 if activity.value_known else int(_BIG)
    return activity.min_spend or 0 if activity.group is Group.SHIPPING else 0


def _unique_index(kind: str, ids: list[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    duplicates: set[str] = set()
    for i, key in enumerate(ids):
        if key in index:
            duplicates.add(key)
        index[key] = i
    if duplicates:
        raise ValidationError(
            f"{kind} id(s) {', '.join(sorted(duplicates)[:20])} given more than once; pass one each"
        )
    return index
