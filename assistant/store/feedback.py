"""Feedback on impressions, recorded once per client event id.

A new ``add_to_cart`` event on a product also adds that product to the cart of the session it
was shown in (:mod:`assistant.store.carts`), in the same transaction: a replayed event adds
nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from assistant.errors import UnknownEntityError, ValidationError
from assistant.schedule import aware
from assistant.store.carts import add_to_session_cart
from assistant.store.models import (
    FEEDBACK_TYPES,
    ClaimRecord,
    DecisionRecord,
    FeedbackRecord,
    ImpressionRecord,
    ProductRecord,
)

__all__ = ["FeedbackEvent", "record_feedback"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FeedbackEvent:
    """A shopper's reaction to an impression, as the client reports it.

    ``event_id`` is the client's own id: sending the same event again has no second effect.
    ``value`` is money in minor units (a purchase's amount), ``quantity`` units (add to cart).
    """

    event_id: str
    impression_id: str
    type: str
    claim_id: str | None = None
    order_id: str | None = None
    value: int | None = None
    quantity: int | None = None
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.event_id or len(self.event_id) > 200:
            raise ValidationError("event_id must be 1-200 characters")
        if self.type not in FEEDBACK_TYPES:
            raise ValidationError(
                f"unknown feedback type {self.type!r}; use one of {', '.join(FEEDBACK_TYPES)}"
            )
        if self.quantity is not None and self.quantity < 1:
            raise ValidationError(f"quantity {self.quantity} must be at least 1")


def record_feedback(session: Session, event: FeedbackEvent) -> bool:
    """Record ``event`` unless its ``event_id`` was seen before.

    Concurrent duplicates are settled by the primary key (``ON CONFLICT DO NOTHING``), so
    exactly one of them is recorded. A recorded ``add_to_cart`` on a product impression adds
    ``quantity`` (default 1) units of it to the cart of the session that showed it; on an
    activity impression it is recorded and the cart is left alone.

    On SQLite, open the transaction with ``BEGIN IMMEDIATE`` when other writers may run at
    once (``session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})`` before
    its first statement): a deferred transaction that has read fails at its first write with
    "database is locked" when another writer got in first.

    Returns:
        ``True`` when the event is new and was recorded; ``False`` for a duplicate, which
        changes nothing.

    Raises:
        UnknownEntityError: the impression (or the claim) does not exist.
    """
    if session.get(FeedbackRecord, event.event_id) is not None:
        return False
    impression = session.get(ImpressionRecord, event.impression_id)
    if impression is None:
        raise UnknownEntityError(f"unknown impression id {event.impression_id!r}")
    if event.claim_id is not None and session.get(ClaimRecord, event.claim_id) is None:
        raise UnknownEntityError(f"unknown claim id {event.claim_id!r}")
    created_at = (
        aware(event.created_at, "created_at") if event.created_at is not None else datetime.now(UTC)
    )
    values = {
        "event_id": event.event_id,
        "impression_id": event.impression_id,
        "type": event.type,
        "claim_id": event.claim_id,
        "order_id": event.order_id,
        "value": event.value,
        "quantity": event.quantity,
        "created_at": created_at,
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(FeedbackRecord)
        .values(values)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(FeedbackRecord.event_id)
    )
    recorded = session.execute(statement).scalar_one_or_none() is not None
    logger.debug("feedback %s %s", event.type, "recorded" if recorded else "duplicate")
    if recorded and event.type == "add_to_cart":
        _add_to_cart(session, impression, event.quantity or 1, created_at)
    return recorded


def _add_to_cart(
    session: Session, impression: ImpressionRecord, quantity: int, now: datetime
) -> None:
    if impression.kind != "product":
        return
    decision = session.get(DecisionRecord, impression.decision_id)
    if decision is None or decision.session_id is None:
        return
    if session.get(ProductRecord, impression.item_id) is None:
        logger.warning("add_to_cart on a product that is not stored; the cart is unchanged")
        return
    add_to_session_cart(
        session, decision.session_id, decision.user_id, impression.item_id, quantity, now=now
    )
