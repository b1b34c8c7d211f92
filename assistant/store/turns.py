"""The SQL of one shopper turn, built once: what a turn reads before computing and writes after.

A turn runs these statements at every message, so they are Core statements on the tables (no
ORM unit of work or ORM statement compilation) built once at import with named bind
parameters: SQLAlchemy then neither rebuilds them nor regenerates their cache keys per call,
which measured about a millisecond of CPU per turn on the load test. Each function is one round
trip; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from assistant.store.models import (
    DecisionRecord,
    FeedbackRecord,
    ImpressionRecord,
    MessageRecord,
    SessionRecord,
    UserRecord,
)

__all__ = [
    "insert_session",
    "insert_turn_rows",
    "positive_history",
    "read_user",
    "read_user_session",
    "update_preferences",
    "update_session",
]

_USERS = cast(Table, UserRecord.__table__)
_SESSIONS = cast(Table, SessionRecord.__table__)
_MESSAGES = cast(Table, MessageRecord.__table__)
_DECISIONS = cast(Table, DecisionRecord.__table__)
_IMPRESSIONS = cast(Table, ImpressionRecord.__table__)
_FEEDBACK = cast(Table, FeedbackRecord.__table__)

_USER_COLUMNS = (_USERS.c.member, _USERS.c.new_user, _USERS.c.segments, _USERS.c.preferences)
_READ_USER = select(*_USER_COLUMNS).where(_USERS.c.id == bindparam("user_id"))
_READ_USER_SESSION = (
    select(
        _SESSIONS.c.user_id,
        _SESSIONS.c.state,
        _SESSIONS.c.agent_active,
        _SESSIONS.c.summary,
        *_USER_COLUMNS,
    )
    .join(_USERS, _USERS.c.id == _SESSIONS.c.user_id)
    .where(_SESSIONS.c.id == bindparam("session_id"))
)
_HISTORY = (
    select(_IMPRESSIONS.c.item_id, _FEEDBACK.c.type, _FEEDBACK.c.created_at)
    .join(_FEEDBACK, _FEEDBACK.c.impression_id == _IMPRESSIONS.c.id)
    .join(_DECISIONS, _DECISIONS.c.id == _IMPRESSIONS.c.decision_id)
    .where(
        _DECISIONS.c.user_id == bindparam("user_id"),
        _FEEDBACK.c.type.in_(bindparam("types", expanding=True)),
        _IMPRESSIONS.c.kind == "product",
    )
    .order_by(_FEEDBACK.c.created_at.desc())
    .limit(bindparam("limit"))
)
_UPDATE_PREFERENCES = update(_USERS).where(_USERS.c.id == bindparam("b_user_id"))
# The user too: a forget meanwhile moved the session to a pseudonym, and the turn must not
# write the shopper's words back into it.
_UPDATE_SESSION = (
    update(_SESSIONS)
    .where(_SESSIONS.c.id == bindparam("b_id"), _SESSIONS.c.user_id == bindparam("b_user_id"))
    .returning(_SESSIONS.c.handoff)
)
_INSERT_SESSION = insert(_SESSIONS)
_INSERT_MESSAGES = insert(_MESSAGES)
_INSERT_DECISION = insert(_DECISIONS)
_INSERT_IMPRESSIONS = insert(_IMPRESSIONS)


def read_user(session: Session, user_id: str) -> Any:
    """The user's ``member``, ``new_user``, ``segments`` and ``preferences``; ``None`` if
    unknown."""
    return session.execute(_READ_USER, {"user_id": user_id}).first()


def read_user_session(session: Session, session_id: str) -> Any:
    """The session's ``user_id``, ``state``, ``agent_active`` and ``summary`` with its user's
    columns of :func:`read_user`, in one statement; ``None`` if there is no such session."""
    return session.execute(_READ_USER_SESSION, {"session_id": session_id}).first()


def positive_history(session: Session, user_id: str, types: Sequence[str], limit: int) -> list[Any]:
    """The user's most recent feedback of ``types`` on product impressions, newest first:
    ``(item_id, type, created_at)`` rows."""
    params = {"user_id": user_id, "types": list(types), "limit": limit}
    return list(session.execute(_HISTORY, params))


def update_preferences(session: Session, user_id: str, preferences: dict[str, Any]) -> None:
    """Store the user's standing preferences."""
    session.execute(_UPDATE_PREFERENCES, {"b_user_id": user_id, "preferences": preferences})


def insert_session(session: Session, values: dict[str, Any]) -> None:
    """Insert one session row (every column given)."""
    session.execute(_INSERT_SESSION, values)


def update_session(
    session: Session, session_id: str, user_id: str, values: dict[str, Any]
) -> bool | None:
    """Update the user's session with ``values``; its ``handoff`` after the update, or ``None``
    when the session is gone or no longer the user's."""
    handoff = session.execute(
        _UPDATE_SESSION, {"b_id": session_id, "b_user_id": user_id, **values}
    ).scalar()
    return None if handoff is None else bool(handoff)


def insert_turn_rows(
    session: Session,
    messages: Sequence[dict[str, Any]],
    decision: dict[str, Any] | None,
    impressions: Sequence[dict[str, Any]],
) -> None:
    """Insert a turn's messages, then its decision and the decision's impressions (each a
    list of whole rows; one round trip each)."""
    session.execute(_INSERT_MESSAGES, list(messages))
    if decision is not None:
        session.execute(_INSERT_DECISION, decision)
        if impressions:
            session.execute(_INSERT_IMPRESSIONS, list(impressions))
