"""Feedback on impressions, recorded once per client event id.

A new ``add_to_cart`` event on a product also adds that product to the cart of the session it
was shown in (:mod:`assistant.store.carts`), in the same transaction: a replayed event adds
nothing.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from assistant.errors import StoreError, UnknownEntityError, ValidationError
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

__all__ = ["FeedbackEvent", "record_feedback", "retry_when_locked"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


def retry_when_locked(work: Callable[[], T], *, what: str, deadline_s: float = 60.0) -> T:
    """Run ``work``, one whole write transaction, again while SQLite reports "database is
    locked", until ``deadline_s`` has passed.

    SQLite has one writer at a time; a ``BEGIN IMMEDIATE`` waits for the lock only as long as
    the connection's busy timeout (5 s), and under a burst of writers (64 claims at once on
    two busy cores) some wait longer than that. The failed transaction has been rolled back,
    so running it again is safe; other errors, and every error on PostgreSQL, pass through.

    Args:
        work: Opens, runs and commits the transaction; returns its result.
        what: What it does, for the log and the error ("claiming a coupon").
        deadline_s: How long to keep trying.

    Raises:
        StoreError: still locked after ``deadline_s`` (HTTP 503 ``store_unavailable``).
    """
    deadline = time.monotonic() + deadline_s
    pause = 0.01
    while True:
        try:
            return work()
        except OperationalError as exc:
            if "database is locked" not in str(exc.orig):
                raise
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"the store stayed busy for {deadline_s:.0f} s while {what}; retry later"
                ) from exc
            logger.info("SQLite write lock busy while %s; trying again", what)
        # Jittered so that the waiters do not all come back at the same moment.
        time.sleep(random.uniform(0, pause))  # noqa: S311 - jitter, not a secret
        pause = min(pause * 2, 0.5)


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
