"""The rows of catalog files: pydantic models at the trust boundary, converted to domain values.

A product row::

    {"id": "P1", "title": "Stride Run 2 running shoe", "title_zh": "Stride Run 2 跑鞋",
     "category": "shoes/running", "brand": "Stride", "price": "60.00", "currency": "USD",
     "stock": 12, "url": "https://shop.example/p/P1", "image_url": null, "attributes": {}}

An activity row (``window`` for a one-off, or ``schedule`` for a recurrence in shop time)::

    {"id": "A3", "type": "threshold", "scope": {"all": true},
     "tiers": [["50.00", "5.00"], ["100.00", "15.00"]],
     "window": ["2030-01-01T00:00:00Z", "2030-02-01T00:00:00Z"]}
    {"id": "F1", "type": "flash_sale", "percent": 30, "scope": {"categories": ["shoes"]},
     "schedule": {"starts_at": "2030-01-01T20:00:00+08:00", "rrule": "FREQ=DAILY",
                  "duration_minutes": 120, "until": null}}

A product without ``price`` is stored unpriced (e.g. a Complete Journey product that never
sold): exported and searchable, never priced by the deal engine. A coupon row with
``"value_known": false`` has neither ``amount`` nor ``percent`` and is never applied.

Money is a decimal string (or an integer) in the shop currency; floats are refused so that
``19.99`` never becomes ``19.989999``. Everything that can be checked without the store is
checked here, so a bad row is reported with its reason before anything is written.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    field_validator,
    model_validator,
)

from assistant.domain import (
    Activity,
    ActivityStatus,
    ActivityType,
    Audience,
    Group,
    Product,
    Scope,
    Tier,
)
from assistant.errors import ValidationError
from assistant.money import Currency
from assistant.schedule import Schedule

__all__ = ["ActivityRow", "Money", "ProductRow", "ScheduleSpec", "ScopeSpec"]

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}")


def _money_text(value: object) -> object:
    if isinstance(value, (bool, float)):
        raise ValueError(f'amount {value!r} must be a decimal string such as "19.99", not a float')
    if isinstance(value, int):
        value = str(value)  # then checked like text, so -3 is refused here with its field
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except ArithmeticError:
            raise ValueError(f"amount {value!r} is not a number") from None
        if not parsed.is_finite():
            raise ValueError(f"amount {value!r} is not a finite number")
        if parsed < 0:
            raise ValueError(f"amount {value!r} is negative")
        return value.strip()
    raise ValueError(f"amount {value!r} must be a decimal string")


Money = Annotated[str, BeforeValidator(_money_text)]
"""A non-negative decimal amount as text; converted to minor units with the shop currency."""


def _json_cell(value: object) -> object:
    """CSV cells carry nested values as JSON text; JSONL carries them as they are."""
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "[{":
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not valid JSON: {exc.msg}") from None
    return value


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    id: str

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.fullmatch(value):  # not match + "$", which lets "P1\n" through
            raise ValueError(
                f"id {value!r} must be 1-128 letters, digits or ._:@- and start with a letter "
                "or digit"
            )
        return value


class ProductRow(_Row):
    """One product of a catalog file."""

    title: Annotated[str, Field(min_length=1, max_length=300)]
    title_zh: str | None = None
    description: str = ""
    description_zh: str | None = None
    category: Annotated[str, Field(min_length=1, max_length=200)]
    brand: Annotated[str, Field(min_length=1, max_length=100)]
    price: Money | None = None
    currency: str | None = None
    stock: Annotated[StrictInt, Field(ge=0)] | None = None
    url: str | None = None
    image_url: str | None = None
    attributes: Annotated[dict[str, Any], BeforeValidator(_json_cell)] = Field(default_factory=dict)

    @field_validator("category")
    @classmethod
    def _category_path(cls, value: str) -> str:
        parts = [p.strip() for p in value.strip("/").split("/")]
        if not all(parts):
            raise ValueError(f"category {value!r} has an empty segment")
        return "/".join(parts)

    def price_minor(self, currency: Currency) -> int | None:
        """The price in minor units (``None`` if unpriced); the currency must be the shop's."""
        if self.currency is not None and Currency.of(self.currency).code != currency.code:
            raise ValidationError(
                f"currency {self.currency} is not the shop currency {currency.code}; "
                "shopassist converts nothing"
            )
        return None if self.price is None else currency.parse(self.price)

    def to_domain(self, currency: Currency) -> Product:
        """The deal engine's view of this product.

        Raises:
            ValidationError: the product has no price, so the deal engine cannot price it.
        """
        price = self.price_minor(currency)
        if price is None:
            raise ValidationError(f"product {self.id} has no price; it cannot be priced or sold")
        return Product(
            id=self.id,
            title=self.title,
            title_zh=self.title_zh,
            category=self.category,
            brand=self.brand,
            price=price,
            stock=self.stock,
        )


