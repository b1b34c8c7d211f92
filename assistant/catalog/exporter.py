"""Catalog export: the store's live products and activities as catalog rows (JSONL or CSV).

Rows use the import format, so export -> import into an empty store -> export gives identical
files. Removed items are not exported; activities are exported at their current revision.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from assistant.catalog.files import detect_kind, write_rows
from assistant.catalog.schemas import Kind
from assistant.config import Settings
from assistant.domain import ActivityType
from assistant.money import Currency
from assistant.schedule import utc_text
from assistant.store.models import ActivityRecord, ActivityRevisionRecord, ProductRecord

__all__ = ["activity_rows", "export_file", "product_rows"]

logger = logging.getLogger(__name__)

_EMPTY: tuple[Any, ...] = (None, "", [], {})


def _compact(row: dict[str, Any]) -> dict[str, Any]:
    """The row without absent values (``None``, empty text, empty lists and objects)."""
    return {key: value for key, value in row.items() if not any(value == e for e in _EMPTY)}


def _local_text(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).isoformat().replace("+00:00", "Z")


def product_rows(session: Session) -> Iterator[dict[str, Any]]:
    """Every live product as a catalog row, ordered by id (streamed)."""
    query = (
        select(ProductRecord)
        .where(ProductRecord.removed_at.is_(None))
        .order_by(ProductRecord.id)
        .execution_options(yield_per=1000)
    )
    for record in session.scalars(query):
        yield _compact(
            {
                "id": record.id,
                "title": record.title,
                "title_zh": record.title_zh,
                "description": record.description,
                "description_zh": record.description_zh,
                "category": record.category,
                "brand": record.brand,
                "price": None
                if record.price is None
                else Currency.of(record.currency).format(record.price),
                "currency": record.currency,
                "stock": record.stock,
                "url": record.url,
                "image_url": record.image_url,
                "attributes": record.attributes,
            }
        )


def activity_rows(session: Session, currency: Currency) -> Iterator[dict[str, Any]]:
    """Every live activity at its current revision as a catalog row, ordered by id."""
    query = (
        select(ActivityRevisionRecord)
        .join(
            ActivityRecord,
            and_(
                ActivityRecord.id == ActivityRevisionRecord.activity_id,
                ActivityRecord.current_revision == ActivityRevisionRecord.revision,
            ),
        )
        .where(ActivityRecord.removed_at.is_(None))
        .order_by(ActivityRecord.id)
    )
    for record in session.scalars(query):
        yield _activity_row(record, currency)


def _activity_row(record: ActivityRevisionRecord, currency: Currency) -> dict[str, Any]:
    def money(minor: int | None) -> str | None:
        return None if minor is None else currency.format(minor)

    window: list[str] | None = None
    schedule: dict[str, Any] | None = None
    if record.rrule is None:
        assert record.ends_at is not None  # a one-off window always has an end
        window = [utc_text(record.starts_at), utc_text(record.ends_at)]
    else:
        schedule = _compact(
            {
                "starts_at": _local_text(record.starts_at, record.tz),
                "rrule": record.rrule,
                "duration_minutes": record.duration_minutes,
                "until": None if record.ends_at is None else utc_text(record.ends_at),
            }
        )
    return _compact(
        {
            "id": record.activity_id,
            "type": record.type,
            "group": ActivityType(record.type).group.value,
            "title": record.title,
            "title_zh": record.title_zh,
            "terms": record.terms,
            "status": record.status,
            "scope": record.scope,
            "audience": record.audience,
            "window": window,
            "schedule": schedule,
            "percent": record.percent,
            "amount": money(record.amount),
            "max_discount": money(record.max_discount),
            "min_spend": money(record.min_spend),
            "tiers": [[money(t), money(d)] for t, d in record.tiers],
            "min_quantity": record.min_quantity,
            "budget": money(record.budget),
            "per_user_limit": record.per_user_limit,
            "quantity_limit": record.quantity_limit,
            "value_known": None if record.value_known else False,
        }
    )


def export_file(
    session: Session, path: str | Path, settings: Settings, *, kind: Kind | None = None
) -> int:
    """Write the live catalog of ``kind`` (default: from the file name) to a JSONL or CSV file.

    Args:
        session: An open session (read only).
        path: Target file; ``.jsonl`` or ``.csv`` picks the format.
        settings: The shop's settings (its currency formats the money).
        kind: ``products`` or ``activities``; detected from the name when not given.

    Returns:
        How many rows were written.
    """
    kind = kind or detect_kind(path)
    currency = settings.shop_currency
    rows = product_rows(session) if kind == "products" else activity_rows(session, currency)
    return write_rows(path, kind, rows)
