"""Domain values shared by the store, the catalog importer and the deal engine.

Frozen dataclasses for internal values; enums for closed sets. Money is integer minor units of
the shop currency everywhere in here (see :mod:`assistant.money`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from assistant.errors import ValidationError
from assistant.schedule import Schedule

__all__ = [
    "Activity",
    "ActivityStatus",
    "ActivityType",
    "Audience",
    "CartLine",
    "Group",
    "IneligibleReason",
    "Product",
    "Scope",
    "Shopper",
    "Tier",
    "category_covers",
]


class ActivityType(StrEnum):
    """Every kind of promotional activity (DESIGN.md "Deal model")."""

    FLASH_SALE = "flash_sale"
    PERCENT_OFF = "percent_off"
    MEMBER_DAY = "member_day"
    THRESHOLD = "threshold"
    BUNDLE = "bundle"
    COUPON = "coupon"
    NEW_USER = "new_user"
    FREE_SHIPPING = "free_shipping"

    @property
    def group(self) -> Group:
        """The stacking group: at most one activity of a group applies to a cart."""
        return _GROUP_OF[self]

    @property
    def claimable(self) -> bool:
        """Whether a shopper must claim it (and so holds a code) before it applies."""
        return self.group is Group.COUPON


class Group(StrEnum):
    """Stacking groups, in the order the levels apply."""

    ITEM = "item"
    ORDER = "order"
    COUPON = "coupon"
    SHIPPING = "shipping"


_GROUP_OF = {
    ActivityType.FLASH_SALE: Group.ITEM,
    ActivityType.PERCENT_OFF: Group.ITEM,
    ActivityType.MEMBER_DAY: Group.ITEM,
    ActivityType.THRESHOLD: Group.ORDER,
    ActivityType.BUNDLE: Group.ORDER,
    ActivityType.COUPON: Group.COUPON,
    ActivityType.NEW_USER: Group.COUPON,
    ActivityType.FREE_SHIPPING: Group.SHIPPING,
}


class ActivityStatus(StrEnum):
    """Lifecycle set by the shop; the schedule decides liveness only while ``active``."""

    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class IneligibleReason(StrEnum):
    """Why an activity does not apply, as the deal engine reports it."""

    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    AUDIENCE = "audience"
    PER_USER_LIMIT = "per_user_limit"
    BUDGET_EXHAUSTED = "budget_exhausted"
    MIN_SPEND_NOT_MET = "min_spend_not_met"
    OUT_OF_SCOPE = "out_of_scope"
    SOLD_OUT = "sold_out"


def category_covers(scope_category: str, product_category: str) -> bool:
    """Whether ``scope_category`` is ``product_category`` or one of its ancestors.

    >>> category_covers("shoes", "shoes/running"), category_covers("shoe", "shoes/running")
    (True, False)
    """
    scope_category = scope_category.strip("/")
    return product_category == scope_category or product_category.startswith(scope_category + "/")


@dataclass(frozen=True, slots=True)
class Scope:
    """Which products an activity covers.

    ``all`` covers everything. Otherwise each non-empty selector must match (a product in one of
    ``categories``, its whole subtree included, *and* of one of ``brands`` *and* among
    ``products``), so "Stride running shoes" is ``categories=("shoes/running",),
    brands=("Stride",)``.
    """

    all: bool = False
    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    products: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.all and not (self.categories or self.brands or self.products):
            raise ValidationError("scope is empty: give all, categories, brands or products")

    def covers(self, product: Product) -> bool:
        """Whether ``product`` is in scope."""
        if self.all:
            return True
        if self.categories and not any(
            category_covers(c, product.category) for c in self.categories
        ):
            return False
        if self.brands and product.brand.casefold() not in {b.casefold() for b in self.brands}:
            return False
        return not self.products or product.id in self.products

    def to_json(self) -> dict[str, Any]:
        """The JSON form used in catalog files and SQL."""
        if self.all:
            return {"all": True}
        out: dict[str, Any] = {}
        if self.categories:
            out["categories"] = list(self.categories)
        if self.brands:
            out["brands"] = list(self.brands)
        if self.products:
            out["products"] = list(self.products)
        return out


@dataclass(frozen=True, slots=True)
class Tier:
    """Spend ``threshold`` (minor units) in scope, get ``discount`` off the order."""

    threshold: int
    discount: int


@dataclass(frozen=True, slots=True)
class Audience:
    """Who may use an activity: everyone, new users, members, or one segment."""

    kind: str = "all"
    segment: str | None = None

    KINDS = ("all", "new_users", "members", "segment")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise ValidationError(
                f"unknown audience {self.kind!r}; use one of {', '.join(self.KINDS)}"
            )
        if (self.kind == "segment") != bool(self.segment):
            raise ValidationError("audience 'segment' needs a segment name, and only it")

    @classmethod
    def parse(cls, text: str) -> Audience:
        """``"all"``, ``"new_users"``, ``"members"`` or ``"segment:NAME"``."""
        if text.startswith("segment:"):
            return cls("segment", text.split(":", 1)[1])
        return cls(text)

    def __str__(self) -> str:
        return f"segment:{self.segment}" if self.kind == "segment" else self.kind

    def admits(self, shopper: Shopper) -> bool:
        """Whether ``shopper`` belongs to this audience."""
        if self.kind == "all":
            return True
        if self.kind == "new_users":
            return shopper.new_user
        if self.kind == "members":
            return shopper.member
        return self.segment in shopper.segments


@dataclass(frozen=True, slots=True)
class Product:
    """A product as the deal engine and retrieval see it; prices in minor units."""

    id: str
    title: str
    category: str
    brand: str
    price: int
    stock: int | None = None
    title_zh: str | None = None


@dataclass(frozen=True, slots=True)
class Activity:
    """One immutable revision of a promotional activity.

    Terms by type: ``percent`` (+ optional ``max_discount`` per line) for item-level types;
    ``tiers`` for ``threshold``; ``min_quantity`` with ``amount`` or ``percent`` for ``bundle``;
    ``amount`` or ``percent`` (+ ``max_discount``) with optional ``min_spend`` for coupons;
    ``min_spend`` for ``free_shipping``. ``budget`` is the campaign's total in minor units,
    ``per_user_limit`` the number of uses per shopper, ``quantity_limit`` the units on sale
    (flash sales). ``value_known`` is false only for a coupon imported without a face value (The
    Complete Journey's coupons): it has neither ``amount`` nor ``percent`` and the deal engine
    never applies it.
    """

    id: str
    type: ActivityType
    scope: Scope
    schedule: Schedule
    revision: int = 1
    title: str = ""
    title_zh: str | None = None
    audience: Audience = field(default_factory=Audience)
    status: ActivityStatus = ActivityStatus.ACTIVE
    percent: int | None = None
    amount: int | None = None
    max_discount: int | None = None
    min_spend: int | None = None
    tiers: tuple[Tier, ...] = ()
    min_quantity: int | None = None
    budget: int | None = None
    per_user_limit: int | None = None
    quantity_limit: int | None = None
    terms: str = ""
    value_known: bool = True

    @property
    def group(self) -> Group:
        """The stacking group, fixed by the type."""
        return self.type.group

    def __post_init__(self) -> None:
        problems = _term_problems(self)
        if problems:
            raise ValidationError(f"activity {self.id}: " + "; ".join(problems))


def _term_problems(a: Activity) -> list[str]:
    """Every inconsistency between an activity's type and its terms."""
    out: list[str] = []
    if a.percent is not None and not 0 < a.percent <= 100:
        out.append(f"percent {a.percent} must be in 1..100")
    for name in ("amount", "max_discount", "min_spend", "budget"):
        value = getattr(a, name)
        if value is not None and value < 0:
            out.append(f"{name} must not be negative")
    for name in ("per_user_limit", "quantity_limit", "min_quantity"):
        value = getattr(a, name)
        if value is not None and value < 1:
            out.append(f"{name} must be at least 1")
    group = a.type.group
    if group is Group.ITEM and a.percent is None:
        out.append(f"{a.type} needs a percent")
    if a.type is ActivityType.THRESHOLD:
        if not a.tiers:
            out.append("threshold needs at least one tier")
        thresholds = [t.threshold for t in a.tiers]
        if thresholds != sorted(set(thresholds)):
            out.append("tiers must have strictly increasing thresholds")
        if any(t.discount <= 0 or t.discount > t.threshold for t in a.tiers):
            out.append("each tier's discount must be positive and at most its threshold")
        discounts = [t.discount for t in a.tiers]
        if discounts != sorted(set(discounts)):
            out.append("a higher tier must give a larger discount")
    if a.type is ActivityType.BUNDLE:
        if a.min_quantity is None:
            out.append("bundle needs min_quantity")
        if (a.amount is None) == (a.percent is None):
            out.append("bundle needs exactly one of amount or percent")
    if not a.value_known:
        if group is not Group.COUPON:
            out.append(f"only a coupon may have an unknown value, not a {a.type}")
        given = [
            n for n in ("amount", "percent", "max_discount", "budget") if getattr(a, n) is not None
        ]
        if given:
            out.append(f"a coupon of unknown value cannot have {', '.join(given)}")
    elif group is Group.COUPON and (a.amount is None) == (a.percent is None):
        out.append(f"{a.type} needs exactly one of amount or percent")
    if (
        group is Group.COUPON
        and a.budget is not None
        and a.amount is None
        and (a.max_discount is None)
    ):
        # Each claim reserves the coupon's full value; an uncapped percent has none.
        out.append(f"a percent {a.type} with a budget needs max_discount")
    if a.type is ActivityType.FREE_SHIPPING and a.min_spend is None:
        object.__setattr__(a, "min_spend", 0)
    return out


@dataclass(frozen=True, slots=True)
class Shopper:
    """What the deal engine needs to know about a user."""

    id: str
    member: bool = False
    new_user: bool = False
    segments: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CartLine:
    """A product and a quantity (>= 1)."""

    product_id: str
    quantity: int = 1