class ScopeSpec(BaseModel):
    """Which products an activity covers (see :class:`assistant.domain.Scope`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    all: bool = False
    categories: list[str] = Field(default_factory=list)
    brands: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> ScopeSpec:
        if not self.all and not (self.categories or self.brands or self.products):
            raise ValueError("scope is empty: give all, categories, brands or products")
        return self

    def to_domain(self) -> Scope:
        """The frozen domain value."""
        return Scope(
            all=self.all,
            categories=tuple(c.strip("/") for c in self.categories),
            brands=tuple(self.brands),
            products=tuple(self.products),
        )


class ScheduleSpec(BaseModel):
    """A recurrence in shop time: RRULE from ``starts_at``, each occurrence ``duration_minutes``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    starts_at: datetime
    rrule: str
    duration_minutes: Annotated[StrictInt, Field(gt=0)]
    until: datetime | None = None


class ActivityRow(_Row):
    """One activity of a catalog file; re-importing a changed row makes a new revision."""

    type: ActivityType
    group: Group | None = None
    title: str = ""
    title_zh: str | None = None
    terms: str = ""
    status: ActivityStatus = ActivityStatus.ACTIVE
    scope: Annotated[ScopeSpec, BeforeValidator(_json_cell)]
    audience: str = "all"
    window: Annotated[tuple[datetime, datetime], BeforeValidator(_json_cell)] | None = None
    schedule: Annotated[ScheduleSpec, BeforeValidator(_json_cell)] | None = None
    percent: Annotated[StrictInt, Field(gt=0, le=100)] | None = None
    amount: Money | None = None
    max_discount: Money | None = None
    min_spend: Money | None = None
    tiers: Annotated[list[tuple[Money, Money]], BeforeValidator(_json_cell)] = Field(
        default_factory=list
    )
    min_quantity: Annotated[StrictInt, Field(ge=1)] | None = None
    budget: Money | None = None
    per_user_limit: Annotated[StrictInt, Field(ge=1)] | None = None
    quantity_limit: Annotated[StrictInt, Field(ge=1)] | None = None
    value_known: bool = True

    @field_validator("audience")
    @classmethod
    def _audience(cls, value: str) -> str:
        try:
            return str(Audience.parse(value))
        except ValidationError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _consistent(self) -> ActivityRow:
        if self.group is not None and self.group is not self.type.group:
            raise ValueError(
                f"group {self.group} does not match type {self.type} (its group is "
                f"{self.type.group})"
            )
        if (self.window is None) == (self.schedule is None):
            raise ValueError("give exactly one of window [start, end] or schedule")
        for moment in (
            *(self.window or ()),
            *((self.schedule.starts_at, self.schedule.until) if self.schedule else ()),
        ):
            if moment is not None and moment.tzinfo is None:
                raise ValueError(f"time {moment.isoformat()} has no time zone; add Z or +08:00")
        if self.window is not None and self.window[1] <= self.window[0]:
            raise ValueError(
                f"end {self.window[1].isoformat()} is before start {self.window[0].isoformat()}"
            )
        return self

    def to_schedule(self, tz: str) -> Schedule:
        """The activity's schedule; recurrences are expanded in the shop's time zone ``tz``."""
        if self.window is not None:
            return Schedule.once(*self.window)
        assert self.schedule is not None
        return Schedule.recurring(
            self.schedule.starts_at,
            self.schedule.rrule,
            timedelta(minutes=self.schedule.duration_minutes),
            ends_at=self.schedule.until,
            tz=tz,
        )

    def to_domain(self, currency: Currency, tz: str, revision: int = 1) -> Activity:
        """The immutable domain revision; raises :class:`ValidationError` on bad terms."""

        def minor(value: str | None) -> int | None:
            return None if value is None else currency.parse(value)

        return Activity(
            id=self.id,
            revision=revision,
            type=self.type,
            title=self.title,
            title_zh=self.title_zh,
            terms=self.terms,
            status=self.status,
            scope=self.scope.to_domain(),
            audience=Audience.parse(self.audience),
            schedule=self.to_schedule(tz),
            percent=self.percent,
            amount=minor(self.amount),
            max_discount=minor(self.max_discount),
            min_spend=minor(self.min_spend),
            tiers=tuple(Tier(currency.parse(t), currency.parse(d)) for t, d in self.tiers),
            min_quantity=self.min_quantity,
            budget=minor(self.budget),
            per_user_limit=self.per_user_limit,
            quantity_limit=self.quantity_limit,
            value_known=self.value_known,
        )


ProductRow.model_rebuild()
ActivityRow.model_rebuild()

Kind = Literal["products", "activities"]
