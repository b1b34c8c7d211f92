"""Products in SQL: idempotent upserts with an honest price history, loading, explicit removal.

Every function works inside the caller's session and transaction; nothing here commits.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from itertools import islice
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from assistant.domain import Product
from assistant.errors import CartError, UnknownEntityError
from assistant.schedule import aware
from assistant.store._sql import id_in
from assistant.store.models import PriceHistoryRecord, ProductRecord

__all__ = [
    "ProductData",
    "UpsertOutcome",
    "load_products",
    "price_history",
    "product_to_domain",
    "remove_products",
    "upsert_product",
    "upsert_products",
    "unknown_ids_error",
]

logger = logging.getLogger(__name__)

_BATCH = 500


class UpsertOutcome(StrEnum):
    """What an upsert did to one catalog item."""

    INSERTED = "inserted"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class ProductData:
    """Everything stored about a product, as an import writes it (price in minor units).

    ``price`` is ``None`` for a product without one (it is stored, never priced or sold).
    """

    id: str
    title: str
    category: str
    brand: str
    price: int | None
    currency: str
    title_zh: str | None = None
    description: str = ""
    description_zh: str | None = None
    stock: int | None = None
    url: str | None = None
    image_url: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


def unknown_ids_error(kind: str, missing: Iterable[str]) -> UnknownEntityError:
    """The error for ids that do not exist (or were removed), listing every one of them."""
    ids = sorted(set(missing))
    shown = ", ".join(ids[:20]) + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")
    return UnknownEntityError(f"unknown {kind} id(s): {shown}")


def _chunks(items: Iterable[ProductData], size: int) -> Iterable[list[ProductData]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def upsert_products(
    session: Session, items: Iterable[ProductData], *, now: datetime
) -> Counter[UpsertOutcome]:
    """Insert or update products by id, in batches; a price change appends price history.

    An unchanged product is left alone (re-importing the same catalog writes nothing). A removed
    product that is upserted again is restored. Each price change closes the open
    :class:`~assistant.store.models.PriceHistoryRecord` at ``now`` and opens a new one (none
    while the product has no price), so a "was" price is always one the product really had.
    Writes are bulk statements that bypass the session's identity map (so large catalogs stay
    fast and flat in memory): product objects already loaded in ``session`` are not refreshed.

    Args:
        session: The session whose transaction receives the writes.
        items: Products to store; ids must be unique within the call.
        now: The time of the change (timezone-aware).

    Returns:
        How many products were inserted, updated and left unchanged.
    """
    now = aware(now, "now")
    counts: Counter[UpsertOutcome] = Counter()
    names = [f.name for f in fields(ProductData)]
    columns = [getattr(ProductRecord, name) for name in names]
    session.flush()
    for chunk in _chunks(items, _BATCH):
        query = select(*columns, ProductRecord.removed_at).where(
            id_in(session, ProductRecord.id, [item.id for item in chunk])
        )
        existing = {row.id: row._mapping for row in session.execute(query)}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        first_prices: dict[str, int | None] = {}
        repriced: dict[str, int | None] = {}
        for item in chunk:
            values = {name: getattr(item, name) for name in names}
            stored = existing.get(item.id)
            if stored is None:
                inserts.append({**values, "created_at": now, "updated_at": now})
                first_prices[item.id] = item.price
                counts[UpsertOutcome.INSERTED] += 1
            elif stored["removed_at"] is None and all(values[n] == stored[n] for n in names):
                counts[UpsertOutcome.UNCHANGED] += 1
            else:
                updates.append({**values, "updated_at": now, "removed_at": None})
                if item.price != stored["price"]:
                    repriced[item.id] = item.price
                counts[UpsertOutcome.UPDATED] += 1
        if inserts:
            session.execute(insert(ProductRecord), inserts)
        if updates:
            session.execute(update(ProductRecord), updates)
        if repriced:
            _close_prices(session, list(repriced), now)
        prices = first_prices | repriced
        if opened := [(p, v) for p, v in prices.items() if v is not None]:
            session.execute(
                insert(PriceHistoryRecord),
                [{"product_id": p, "price": v, "valid_from": now} for p, v in opened],
            )
    return counts


def upsert_product(session: Session, item: ProductData, *, now: datetime) -> UpsertOutcome:
    """Insert or update one product (see :func:`upsert_products`)."""
    counts = upsert_products(session, [item], now=now)
    return next(iter(counts))


def _close_prices(session: Session, product_ids: list[str], now: datetime) -> None:
    """End the open price row of each product at ``now``."""
    session.execute(
        update(PriceHistoryRecord)
        .where(
            id_in(session, PriceHistoryRecord.product_id, product_ids),
            PriceHistoryRecord.valid_to.is_(None),
        )
        .values(valid_to=now)
        .execution_options(synchronize_session=False)
    )


def price_history(session: Session, product_id: str) -> list[tuple[int, datetime, datetime | None]]:
    """A product's prices, oldest first, as ``(price, valid_from, valid_to)``."""
    rows = session.execute(
        select(PriceHistoryRecord.price, PriceHistoryRecord.valid_from, PriceHistoryRecord.valid_to)
        .where(PriceHistoryRecord.product_id == product_id)
        .order_by(PriceHistoryRecord.valid_from, PriceHistoryRecord.id)
    )
    return [(price, start, end) for price, start, end in rows]


