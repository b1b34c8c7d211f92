"""Small builders for hand-written deal tests (minor units, UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from assistant.deals import CartQuote, DealContext, quote_cart
from assistant.domain import Activity, ActivityType, CartLine, Product, Scope, Shopper
from assistant.schedule import Schedule

NOW = datetime(2030, 1, 15, 21, 0, tzinfo=UTC)
JAN = Schedule.once(datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 2, 1, tzinfo=UTC))
EVERYTHING = Scope(all=True)


def product(
    pid: str, price: int, category: str = "shoes/running", brand: str = "Stride"
) -> Product:
    return Product(pid, f"product {pid}", category, brand, price)


def activity(
    aid: str, kind: str, scope: Scope = EVERYTHING, schedule: Schedule = JAN, **terms: Any
) -> Activity:
    return Activity(aid, ActivityType(kind), scope, schedule, **terms)


def context(**overrides: Any) -> DealContext:
    values: dict[str, Any] = {"now": NOW, "shopper": Shopper("U1"), "shipping_fee": 600}
    values.update(overrides)
    return DealContext(**values)


def quote(
    products: list[Product],
    cart: list[tuple[str, int]],
    activities: list[Activity],
    ctx: DealContext | None = None,
) -> CartQuote:
    return quote_cart(
        {p.id: p for p in products},
        [CartLine(pid, qty) for pid, qty in cart],
        activities,
        ctx or context(),
    )
