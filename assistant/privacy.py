"""Forget a user: delete what they wrote and who they are, keep their events under a pseudonym.

:func:`forget_user` runs in one transaction (``BEGIN IMMEDIATE`` on SQLite, a row lock on the
user on PostgreSQL), so a failure changes nothing. What happens to each kind of row:

* **Deleted**: the messages of every session of the user (their words and the replies that
  quote them), the session carts and their lines (what they were about to buy), and the user
  row itself.
* **Emptied**: each session's ``state`` (the dialogue slots hold the shopper's query, recipient
  and occasion) and ``summary`` (a line made of those slots); ``handoff`` and ``agent_active``
  are cleared, so an emptied session leaves the agent queue.
* **Moved to a pseudonym**: every row that names the user (``sessions``, ``decisions``,
  ``claims``, and any other column that references ``users.id`` or is called ``user_id``) now
  names ``forgotten-<uuid4>``: random and new for each forget, never a hash of the id, which
  anyone holding the id could recompute. Impressions and feedback follow their decision, so
  the training logs (the ranker export, the policy updater, off-policy evaluation, the A/B
  readout) keep every event and still see one user behind them.
* **The pseudonym's user row** keeps ``member``, ``new_user`` and ``created_at``: coarse facts
  the deal engine, the fairness report and the ranker's features use, which identify nobody.
  ``segments`` (they can be narrow enough to point at a person), ``locale`` and
  ``preferences`` (the ``not_interested`` list is the shopper's own words) are dropped.
* **Claims** stay, with their amount, status and coupon code: the activities' reserved budgets
  are the sum of their claims, so deleting them would hand the budget out twice, and a code is
  random text (``SA-`` and 10 characters), not personal. Their ``idempotency_key`` is the
  client's own string (often built from the user id), so it is replaced by a random one.
* **Feedback events** keep their type, value, quantity and time; their ``event_id`` (the
  client's string) becomes random and ``order_id`` (the host shop's order number, which its
  order system links to the person) is cleared.

Out of reach here, and said so: ranking snapshots already written to files (export again), the
shop's own logs, the embedding cache (``var/embeddings.sqlite`` keeps vectors keyed by the
sha256 of a text, which does not name anyone), and each running server's in-memory LRU of
recent query embeddings (bounded, gone at restart). A turn already in flight when the forget
commits writes nothing back: its continued session is no longer the user's (the turn fails as
an unknown session) and a new session would name the deleted user row (the insert fails). Only
a turn that had found no user at all creates one under the old id afterwards; forget again once
the shopper is gone.

Example:
    >>> from assistant.app import Shop  # doctest: +SKIP
    >>> report = forget_user(Shop.from_settings(), "u-123")  # doctest: +SKIP
    >>> report.deleted["messages"]  # doctest: +SKIP
    14
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, CursorResult, Engine, Executable, delete, select, update
from sqlalchemy.orm import Session

from assistant.errors import UnknownEntityError, ValidationError
from assistant.store import (
    SQLITE_BEGIN_OPTION,
    Base,
    CartItemRecord,
    CartRecord,
    ClaimRecord,
    DecisionRecord,
    FeedbackRecord,
    ImpressionRecord,
    MessageRecord,
    SessionRecord,
    UserRecord,
    session_factory,
)
from assistant.store.users import PSEUDONYM_PREFIX

if TYPE_CHECKING:
    from assistant.app import Shop

__all__ = ["PSEUDONYM_PREFIX", "ForgetReport", "forget_user", "new_pseudonym"]

logger = logging.getLogger(__name__)

_CHUNK = 500  # ids per IN (...): well under SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """What :func:`forget_user` did, as row counts per table.

    The pseudonym itself is not part of the report: whoever holds the report also knows the
    user id it was asked for, and the two together would be the very link that was cut.

    Attributes:
        deleted: Rows deleted, by table (``messages``, ``cart_items``, ``carts``, ``users``).
        anonymized: Rows kept under the pseudonym or with their personal fields emptied, by
            table (``sessions``, ``decisions``, ``claims``, ``impressions``,
            ``feedback_events``, ``users``).
    """

    deleted: dict[str, int] = field(default_factory=dict)
    anonymized: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, dict[str, int]]:
        """``{"deleted": {table: n}, "anonymized": {table: n}}``."""
        return {"deleted": dict(self.deleted), "anonymized": dict(self.anonymized)}

    def summary(self) -> str:
        """One line for people: the counts, zero counts included."""

        def part(counts: dict[str, int]) -> str:
            return ", ".join(f"{table} {n}" for table, n in counts.items())

        return f"deleted: {part(self.deleted)}; anonymized: {part(self.anonymized)}"


def new_pseudonym() -> str:
    """A fresh pseudonym, ``forgotten-`` and 32 random hex digits (uuid4)."""
    return f"{PSEUDONYM_PREFIX}{uuid.uuid4().hex}"


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def _user_columns() -> list[Column[Any]]:
    """Every column that names a user: a foreign key to ``users.id`` or a ``user_id``.

    Found from the models' metadata, so a table added later is pseudonymized too.
    """
    users = UserRecord.__table__
    found: list[Column[Any]] = []
    for table in Base.metadata.sorted_tables:
        if table is users:
            continue
        for column in table.columns:
            if column.name == "user_id" or any(
                fk.column.table is users for fk in column.foreign_keys
            ):
                found.append(column)
    return found


def _count(session: Session, statement: Executable) -> int:
    """Rows an UPDATE or DELETE touched."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def _ids(session: Session, column: Any, where: Any) -> list[str]:
    return list(session.scalars(select(column).where(where).order_by(column)))


