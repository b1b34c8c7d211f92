"""The seam between the live catalog and the user-choice model: cards as an ``ItemBatch``.

:func:`snapshot` reads the live catalog from SQL once and turns it into the plain arrays
:mod:`policy.world` takes. The conventions (docs/world.md, "Logged interactions"):

* Rows ``0 .. n_products - 1`` are the priced, in-stock, non-removed products in id order; the
  rows after them are activity cards, in id order.
* ``category`` is a flat index over the products' leaf categories (sorted paths); ``brand``
  indexes brands by product count, most products first (the population's brand 0 is the most
  popular one). Cards whose scope names no brand get one extra pseudo-brand, the last index.
* Prices are floats in shop units (minor units / 10^exponent). A product's final price is the
  deal engine's one-unit goods total for a typical shopper (not a member, not new, no
  segments) at ``now``, claimable coupons included; its deal type is that of the best
  item-level deal, else of the largest order or coupon deal, else free shipping when the one
  unit reaches it; ``needs_claim`` when the quote still needs a claim; flash flag and hours
  left come from that deal.
* An activity card stands for the activity: its leaf is the most common leaf among the
  products in scope, its list price their median price, its depth the nominal depth of its
  terms on that price (percent; a coupon's or bundle's amount over its base; a threshold's
  first tier; free shipping's fee over its minimum spend), capped at 90%. Coupons need a claim;
  hours left are half its typical window. A card is a candidate only while one of its windows
  in the 30 days before ``now`` is live, and only for shoppers its audience admits.
* Popularity: products rank by brand size in their leaf plus seeded noise; cards by how many
  products they cover. Both are quantiles in [0, 1].
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from assistant import store
from assistant.deals import CartQuote, DealContext
from assistant.domain import ActivityType, Product, Shopper
from assistant.money import Currency
from assistant.pricing import ScopeIndex, price_items
from assistant.world._log_cards import LOG_PERIOD, cards_of
from policy.world import DealType, ItemBatch

__all__ = ["LOG_PERIOD", "CatalogSnapshot", "snapshot"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class CatalogSnapshot:
    """The catalog as the log generator sees it; arrays have shape (n,) unless noted.

    Attributes:
        items: every card, products first (shape (n,)).
        ids: catalog id of each row.
        is_activity: bool, whether a row is an activity card.
        n_products: how many rows are products.
        leaves: category index -> leaf path.
        price_levels: float, shape (n_categories,): median product list price per leaf.
        final_minor: int, the final price in minor units (what a purchase costs per unit).
        deal_ids: the activities shown with each row (the deals of a product's quote; the card's
            own id).
        revisions: activity id -> its current revision.
        leaf_products: per leaf, the product rows in it.
        leaf_cards: per leaf, the card rows whose scope covers one of its products.
        card_audience: int, shape (n_cards,), an ``AUDIENCE_CODES`` value per card.
        card_segment: the segment name of each card (None unless a segment audience).
        window_card: int, shape (w,): card number (row - n_products) of each live window.
        window_start: float, shape (w,): window starts, seconds relative to ``now``.
        window_end: float, shape (w,): window ends, seconds relative to ``now``.
    """

    items: ItemBatch
    ids: tuple[str, ...]
    is_activity: npt.NDArray[np.bool_]
    n_products: int
    leaves: tuple[str, ...]
    price_levels: FloatArray
    final_minor: IntArray
    deal_ids: tuple[tuple[str, ...], ...]
    revisions: Mapping[str, int]
    leaf_products: tuple[IntArray, ...]
    leaf_cards: tuple[IntArray, ...]
    card_audience: IntArray
    card_segment: tuple[str | None, ...]
    window_card: IntArray
    window_start: FloatArray
    window_end: FloatArray

    def live(self, cards: IntArray, at: FloatArray) -> npt.NDArray[np.bool_]:
        """Whether card rows ``cards`` (shape (c,)) are live at times ``at`` (shape (s,)).

        Returns shape (s, c). Windows of one card never overlap in a way that matters: the
        latest window starting at or before a moment is the one that can cover it.
        """
        if cards.size == 0 or self.window_card.size == 0:
            return np.zeros((at.size, cards.size), dtype=np.bool_)
        span = float(LOG_PERIOD.total_seconds()) * 4.0
        keys = self.window_card * span + self.window_start
        query = (cards - self.n_products)[None, :] * span + at[:, None]
        idx = np.searchsorted(keys, query, side="right") - 1
        safe = np.maximum(idx, 0)
        same = self.window_card[safe] == (cards - self.n_products)[None, :]
        out: npt.NDArray[np.bool_] = (idx >= 0) & same & (at[:, None] < self.window_end[safe])
        return out


def _load_products(session: Session) -> list[Product]:
    rec = store.ProductRecord
    query = (
        select(rec.id, rec.title, rec.category, rec.brand, rec.price, rec.stock)
        .where(rec.removed_at.is_(None), rec.price.is_not(None), rec.price > 0)
        .where(or_(rec.stock.is_(None), rec.stock > 0))
        .order_by(rec.id)
    )
    return [
        Product(id=i, title=t, category=c.strip("/"), brand=b, price=p, stock=s)
        for i, t, c, b, p, s in session.execute(query)
        if p is not None
    ]


def _quantiles(values: FloatArray) -> FloatArray:
    """Rank quantiles in [0, 1] (ties broken by position, so the result is deterministic)."""
    n = values.size
    ranks = np.empty(n)
    ranks[np.argsort(values, kind="stable")] = np.arange(n)
    out: FloatArray = ranks / max(n - 1, 1)
    return out


class _Priced(NamedTuple):
    """A product's one-unit quote, as the cards need it."""

    final: int
    deal_type: int
    needs_claim: bool
    flash: bool
    until: float | None  # the main deal's end, as a POSIX timestamp
    deal_ids: tuple[str, ...]


