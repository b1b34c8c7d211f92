"""Scoring candidates for a turn: the :class:`Ranker` seam and the documented heuristic.

The trained torch ranker (``ranking/``) plugs in through :class:`Ranker` once one is promoted;
until then :class:`HeuristicRanker` scores every candidate from facts the turn already has:

``score = similarity + 0.3 * saving / price + deal_bonus + history_bonus + sort_term``

* ``similarity``: the retrieval score (cosine similarity of query and item text);
* ``saving / price``: the share the best deal takes off for this shopper now;
* ``deal_bonus``: 0.1 when the shopper asked for deals and the item has one;
* ``history_bonus``: 0.05 when the shopper bought the brand before (personalization on);
* ``sort_term``: "cheapest first" subtracts ``0.5 * final / max_final``; "most expensive"
  adds it; "biggest discount" adds ``0.5 * saving / price``; "ending soon" adds up to 0.2
  for deals ending within two days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Candidate",
    "HeuristicRanker",
    "PastEvent",
    "Ranker",
    "RankingContext",
    "ShopperProfile",
    "sort_adjustment",
]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One retrieved and priced item a slate may show.

    Attributes:
        kind: ``product`` or ``activity``.
        id: Product or activity id.
        similarity: Retrieval score.
        price: List price, minor units (``None`` for activities and unpriced products).
        final_price: Price after this shopper's best deals now, one unit.
        has_deal: Some deal applies (or, for an activity, it is one).
        needs_claim: A coupon must be claimed first.
        brand: Brand (products).
        category: Category path (products).
        ends_at: When the soonest applied deal ends (UTC), if any.
    """

    kind: Literal["product", "activity"]
    id: str
    similarity: float
    price: int | None = None
    final_price: int | None = None
    has_deal: bool = False
    needs_claim: bool = False
    brand: str = ""
    category: str = ""
    ends_at: datetime | None = None

    @property
    def saving_share(self) -> float:
        """``(price - final) / price``, 0 when unpriced."""
        if not self.price or self.final_price is None:
            return 0.0
        return (self.price - self.final_price) / self.price


@dataclass(frozen=True, slots=True)
class PastEvent:
    """One of the shopper's past positive reactions (click, claim, add to cart, purchase).

    Attributes:
        item_id: The product.
        category: Its category path.
        brand: Its brand.
        at: When (UTC).
    """

    item_id: str
    category: str
    brand: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ShopperProfile:
    """Who asks, for a learned ranker (empty history when personalization is off).

    Attributes:
        member: A member.
        new_user: No orders yet.
        segment: The shopper's first segment ("" when none).
        history: Recent positive reactions, newest first.
    """

    member: bool = False
    new_user: bool = True
    segment: str = ""
    history: tuple[PastEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class RankingContext:
    """What a ranker may know of the shopper and the request.

    Attributes:
        now: The turn's moment (UTC).
        wants_deals: The shopper asked for deals.
        sort: ``relevance``, ``price_asc``, ``price_desc``, ``discount`` or ``ending_soon``.
        bought_brands: Casefolded brands the shopper bought (empty when personalization is off).
        bought_categories: Category paths the shopper bought from (same).
        profile: The shopper's profile and history (``None``: unknown).
    """

    now: datetime
    wants_deals: bool = False
    sort: str = "relevance"
    bought_brands: frozenset[str] = frozenset()
    bought_categories: frozenset[str] = frozenset()
    profile: ShopperProfile | None = None


class Ranker(Protocol):
    """Scores candidates; higher is better. ``version`` is logged with every decision."""

    @property
    def version(self) -> str: ...

    def score(self, candidates: Sequence[Candidate], ctx: RankingContext) -> NDArray[np.float64]:
        """Scores, shape ``(len(candidates),)``."""
        ...


class HeuristicRanker:
    """The documented fallback ranker (module docs); deterministic and fast."""

    version = "heuristic-1"

    def score(self, candidates: Sequence[Candidate], ctx: RankingContext) -> NDArray[np.float64]:
        """Scores, shape ``(len(candidates),)``."""
        n = len(candidates)
        if n == 0:
            return np.zeros(0)
        sim = np.array([c.similarity for c in candidates], dtype=np.float64)
        share = np.array([c.saving_share for c in candidates])
        deal = np.array([c.has_deal or c.needs_claim for c in candidates], dtype=np.float64)
        bought = np.array(
            [c.brand.casefold() in ctx.bought_brands for c in candidates], dtype=np.float64
        )
        score = sim + 0.3 * share + 0.05 * bought
        if ctx.wants_deals:
            score += 0.1 * deal
        return score + sort_adjustment(candidates, ctx, share)


def sort_adjustment(
    candidates: Sequence[Candidate], ctx: RankingContext, share: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """The term an explicit sort request adds to relevance scores (module docs), shape ``(n,)``.

    Scores it is added to should lie roughly in ``[0, 1]``.
    """
    adjust = np.zeros(len(candidates))
    if share is None:
        share = np.array([c.saving_share for c in candidates])
    if ctx.sort in ("price_asc", "price_desc"):
        finals = np.array(
            [c.final_price if c.final_price is not None else -1 for c in candidates],
            dtype=np.float64,
        )
        top = finals.max()
        if top > 0:
            rel = np.where(finals >= 0, finals / top, 1.0)
            adjust += (-0.5 if ctx.sort == "price_asc" else 0.5) * rel
    elif ctx.sort == "discount":
        adjust += 0.5 * share
    elif ctx.sort == "ending_soon":
        hours = np.array(
            [(c.ends_at - ctx.now).total_seconds() / 3600 if c.ends_at else 1e9 for c in candidates]
        )
        adjust += 0.2 * np.clip(1 - hours / 48, 0, 1)
    return adjust
