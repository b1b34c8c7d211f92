"""Retrieve, price, rank and choose: the recommending part of a turn.

Hard constraints are enforced twice: retrieval filters what it can on the index (category,
brands, stock, validity, audience, and the price on a loose bound), then every candidate is
priced exactly for this shopper now and any whose final price is outside the budget is dropped
before ranking. So nothing over budget can reach the policy, whatever the index holds.

The index's price column is the public price when the index was synced; a shopper's final
price may be lower (member days, coupons they can claim) or higher (a deal they may not use).
Retrieval therefore bounds the indexed price by ``max_price / (1 - MAX_INDEX_DISCOUNT)``, and
the exact check decides.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

from assistant.conversation.facts import CartGapFact, DealFact, ItemFact
from assistant.conversation.ranking import Candidate
from assistant.conversation.snapshot import CatalogSnapshot
from assistant.deals import CartQuote, DealContext, full_value, quote_cart, quote_item
from assistant.domain import Activity, ActivityType, CartLine, Product
from assistant.understanding.intent import ShopperIntent
from retrieval import Filters, SearchIndex, SearchResult
from retrieval.search import QueryEmbedder

__all__ = [
    "MAX_INDEX_DISCOUNT",
    "Pricer",
    "activity_fact",
    "item_fact",
    "product_candidates",
    "search",
]

MAX_INDEX_DISCOUNT = 0.6
"""Retrieval lets through indexed prices up to ``max_price / (1 - 0.6)``; see module docs."""

Pricer: TypeAlias = Callable[[Sequence[Product], DealContext], Sequence[int]]
"""One-unit final prices (minor units) of products for a shopper now, in order."""


def _audience(ctx: DealContext) -> list[str]:
    out = ["all"]
    if ctx.shopper.member:
        out.append("members")
    if ctx.shopper.new_user:
        out.append("new_users")
    out += [f"segment:{s}" for s in sorted(ctx.shopper.segments)]
    return out


@dataclass(frozen=True, slots=True)
class Retrieved:
    """One turn's search result and the filters it ran under."""

    result: SearchResult
    filters: Filters
    query: str


def search(
    index: SearchIndex,
    embedder: QueryEmbedder,
    intent: ShopperIntent,
    ctx: DealContext,
    *,
    fallback_query: str,
    k_products: int = 300,
    k_activities: int = 50,
) -> Retrieved:
    """Top products and activities under the intent's hard filters (prices loosely bounded).

    Categories the index does not know are dropped (they come from the vocabulary, which can
    be ahead of the index right after a catalog change).
    """
    known = index.categories
    categories = [c for c in intent.categories if c in known]
    brands_out = list(intent.brands_out) + [n for n in intent.not_interested if n not in known]
    loose_max = None
    if intent.max_price is not None:
        loose_max = math.ceil(intent.max_price / (1 - MAX_INDEX_DISCOUNT))
    filters = Filters(
        max_price=loose_max,
        categories=categories,
        brands_in=intent.brands_in,
        brands_out=brands_out,
        activity_types=intent.activity_types,
        valid_at=int(ctx.now.timestamp()),
        audience=_audience(ctx),
        in_stock=True,
    )
    query = intent.query.strip() or fallback_query.strip()
    if (intent.recipient or intent.occasion) and not categories and "gift" not in query:
        query = f"{query} gift"  # "something for my mom": search gifts, not "mom" (baby care)
    vector = embedder.embed_query(query)
    result = index.search(
        query, vector=vector, filters=filters, k_products=k_products, k_activities=k_activities
    )
    return Retrieved(result, filters, query)


def _excluded(category: str, not_interested: Sequence[str]) -> bool:
    return any(category == c or category.startswith(c + "/") for c in not_interested)


def product_candidates(
    retrieved: Retrieved,
    snapshot: CatalogSnapshot,
    intent: ShopperIntent,
    ctx: DealContext,
    pricer: Pricer,
) -> list[Candidate]:
    """Priced product candidates within the budget, in retrieval order."""
    hits = [
        h
        for h in retrieved.result.products
        if h.id in snapshot.info
        and not _excluded(snapshot.info[h.id].category, intent.not_interested)
    ]
    priced = [h for h in hits if h.id in snapshot.products]
    finals = dict(
        zip(
            (h.id for h in priced),
            pricer([snapshot.products[h.id] for h in priced], ctx),
            strict=True,
        )
    )
    budget = intent.min_price is not None or intent.max_price is not None
    out: list[Candidate] = []
    for hit in hits:
        info = snapshot.info[hit.id]
        final = finals.get(hit.id)
        if budget:
            if final is None:
                continue
            if intent.max_price is not None and final > intent.max_price:
                continue
            if intent.min_price is not None and final < intent.min_price:
                continue
        out.append(
            Candidate(
                kind="product",
                id=hit.id,
                similarity=hit.score,
                price=info.price,
                final_price=final,
                has_deal=final is not None and info.price is not None and final < info.price,
                needs_claim=False,
                brand=info.brand,
                category=info.category,
            )
        )
    return out


