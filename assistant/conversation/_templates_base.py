"""What every language's reply templates provide: one :class:`Templates` per language.

The templates only phrase; :mod:`assistant.conversation.replies` decides what to say. Every
argument that is money or a date arrives already formatted (``"39.20"``, ``"2025-06-01"``), so a
template cannot state a number the facts do not hold. No template writes a currency sign or word:
amounts stay bare decimals so that nothing in a reply reads as money except fact values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = ["Span", "Templates"]


@dataclass(frozen=True, slots=True)
class Span:
    """How far off an end is, in the unit a shopper would use.

    Attributes:
        unit: ``min`` and ``h`` (under 12 hours), ``today``, ``tomorrow``, ``days`` (up to a
            week, ``value`` calendar days), ``date`` (further off: ``date`` is YYYY-MM-DD).
        value: Minutes, hours or days, for those units.
        date: The end date (UTC, YYYY-MM-DD).
    """

    unit: Literal["min", "h", "today", "tomorrow", "days", "date"]
    value: int
    date: str


class Templates(Protocol):
    """One language's phrases. Money and dates arrive formatted; ``None`` means unknown."""

    separator: str
    """Between why-line parts (``"; "`` / ``"；"``)."""

    def deal(self, type_: str, saving: str | None, min_spend: str | None, needs_claim: bool) -> str:
        """The best deal in words by activity type (``"spend 50.00, save 8.00"``)."""
        ...

    def claim_also(self, saving: str | None) -> str:
        """A further coupon that must be claimed, appended to the deal (``"+ coupon ..."``)."""
        ...

    def ends(self, span: Span) -> str:
        """``"ends in 3 h"``."""
        ...

    def gap(self, add: str, unlocks: str, free_shipping: bool) -> str:
        """``"add 7.00 more to unlock 5.00 off"``."""
        ...

    def bought_brand(self, brand: str) -> str:
        """``"you bought Lumi before"``."""
        ...

    def within_budget(self) -> str:
        """``"within your budget"`` (the price is already beside it)."""
        ...

    def in_category(self, category: str) -> str:
        """A neutral line naming the category path (no claim of popularity)."""
        ...

    def plain_why(self) -> str:
        """When no fact gives a reason."""
        ...

    def activity_kind(self, type_: str) -> str:
        """An activity's type in words (``"spend-more deal"``)."""
        ...

    def with_claim(self, text: str) -> str:
        """``text`` with "claim it first" after it."""
        ...

    def intro(self, count: int, min_price: str | None, max_price: str | None) -> str:
        """``"Here are 3 picks under 55.00:"``."""
        ...

    def relaxed(self, what: list[str]) -> str:
        """What was dropped to find anything; ``what`` holds ``budget``, ``category``, ``brand``,
        ``deals`` or ``other``."""
        ...

    def no_results(self) -> str:
        """Nothing matched, with a suggestion."""
        ...

    def item_line(
        self, number: int, title: str, final_price: str | None, was: str | None, why: str
    ) -> str:
        """``"1. Lumi Runner — 39.20 (was 47.20) · spend 50.00, save 8.00"``."""
        ...

    def offer_intro(self, count: int) -> str:
        """Coupons / deals to claim."""
        ...

    def no_offers(self) -> str:
        """No coupon to claim now."""
        ...

    def offer_outro(self) -> str:
        """A reminder to claim before checkout."""
        ...

    def coupons_intro(self, count: int) -> str:
        """``"Your coupons:"``."""
        ...

    def coupon_line(
        self, title: str, code: str, amount: str, valid_until: str, state: str | None
    ) -> str:
        """One held coupon; ``state`` is ``used``, ``expired`` or ``None``."""
        ...

    def no_coupons(self) -> str:
        """``"You have no coupons yet."``."""
        ...

    def ineligible(
        self,
        reason: str,
        title: str,
        min_spend: str | None,
        missing: str | None,
        date: str | None,
    ) -> str:
        """One sentence for one reason code (``date``: start or end, as the reason needs)."""
        ...

    def no_ineligible(self) -> str:
        """Nothing found that fails; offer an agent."""
        ...

    def clarify(self, question: str | None) -> str:
        """One question about the slot ``question``."""
        ...

    def handoff(self, reason: str | None) -> str:
        """Connecting to a customer-service agent."""
        ...

    def out_of_scope(self) -> str:
        """A short redirect to what the assistant does."""
        ...

    def small_talk(self) -> str:
        """A greeting and an offer of help."""
        ...
