"""Pricing a whole catalog for one shopper at one moment, fast and exactly.

The deal engine prices one cart against a list of activities; a catalog of thousands of
products against thousands of activities needs the work cut down first. :func:`price_items`
gives the prices and deals of ``quote_item(product, activities, ctx)`` for every product, but
resolves the live
activities once, looks up which of them cover each product through a :class:`ScopeIndex`, keeps
only those that can change a one-unit quote at that price, and prices products that share a
price and a set of usable activities once.

Example:
    >>> quotes = price_items(products, activities, ctx)  # doctest: +SKIP
    >>> quotes[0].goods_total  # the first product's final price, minor units  # doctest: +SKIP
    3920
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from assistant.deals import CartQuote, DealContext, eligibility, quote_item
from assistant.domain import Activity, ActivityType, Group, Product, Scope
from assistant.schedule import Schedule

__all__ = ["ScopeIndex", "could_apply_to_one_unit", "live_activities", "price_items"]

IntArray = npt.NDArray[np.int64]


class ScopeIndex:
    """Which product rows a scope covers, without calling ``Scope.covers`` per product."""

    def __init__(self, products: Sequence[Product]) -> None:
        self.n = len(products)
        self.by_prefix: dict[str, list[int]] = {}
        self.by_brand: dict[str, list[int]] = {}
        self.by_id = {p.id: i for i, p in enumerate(products)}
        for i, p in enumerate(products):
            parts = p.category.split("/")
            for depth in range(1, len(parts) + 1):
                self.by_prefix.setdefault("/".join(parts[:depth]), []).append(i)
            self.by_brand.setdefault(p.brand.casefold(), []).append(i)

    def rows(self, scope: Scope) -> IntArray:
        """The rows ``scope`` covers, sorted (the semantics of ``Scope.covers``)."""
        if scope.all:
            return np.arange(self.n, dtype=np.int64)
        sets: list[IntArray] = []
        if scope.categories:
            found = [self.by_prefix.get(c.strip("/"), []) for c in scope.categories]
            sets.append(np.unique(np.concatenate([np.asarray(f, dtype=np.int64) for f in found])))
        if scope.brands:
            found = [self.by_brand.get(b.casefold(), []) for b in scope.brands]
            sets.append(np.unique(np.concatenate([np.asarray(f, dtype=np.int64) for f in found])))
        if scope.products:
            ids = [self.by_id[p] for p in scope.products if p in self.by_id]
            sets.append(np.unique(np.asarray(ids, dtype=np.int64)))
        out = sets[0]
        for other in sets[1:]:
            out = np.intersect1d(out, other)
        return out


def could_apply_to_one_unit(activity: Activity, price: int) -> bool:
    """Whether ``activity`` can change a one-unit quote of a product at ``price`` (minor).

    Exact for one unit: its goods never exceed the price, so a threshold's first tier, a
    coupon's or free shipping's minimum spend above the price, and a bundle of two or more
    units can never apply; a coupon of unknown value never applies.
    """
    t = activity.type
    if t is ActivityType.THRESHOLD:
        return bool(activity.tiers) and activity.tiers[0].threshold <= price
    if t is ActivityType.BUNDLE:
        return (activity.min_quantity or 1) <= 1
    if t in (ActivityType.COUPON, ActivityType.NEW_USER) and not activity.value_known:
        return False
    return t.group is Group.ITEM or (activity.min_spend or 0) <= price


def live_activities(activities: Sequence[Activity], ctx: DealContext) -> list[Activity]:
    """The activities live at ``ctx.now`` that the shopper may use, each with its schedule
    resolved to the live window (so no RRULE is expanded again per product)."""
    live: list[Activity] = []
    for activity in activities:
        window = activity.schedule.window_at(ctx.now)
        if window is not None and eligibility(activity, ctx) is None:
            live.append(dataclasses.replace(activity, schedule=Schedule.once(*window)))
    return live


def price_items(
    products: Sequence[Product],
    activities: Sequence[Activity],
    ctx: DealContext,
    *,
    progress: bool = False,
) -> list[CartQuote]:
    """``quote_item(product, activities, ctx)`` for every product, in order.

    Prices, applied deals, needs_claim and validity are exactly the engine's; ``ineligible``
    and ``gap`` consider only the activities that could change a one-unit quote.

    Args:
        products: The products to price (shape (n,) in the result's order).
        activities: Every activity; those not live for this shopper now are dropped first.
        ctx: The shopper and the moment.
        progress: A progress bar on stderr.
    """
    live = live_activities(activities, ctx)
    index = ScopeIndex(products)
    shared = [n for n, a in enumerate(live) if a.scope.all]
    covering: list[list[int]] = [[] for _ in products]
    for n, activity in enumerate(live):
        if not activity.scope.all:
            for row in index.rows(activity.scope).tolist():
                covering[row].append(n)
    quotes: list[CartQuote] = []
    cache: dict[tuple[int, tuple[int, ...]], CartQuote] = {}
    bar = tqdm(products, desc="pricing products", unit="product", file=sys.stderr,
               disable=not progress, leave=False)  # fmt: skip
    for row, product in enumerate(bar):
        usable = tuple(
            n for n in shared + covering[row] if could_apply_to_one_unit(live[n], product.price)
        )
        key = (product.price, usable)
        if key not in cache:
            cache[key] = quote_item(product, [live[n] for n in usable], ctx)
        quote = cache[key]
        if quote.lines[0].product_id != product.id:
            quote = dataclasses.replace(
                quote, lines=(dataclasses.replace(quote.lines[0], product_id=product.id),)
            )
        quotes.append(quote)
    return quotes