def activity_candidates(
    retrieved: Retrieved, snapshot: CatalogSnapshot, claimable: Callable[[Activity], bool]
) -> list[Candidate]:
    """Activities the shopper may use now (coupons: may claim now), in retrieval order."""
    out = []
    for hit in retrieved.result.activities:
        activity = snapshot.activity_by_id.get(hit.id)
        if activity is None or not claimable(activity):
            continue
        out.append(
            Candidate(
                kind="activity",
                id=hit.id,
                similarity=hit.score,
                has_deal=True,
                needs_claim=activity.type.claimable,
            )
        )
    return out


def _deal_facts(quote: CartQuote, snapshot: CatalogSnapshot, language: str) -> tuple[DealFact, ...]:
    savings = quote.breakdown()
    facts = []
    for applied in quote.applied:
        activity = snapshot.activity_by_id.get(applied.activity_id)
        if activity is None:
            continue
        facts.append(
            DealFact(
                activity_id=applied.activity_id,
                revision=applied.revision,
                type=str(applied.type),
                title=_title(activity, language),
                saving=savings.get(applied.activity_id, 0),
                min_spend=_min_spend(activity, quote.lines[0].total if quote.lines else 0),
                needs_claim=applied.needs_claim,
                ends_at=applied.valid_until,
            )
        )
    facts.sort(key=lambda d: -d.saving)
    return tuple(facts)


def _title(activity: Activity, language: str) -> str:
    if language == "zh" and activity.title_zh:
        return activity.title_zh
    return activity.title or activity.id


def _min_spend(activity: Activity, base: int) -> int | None:
    if activity.type is ActivityType.THRESHOLD:
        reached = [t.threshold for t in activity.tiers if t.threshold <= base]
        return reached[-1] if reached else None
    return activity.min_spend


def item_fact(
    product: Product,
    snapshot: CatalogSnapshot,
    ctx: DealContext,
    *,
    language: str,
    cart: Sequence[CartLine] = (),
    cart_products: Mapping[str, Product] | None = None,
    bought_brand_before: bool = False,
    usable: NDArray[np.bool_] | None = None,
) -> ItemFact:
    """The priced facts of one chosen product: the exact engine's quote, cart gap included.

    ``usable`` (per snapshot activity, from the turn's pricing context) narrows the engine's
    input to the activities this shopper may use now; the others could only be listed as
    ineligible, so prices, deals and the gap are the same.
    """
    quote = quote_item(product, snapshot.activities_for([product.id], ctx.now, usable), ctx)
    gap_quote = quote
    if cart:
        products = {**(cart_products or {}), product.id: product}
        lines = [*cart, CartLine(product.id, 1)]
        activities = snapshot.activities_for([line.product_id for line in lines], ctx.now, usable)
        gap_quote = quote_cart(products, lines, activities, ctx)
    gap = None
    if gap_quote.gap is not None:
        gap_activity = snapshot.activity_by_id.get(gap_quote.gap.activity_id)
        gap = CartGapFact(
            add=gap_quote.gap.add,
            unlocks=gap_quote.gap.unlocks,
            activity_id=gap_quote.gap.activity_id,
            activity_type=str(gap_activity.type) if gap_activity else "",
        )
    deals = _deal_facts(quote, snapshot, language)
    info = snapshot.info[product.id]
    return ItemFact(
        kind="product",
        id=product.id,
        title=info.title_in(language),
        brand=info.brand,
        category=info.category,
        price=product.price,
        final_price=quote.goods_total,
        deals=deals,
        activity_ids=tuple(d.activity_id for d in deals),
        valid_until=quote.valid_until,
        needs_claim=bool(quote.to_claim),
        cart_gap=gap,
        bought_brand_before=bought_brand_before,
        url=info.url,
        image_url=info.image_url,
    )


def unpriced_fact(product_id: str, snapshot: CatalogSnapshot, *, language: str) -> ItemFact:
    """An unpriced product (shown only when no budget is in force)."""
    info = snapshot.info[product_id]
    return ItemFact(
        kind="product",
        id=product_id,
        title=info.title_in(language),
        brand=info.brand,
        category=info.category,
        url=info.url,
        image_url=info.image_url,
    )


def activity_fact(
    activity: Activity, ctx: DealContext, *, language: str, now: datetime
) -> ItemFact:
    """An activity recommended as such (a coupon to claim, a sale to browse)."""
    window = activity.schedule.window_at(now)
    ends = window[1] if window else None
    value = full_value(activity) or 0
    deal = DealFact(
        activity_id=activity.id,
        revision=activity.revision,
        type=str(activity.type),
        title=_title(activity, language),
        saving=value,
        min_spend=activity.min_spend,
        needs_claim=activity.type.claimable and activity.id not in ctx.held,
        ends_at=ends,
    )
    return ItemFact(
        kind="activity",
        id=activity.id,
        title=_title(activity, language),
        deals=(deal,),
        activity_ids=(activity.id,),
        valid_until=ends,
        needs_claim=deal.needs_claim,
        url=f"/activities/{activity.id}",
        terms=activity.terms,
    )