def _price(quote: CartQuote) -> _Priced:
    """The deal engine's one-unit quote, reduced to what the card shows."""
    item = quote.lines[0].item_deal
    goods = [d for d in (quote.order, quote.coupon) if d is not None]
    main = item or max(goods, key=lambda d: d.discount, default=None) or quote.free_shipping
    ids = tuple(d.activity_id for d in quote.applied)
    final = max(quote.goods_total, 1)
    if main is None:
        return _Priced(final, int(DealType.NONE), False, False, None, ids)
    until = main.valid_until.timestamp() if main.valid_until is not None else None
    flash = main.type is ActivityType.FLASH_SALE
    return _Priced(final, int(DealType[main.type.name]), bool(quote.to_claim), flash, until, ids)


def snapshot(
    session: Session,
    *,
    now: datetime,
    currency: Currency,
    shipping_fee: int,
    seed: int,
    progress: bool = False,
) -> CatalogSnapshot | None:
    """The live catalog as cards; ``None`` when there is no priced, in-stock product.

    Args:
        session: an open session (read only).
        now: the moment prices are quoted at and the log period ends.
        currency: the shop currency (for shop units).
        shipping_fee: the flat fee in minor units (free-shipping depth, quotes).
        seed: seeds the products' popularity noise.
        progress: show a progress bar on stderr while products are priced.
    """
    products = _load_products(session)
    if not products:
        return None
    activities = store.load_activities(session)
    revisions = {a.id: a.revision for a in activities}
    index = ScopeIndex(products)
    scale = 10.0**currency.exponent
    leaves = tuple(sorted({p.category for p in products}))
    leaf_of = {path: i for i, path in enumerate(leaves)}
    p_leaf = np.array([leaf_of[p.category] for p in products], dtype=np.int64)
    brand_counts = Counter(p.brand.casefold() for p in products)
    by_size = sorted(brand_counts.items(), key=lambda item: (-item[1], item[0]))
    brand_ids = {b: i for i, (b, _) in enumerate(by_size)}
    p_brand = np.array([brand_ids[p.brand.casefold()] for p in products], dtype=np.int64)
    p_list = np.array([p.price for p in products], dtype=np.int64)

    ctx = DealContext(
        now=now,
        shopper=Shopper("typical-shopper"),
        shipping_fee=shipping_fee,
        budget_left=store.budget_left(session, [a.id for a in activities]),
    )
    n_p = len(products)
    final = np.empty(n_p, dtype=np.int64)
    deal_type = np.empty(n_p, dtype=np.int64)
    claim = np.zeros(n_p, dtype=np.bool_)
    flash = np.zeros(n_p, dtype=np.bool_)
    hours = np.full(n_p, np.inf)
    deal_ids: list[tuple[str, ...]] = []
    quotes = price_items(products, activities, ctx, progress=progress)
    for row, quote in enumerate(quotes):
        priced = _price(quote)
        final[row], deal_type[row], claim[row], flash[row] = priced[:4]
        if priced.until is not None:
            hours[row] = max(priced.until - now.timestamp(), 0.0) / 3600.0
        deal_ids.append(priced.deal_ids)

    rng = np.random.default_rng([seed, 1])
    _, group, size = np.unique(
        p_leaf * (len(brand_ids) + 1) + p_brand, return_inverse=True, return_counts=True
    )
    p_pop = _quantiles(np.log(size[group]) + 0.5 * rng.standard_normal(n_p))
    levels = np.array([np.median(p_list[p_leaf == c]) / scale for c in range(len(leaves))])
    cards = cards_of(activities, index, now, p_leaf, p_brand, p_list, shipping_fee, len(brand_ids))

    n_c = len(cards.ids)
    c_list = cards.column(2, np.int64)
    c_final = cards.column(3, np.int64)
    win = np.array(cards.windows, dtype=np.float64).reshape(len(cards.windows), 3)
    leaf_cards = tuple(
        np.array([n_p + j for j, cov in enumerate(cards.leaves) if c in cov], dtype=np.int64)
        for c in range(len(leaves))
    )
    items = ItemBatch(
        category=np.concatenate([p_leaf, cards.column(0, np.int64)]),
        brand=np.concatenate([p_brand, cards.column(1, np.int64)]),
        list_price=np.concatenate([p_list, c_list]) / scale,
        final_price=np.concatenate([final, c_final]) / scale,
        discount=np.clip(
            1.0 - np.concatenate([final / p_list, c_final / np.maximum(c_list, 1)]), 0.0, 1.0
        ),
        deal_type=np.concatenate([deal_type, cards.column(4, np.int64)]),
        needs_claim=np.concatenate([claim, cards.column(5, np.bool_)]),
        is_flash_sale=np.concatenate(
            [flash, cards.column(4, np.int64) == int(DealType.FLASH_SALE)]
        ),
        hours_left=np.concatenate([hours, cards.column(6, np.float64)]),
        popularity=np.concatenate([p_pop, _quantiles(cards.column(7, np.float64))]),
        n_categories=len(leaves),
        n_brands=len(brand_ids) + 1,
    )
    return CatalogSnapshot(
        items=items,
        ids=tuple(p.id for p in products) + tuple(cards.ids),
        is_activity=np.arange(n_p + n_c) >= n_p,
        n_products=n_p,
        leaves=leaves,
        price_levels=levels,
        final_minor=np.concatenate([final, c_final]),
        deal_ids=tuple(deal_ids) + tuple((i,) for i in cards.ids),
        revisions=revisions,
        leaf_products=tuple(np.flatnonzero(p_leaf == c) for c in range(len(leaves))),
        leaf_cards=leaf_cards,
        card_audience=np.asarray(cards.audience, dtype=np.int64),
        card_segment=tuple(cards.segment),
        window_card=win[:, 0].astype(np.int64),
        window_start=win[:, 1],
        window_end=win[:, 2],
    )
