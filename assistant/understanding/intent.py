"""What a shopper wants from one message: :class:`ShopperIntent`, the typed result of understanding.

The rules extractor (:mod:`assistant.understanding.rules`) fills it deterministically and says
which slots it is sure of (:attr:`Extraction.sure`); the LLM is asked only about the others. The
dialogue state merges it with the session's earlier slots before retrieval.

Money is integer minor units of the shop currency (DESIGN.md: "$", "元", "块", "bucks" and bare
numbers all mean the shop currency; nothing is converted). A budget bounds the *final* price.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "SLOTS",
    "Extraction",
    "IntentType",
    "Language",
    "ShopperIntent",
    "Sort",
]

Language = Literal["en", "zh"]
Sort = Literal["relevance", "price_asc", "price_desc", "discount", "ending_soon"]


class IntentType(StrEnum):
    """What the shopper is doing with this message."""

    FIND_DEALS = "find_deals"
    """Looking for promotions (coupons, sales, free shipping...), possibly in a category."""
    FIND_PRODUCTS = "find_products"
    """Looking for products; deals are welcome but not the point."""
    REFINE = "refine"
    """Adjusting the previous request ("cheaper", "under 40", "only wireless", "no Adidas")."""
    COMPARE = "compare"
    """Comparing items already shown ("compare the first two")."""
    ASK_ITEM = "ask_item"
    """A question about one item already shown ("tell me more about the second one")."""
    CLAIM_COUPON = "claim_coupon"
    """Wants to claim a coupon ("claim it", "领券")."""
    MY_COUPONS = "my_coupons"
    """Wants the coupons they hold ("my coupons", "我的优惠券")."""
    WHY_INELIGIBLE = "why_ineligible"
    """Asks why a deal or coupon does not apply ("why can't I use my coupon?")."""
    HANDOFF = "handoff"
    """Wants a person, or is complaining / disputing ("real person", "转人工")."""
    SMALL_TALK = "small_talk"
    """Greetings, thanks and the like."""
    OUT_OF_SCOPE = "out_of_scope"
    """Anything a shopping assistant does not answer (weather, homework, prompt injection)."""


SLOTS: tuple[str, ...] = (
    "type",
    "categories",
    "brands_in",
    "brands_out",
    "min_price",
    "max_price",
    "recipient",
    "occasion",
    "activity_types",
    "wants_deals",
    "sort",
    "language",
)
"""The slots an extractor can be sure of (names of :class:`ShopperIntent` fields)."""


class ShopperIntent(BaseModel):
    """One message's meaning, ready to become hard filters and a dialogue action.

    Attributes:
        type: What the shopper is doing.
        categories: Catalog category paths (a path covers its subtree), e.g. ``shoes/running``.
        brands_in: Brands asked for (as the catalog spells them).
        brands_out: Brands refused ("no Adidas").
        min_price: Lowest final price, minor units; ``None`` when not said.
        max_price: Highest final price, minor units; ``None`` when not said.
        recipient: Who it is for, normalized (``mother``, ``father``, ``partner``, ``child``,
            ``friend``, ``colleague``, ``self``...), or ``None``.
        occasion: Normalized occasion (``birthday``, ``christmas``, ``valentines``,
            ``anniversary``, ``wedding``, ``new_year``, ``mothers_day``...), or ``None``.
        activity_types: Wanted deal types (``ActivityType`` values: ``coupon``, ``flash_sale``,
            ``threshold``, ``bundle``, ``free_shipping``, ``member_day``, ``percent_off``,
            ``new_user``).
        wants_deals: The shopper asked for deals/discounts/coupons (implied by
            ``activity_types``).
        sort: Ordering asked for.
        cheaper: "cheaper ones": below what was shown last.
        language: The message's language (``zh`` when it is mostly Chinese).
        query: The words to search with: the message without money, negations and filler.
        item_refs: 1-based positions of items already shown that the message points at
            ("the second one" -> ``[2]``; "compare 1 and 3" -> ``[1, 3]``).
        not_interested: Things to stop recommending for good ("not interested in perfume":
            category paths or brands).
        personalization: ``False`` when the shopper asks not to use their history, ``True``
            when they turn it back on, else ``None``.
        new_topic: The message starts a new request, so earlier slots do not carry over.
    """

    model_config = ConfigDict(extra="forbid")

    type: IntentType = IntentType.FIND_PRODUCTS
    categories: list[str] = Field(default_factory=list)
    brands_in: list[str] = Field(default_factory=list)
    brands_out: list[str] = Field(default_factory=list)
    min_price: int | None = Field(default=None, ge=0)
    max_price: int | None = Field(default=None, ge=0)
    recipient: str | None = None
    occasion: str | None = None
    activity_types: list[str] = Field(default_factory=list)
    wants_deals: bool = False
    sort: Sort = "relevance"
    cheaper: bool = False
    language: Language = "en"
    query: str = ""
    item_refs: list[int] = Field(default_factory=list)
    not_interested: list[str] = Field(default_factory=list)
    personalization: bool | None = None
    new_topic: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> ShopperIntent:
        if (
            self.min_price is not None
            and self.max_price is not None
            and self.min_price > self.max_price
        ):
            self.min_price, self.max_price = self.max_price, self.min_price
        if self.activity_types:
            self.wants_deals = True
        return self


class Extraction(BaseModel):
    """An extractor's result: the intent and the slots it is sure of.

    Attributes:
        intent: What was understood.
        sure: Names from :data:`SLOTS` the extractor is certain of; the LLM fills only the
            others (and may not override these).
    """

    model_config = ConfigDict(extra="forbid")

    intent: ShopperIntent
    sure: frozenset[str] = frozenset()
