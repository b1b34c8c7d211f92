"""The facts a reply may state: frozen values the pipeline builds from SQL and the deal engine.

Replies (templates now, the LLM's placeholders later) are written only from these, so every
number, date and code in a reply can be traced to a field here.

Money is integer minor units of the shop currency; times are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

__all__ = [
    "ActionKind",
    "CartGapFact",
    "CouponFact",
    "DealFact",
    "IneligibleFact",
    "ItemFact",
    "ReplyFacts",
]


class ActionKind(StrEnum):
    """What the assistant does with a turn (the DialogueAction seam)."""

    RECOMMEND = "recommend"
    CLARIFY = "clarify"
    OFFER_COUPON = "offer_coupon"
    SHOW_COUPONS = "show_coupons"
    EXPLAIN_INELIGIBLE = "explain_ineligible"
    HANDOFF = "handoff"
    OUT_OF_SCOPE = "out_of_scope"
    SMALL_TALK = "small_talk"


@dataclass(frozen=True, slots=True)
class DealFact:
    """The best deal on an item for this shopper now.

    Attributes:
        activity_id: The activity.
        revision: The revision shown.
        type: ``ActivityType`` value (``coupon``, ``threshold``...).
        title: Its title in the reply's language.
        saving: Minor units it takes off this item (one unit), 0 when it only helps a cart.
        min_spend: Minimum spend of the tier / coupon, when it has one.
        needs_claim: A coupon the shopper has to claim first.
        ends_at: End of the live occurrence (UTC), ``None`` when open-ended.
    """

    activity_id: str
    revision: int
    type: str
    title: str
    saving: int
    min_spend: int | None
    needs_claim: bool
    ends_at: datetime | None


@dataclass(frozen=True, slots=True)
class CartGapFact:
    """Spend ``add`` more (in ``activity_id``'s scope) to unlock ``unlocks`` more savings."""

    add: int
    unlocks: int
    activity_id: str
    activity_type: str


@dataclass(frozen=True, slots=True)
class ItemFact:
    """One recommended item (a product, or an activity as such) with its priced facts.

    Attributes:
        kind: ``product`` or ``activity``.
        id: Product or activity id.
        title: Title in the reply's language.
        brand: Brand (products; ``""`` for activities).
        category: Category path (products) or ``""``.
        price: List price (products; ``None`` when unpriced or for activities).
        final_price: Price after the best deals for this shopper now, one unit (<= ``price``).
        deals: The deals applied to it, best saving first (for an activity: itself).
        activity_ids: Every activity behind ``deals`` (and, for an activity, its own id).
        valid_until: The earliest end among ``deals`` (UTC) or ``None``.
        needs_claim: Some deal must be claimed first.
        cart_gap: What adding to the cart would unlock, if anything.
        bought_brand_before: The shopper bought this brand before (personalized why-line).
        url: Product / activity page.
        image_url: Image, if any.
        terms: Activity terms text in the reply's language (activities only).
    """

    kind: Literal["product", "activity"]
    id: str
    title: str
    brand: str = ""
    category: str = ""
    price: int | None = None
    final_price: int | None = None
    deals: tuple[DealFact, ...] = ()
    activity_ids: tuple[str, ...] = ()
    valid_until: datetime | None = None
    needs_claim: bool = False
    cart_gap: CartGapFact | None = None
    bought_brand_before: bool = False
    url: str = ""
    image_url: str | None = None
    terms: str = ""

    @property
    def saving(self) -> int:
        """What the deals take off one unit (0 when unpriced)."""
        if self.price is None or self.final_price is None:
            return 0
        return self.price - self.final_price


@dataclass(frozen=True, slots=True)
class CouponFact:
    """A coupon the shopper holds (a claim)."""

    claim_id: str
    activity_id: str
    title: str
    code: str
    amount: int
    valid_until: datetime
    status: str


@dataclass(frozen=True, slots=True)
class IneligibleFact:
    """Why an activity does not apply to this shopper / cart now.

    Attributes:
        activity_id: The activity.
        title: Its title in the reply's language.
        reason: ``IneligibleReason`` value (``min_spend_not_met``, ``expired``...).
        min_spend: Its minimum spend, when the reason is about spend.
        missing: How much more to spend for ``min_spend_not_met``.
        starts_at: When it starts, for ``not_started``.
        ended_at: When it ended, for ``expired``.
    """

    activity_id: str
    title: str
    reason: str
    min_spend: int | None = None
    missing: int | None = None
    starts_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReplyFacts:
    """Everything one reply may say.

    Attributes:
        action: What the assistant does.
        language: ``en`` or ``zh``.
        currency: ISO code of the shop currency (formatting comes from it).
        now: The moment of the turn (UTC), for "ends in 3 h".
        items: Recommended items, in slate order (``recommend`` / ``offer_coupon``).
        coupons: The shopper's coupons (``show_coupons``).
        ineligible: Reasons (``explain_ineligible``).
        question: The slot to ask about (``clarify``): ``category``, ``budget``, ``recipient``.
        max_price: The budget in force, to restate it ("under 55.00").
        min_price: The lower bound in force.
        relaxed: The filters gave nothing; what was dropped to find these (e.g. ``budget``).
        no_results: Nothing matched even after relaxing.
        handoff_reason: ``requested``, ``complaint``, ``dispute`` or ``repeated_failure``.
    """

    action: ActionKind
    language: Literal["en", "zh"]
    currency: str
    now: datetime
    items: tuple[ItemFact, ...] = ()
    coupons: tuple[CouponFact, ...] = ()
    ineligible: tuple[IneligibleFact, ...] = ()
    question: str | None = None
    max_price: int | None = None
    min_price: int | None = None
    relaxed: tuple[str, ...] = field(default_factory=tuple)
    no_results: bool = False
    handoff_reason: str | None = None
