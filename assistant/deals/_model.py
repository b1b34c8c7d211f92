"""The deal engine's values: the shopper's context in, priced quotes out.

Everything here is a frozen dataclass of integers (minor units of the shop currency) and
aware UTC datetimes; nothing is computed on construction except input validation of
:class:`DealContext`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from assistant.domain import ActivityType, IneligibleReason, Shopper
from assistant.errors import ValidationError
from assistant.schedule import aware

__all__ = ["AppliedDeal", "CartQuote", "DealContext", "Gap", "LineQuote"]


def _frozen_counts(name: str, value: Mapping[str, int]) -> Mapping[str, int]:
    """A read-only copy of ``value``; ints only, so a float budget never sneaks in."""
    for key, count in value.items():
        if not isinstance(count, int) or isinstance(count, bool):
            raise ValidationError(f"{name}[{key!r}] = {count!r} must be an integer")
    return MappingProxyType(dict(value))


@dataclass(frozen=True)
class DealContext:
    """Who is shopping, when, and what the store knows about their use of each activity.

    Attributes:
        now: The moment to price at; timezone-aware (stored as UTC).
        shopper: The shopper, for audiences.
        shipping_fee: The order's shipping fee in minor units, before any free-shipping deal.
        uses: Activity id -> this shopper's claims/uses so far (checked against
            ``per_user_limit``).
        held: Coupon activity ids the shopper has claimed and not used yet; their budget is
            already reserved, so neither the per-user limit nor the budget blocks them.
        budget_left: Activity id -> remaining budget in minor units; absent means the full
            budget of the revision.
        units_left: Quantity-limited activity id -> units left; absent means the full
            ``quantity_limit``.

    Raises:
        ValidationError: ``now`` is naive, the fee is negative, or a count is not an integer.
    """

    now: datetime
    shopper: Shopper
    shipping_fee: int
    uses: Mapping[str, int] = field(default_factory=dict)
    held: frozenset[str] = frozenset()
    budget_left: Mapping[str, int] = field(default_factory=dict)
    units_left: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "now", aware(self.now, "now"))
        if (
            not isinstance(self.shipping_fee, int)
            or isinstance(self.shipping_fee, bool)
            or self.shipping_fee < 0
        ):
            raise ValidationError(
                f"shipping_fee {self.shipping_fee!r} must be a non-negative integer of minor units"
            )
        for name in ("uses", "budget_left", "units_left"):
            object.__setattr__(self, name, _frozen_counts(name, getattr(self, name)))
        object.__setattr__(self, "held", frozenset(self.held))


@dataclass(frozen=True, slots=True)
class AppliedDeal:
    """One activity revision applied to a line or to the cart.

    Attributes:
        activity_id: The activity.
        revision: The revision priced (decisions and claims point to it).
        type: The activity type.
        discount: Minor units taken off (for ``free_shipping``: the shipping fee waived).
        needs_claim: A coupon the shopper must still claim before checkout.
        valid_until: End (UTC) of the occurrence live now; ``None`` only if unknown.
    """

    activity_id: str
    revision: int
    type: ActivityType
    discount: int
    needs_claim: bool
    valid_until: datetime | None


@dataclass(frozen=True, slots=True)
class LineQuote:
    """One cart line after the item level.

    Attributes:
        product_id: The product.
        quantity: Units (>= 1).
        unit_price: List price per unit.
        subtotal: ``unit_price * quantity``.
        item_deal: The single item-level deal of this line, if any.
        total: ``subtotal`` less the item-level discount.
    """

    product_id: str
    quantity: int
    unit_price: int
    subtotal: int
    item_deal: AppliedDeal | None
    total: int

    @property
    def discount(self) -> int:
        """The item-level discount on this line."""
        return self.subtotal - self.total


@dataclass(frozen=True, slots=True)
class Gap:
    """The smallest spend that would raise the savings: add ``add`` to unlock ``unlocks``.

    Attributes:
        activity_id: The activity whose minimum the extra spend reaches.
        add: Minor units to add (in that activity's scope).
        unlocks: How much more its stacking group would give (or the shipping fee saved).
    """

    activity_id: str
    add: int
    unlocks: int


@dataclass(frozen=True)
class CartQuote:
    """A priced cart: the best stacking of deals for this shopper now.

    Attributes:
        lines: Every line in cart order (duplicate product lines are merged).
        order: The order-level deal (``threshold`` or ``bundle``), if any.
        coupon: The coupon-level deal (``coupon`` or ``new_user``), if any.
        free_shipping: The free-shipping deal that waives the fee, if any.
        subtotal: Sum of list prices.
        goods_total: ``subtotal - savings``; what the goods cost after every discount.
        savings: Discounts on goods only (item, order and coupon levels).
        shipping: The shipping fee paid (0 when waived).
        payable: ``goods_total + shipping``.
        gap: The nearest spend that would raise the savings, if any.
        ineligible: Activity id -> why it does not apply, for every activity given that
            neither applies nor merely lost to a better one, in the order given.
        valid_until: The earliest end among the applied deals; ``None`` when none applies.
    """

    lines: tuple[LineQuote, ...]
    order: AppliedDeal | None
    coupon: AppliedDeal | None
    free_shipping: AppliedDeal | None
    subtotal: int
    goods_total: int
    savings: int
    shipping: int
    payable: int
    gap: Gap | None
    ineligible: Mapping[str, IneligibleReason]
    valid_until: datetime | None

    @property
    def applied(self) -> tuple[AppliedDeal, ...]:
        """Every applied deal: item deals in line order, then order, coupon, free shipping."""
        found = [line.item_deal for line in self.lines]
        found += [self.order, self.coupon, self.free_shipping]
        return tuple(deal for deal in found if deal is not None)

    @property
    def to_claim(self) -> tuple[str, ...]:
        """Ids of applied coupons the shopper still has to claim."""
        return tuple(deal.activity_id for deal in self.applied if deal.needs_claim)

    def breakdown(self) -> dict[str, int]:
        """Goods savings per activity id (item deals summed over lines); sums to ``savings``.

        The waived shipping fee is not a goods saving; see ``free_shipping.discount``.
        """
        out: dict[str, int] = {}
        for deal in self.applied:
            if deal.type is not ActivityType.FREE_SHIPPING:
                out[deal.activity_id] = out.get(deal.activity_id, 0) + deal.discount
        return out