def _unpriced_error(ids: Iterable[str]) -> CartError:
    listed = sorted(set(ids))
    shown = ", ".join(listed[:20]) + (f" and {len(listed) - 20} more" if len(listed) > 20 else "")
    return CartError(f"product(s) {shown} have no price; they cannot be priced or sold")


def product_to_domain(record: ProductRecord) -> Product:
    """The deal engine's view of a stored product.

    Raises:
        CartError: the product has no price, so the deal engine cannot price it.
    """
    if record.price is None:
        raise _unpriced_error([record.id])
    return Product(
        id=record.id,
        title=record.title,
        title_zh=record.title_zh,
        category=record.category,
        brand=record.brand,
        price=record.price,
        stock=record.stock,
    )


def load_products(session: Session, ids: Iterable[str]) -> dict[str, Product]:
    """The products with these ids, keyed by id, ready to price; removed ones count as unknown.

    Raises:
        UnknownEntityError: some ids do not exist or were removed; all of them are listed.
        CartError: some products have no price; all of them are listed.
    """
    wanted = set(ids)
    records: dict[str, ProductRecord] = {}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), _BATCH):
        batch = ordered[start : start + _BATCH]
        query = select(ProductRecord).where(
            id_in(session, ProductRecord.id, batch), ProductRecord.removed_at.is_(None)
        )
        for record in session.scalars(query):
            records[record.id] = record
    if missing := wanted - records.keys():
        raise unknown_ids_error("product", missing)
    if unpriced := [r.id for r in records.values() if r.price is None]:
        raise _unpriced_error(unpriced)
    return {product_id: product_to_domain(r) for product_id, r in records.items()}


def remove_products(session: Session, ids: Iterable[str], *, now: datetime | None = None) -> int:
    """Mark products removed; loaders and exports skip them from then on.

    Raises:
        UnknownEntityError: some ids do not exist; nothing is changed.

    Returns:
        How many products were newly removed (already removed ones are left as they are).
    """
    now = aware(now, "now") if now is not None else datetime.now(UTC)
    wanted = sorted(set(ids))
    records = list(
        session.scalars(select(ProductRecord).where(id_in(session, ProductRecord.id, wanted)))
    )
    if missing := set(wanted) - {r.id for r in records}:
        raise unknown_ids_error("product", missing)
    changed = 0
    for record in records:
        if record.removed_at is None:
            record.removed_at = now
            record.updated_at = now
            changed += 1
    session.flush()
    logger.info("removed %d product(s)", changed)
    return changed