def _forget(session: Session, user_id: str) -> ForgetReport:
    user = session.get(UserRecord, user_id, with_for_update=True)
    if user is None:
        raise UnknownEntityError(
            f"unknown user {user_id!r}: nothing to forget (never seen, or already forgotten)"
        )
    pseudonym = new_pseudonym()
    session.add(
        UserRecord(
            id=pseudonym,
            member=user.member,
            new_user=user.new_user,
            segments=[],
            locale=None,
            created_at=user.created_at,
            preferences={},
        )
    )
    session.flush()
    deleted: dict[str, int] = {"messages": 0, "cart_items": 0, "carts": 0}
    anonymized: dict[str, int] = {
        "sessions": 0,
        "decisions": 0,
        "impressions": 0,
        "feedback_events": 0,
        "claims": 0,
    }

    sessions = _ids(session, SessionRecord.id, SessionRecord.user_id == user_id)
    carts = _ids(session, CartRecord.id, CartRecord.user_id == user_id)
    for part in _chunks(sessions):
        deleted["messages"] += _count(
            session, delete(MessageRecord).where(MessageRecord.session_id.in_(part))
        )
        carts += _ids(session, CartRecord.id, CartRecord.session_id.in_(part))
        anonymized["sessions"] += _count(
            session,
            update(SessionRecord)
            .where(SessionRecord.id.in_(part))
            .values(state={}, summary="", handoff=False, agent_active=False),
        )
    for part in _chunks(sorted(set(carts))):
        deleted["cart_items"] += _count(
            session, delete(CartItemRecord).where(CartItemRecord.cart_id.in_(part))
        )
        deleted["carts"] += _count(session, delete(CartRecord).where(CartRecord.id.in_(part)))

    # Client-chosen strings are re-keyed one row at a time: each needs its own random value.
    claims = _ids(session, ClaimRecord.id, ClaimRecord.user_id == user_id)
    for claim_id in claims:
        session.execute(
            update(ClaimRecord)
            .where(ClaimRecord.id == claim_id)
            .values(idempotency_key=new_pseudonym())
        )
    anonymized["claims"] = len(claims)
    decisions = _ids(session, DecisionRecord.id, DecisionRecord.user_id == user_id)
    anonymized["decisions"] = len(decisions)
    events: set[str] = set()
    for part in _chunks(decisions):
        impressions = _ids(session, ImpressionRecord.id, ImpressionRecord.decision_id.in_(part))
        anonymized["impressions"] += len(impressions)
        for chunk in _chunks(impressions):
            events.update(
                _ids(session, FeedbackRecord.event_id, FeedbackRecord.impression_id.in_(chunk))
            )
    for part in _chunks(claims):
        events.update(_ids(session, FeedbackRecord.event_id, FeedbackRecord.claim_id.in_(part)))
    for event_id in sorted(events):
        session.execute(
            update(FeedbackRecord)
            .where(FeedbackRecord.event_id == event_id)
            .values(event_id=new_pseudonym(), order_id=None)
        )
    anonymized["feedback_events"] = len(events)

    for column in _user_columns():
        session.execute(
            update(column.table).where(column == user_id).values({column.name: pseudonym})
        )
    session.flush()
    session.execute(delete(UserRecord).where(UserRecord.id == user_id))
    deleted["users"] = 1
    anonymized["users"] = 1
    return ForgetReport(deleted=deleted, anonymized=anonymized)


def forget_user(target: Engine | Shop, user_id: str) -> ForgetReport:
    """Delete a user's messages and personal fields and move their events to a pseudonym.

    See the module docstring for what happens to each table. One transaction: on any error
    nothing changes. Forgetting the same id again raises :class:`UnknownEntityError`, as the
    id no longer exists. The log line (INFO) holds the counts only, never the id.

    Args:
        target: The shop, or an engine on its store (SQLite or PostgreSQL, migrated).
        user_id: The user to forget.

    Returns:
        The rows deleted and anonymized, per table.

    Raises:
        UnknownEntityError: No user has this id (never seen, or already forgotten).
        ValidationError: The id is a pseudonym: a forgotten user already, with nothing
            personal left to delete.
    """
    if user_id.startswith(PSEUDONYM_PREFIX):
        raise ValidationError(
            f"{user_id!r} is the pseudonym of a user forgotten earlier: it holds nothing personal"
        )
    engine = target if isinstance(target, Engine) else target.engine
    with session_factory(engine)() as session, session.begin():
        # SQLite: take the write lock up front, so a turn writing meanwhile waits for us
        # rather than failing half-way with "database is locked".
        session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        report = _forget(session, user_id)
    logger.info("forgot a user: %s", report.summary())
    return report
