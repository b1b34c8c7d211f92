"""Users: created on first contact as new, non-member shoppers, or imported in bulk."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.errors import ValidationError
from assistant.schedule import aware
from assistant.store._sql import id_in
from assistant.store.models import UserRecord
from assistant.store.products import UpsertOutcome

__all__ = ["PSEUDONYM_PREFIX", "UserData", "ensure_user", "get_or_create_user", "upsert_users"]

logger = logging.getLogger(__name__)

_USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}\Z")  # \Z: "$" lets "alice\n" in
_BATCH = 500

PSEUDONYM_PREFIX = "forgotten-"
"""Ids of this form are the pseudonyms of forgotten users (:mod:`assistant.privacy`): reserved,
so that no shopper, import or claim can ever be attached to one."""


def _check_id(user_id: str) -> None:
    if not _USER_ID.match(user_id):
        raise ValidationError(
            f"user id {user_id!r} must be 1-128 letters, digits or ._:@- and start with a letter "
            "or digit"
        )
    if user_id.startswith(PSEUDONYM_PREFIX):
        raise ValidationError(
            f"user id {user_id!r} starts with {PSEUDONYM_PREFIX!r}, which is reserved for "
            "forgotten users; use another id"
        )


@dataclass(frozen=True, slots=True)
class UserData:
    """Everything an import stores about a user.

    An imported user has shopped before, so ``new_user`` defaults to false (a user created on
    first contact is new). ``segments`` name the audiences (``segment:NAME``) the user is in.
    """

    id: str
    segments: tuple[str, ...] = ()
    member: bool = False
    new_user: bool = False
    locale: str | None = None


def upsert_users(
    session: Session, users: Iterable[UserData], *, now: datetime
) -> Counter[UpsertOutcome]:
    """Insert or update users by id in bulk; nothing here commits.

    A stored user whose member flag, new-user flag, segments or locale differ is updated (its
    segments are replaced, kept sorted); ``created_at`` stays the first import's time.

    Raises:
        ValidationError: a malformed or repeated id; the caller's transaction should roll back.

    Returns:
        How many users were inserted, updated and left unchanged.
    """
    now = aware(now, "now")
    items = list(users)
    seen: set[str] = set()
    for item in items:
        _check_id(item.id)
        if item.id in seen:
            raise ValidationError(f"user id {item.id!r} given more than once")
        seen.add(item.id)
    counts: Counter[UpsertOutcome] = Counter()
    names = ("member", "new_user", "segments", "locale")
    session.flush()
    for start in range(0, len(items), _BATCH):
        chunk = items[start : start + _BATCH]
        query = select(UserRecord.id, *(getattr(UserRecord, n) for n in names)).where(
            id_in(session, UserRecord.id, [item.id for item in chunk])
        )
        existing = {row.id: row._mapping for row in session.execute(query)}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for item in chunk:
            values = {
                "member": item.member,
                "new_user": item.new_user,
                "segments": sorted(set(item.segments)),
                "locale": item.locale,
            }
            stored = existing.get(item.id)
            if stored is None:
                inserts.append({"id": item.id, **values, "created_at": now})
                counts[UpsertOutcome.INSERTED] += 1
            elif all(values[n] == stored[n] for n in names):
                counts[UpsertOutcome.UNCHANGED] += 1
            else:
                updates.append({"id": item.id, **values})
                counts[UpsertOutcome.UPDATED] += 1
        if inserts:
            session.execute(insert(UserRecord), inserts)
        if updates:
            session.execute(update(UserRecord), updates)
    logger.info(
        "users: %d inserted, %d updated, %d unchanged",
        counts[UpsertOutcome.INSERTED],
        counts[UpsertOutcome.UPDATED],
        counts[UpsertOutcome.UNCHANGED],
    )
    return counts


def get_or_create_user(
    session: Session,
    user_id: str,
    *,
    locale: str | None = None,
    now: datetime | None = None,
) -> UserRecord:
    """The user with this id, created as a new, non-member user when unknown.

    Safe under concurrency: if another transaction creates the same user first, its row is
    returned. ``locale`` is only used for a user created here.

    Raises:
        ValidationError: the id is not 1-128 letters, digits or ``._:@-``.
    """
    _check_id(user_id)
    found = session.get(UserRecord, user_id)
    if found is not None:
        return found
    created = UserRecord(
        id=user_id,
        member=False,
        new_user=True,
        segments=[],
        locale=locale,
        created_at=aware(now, "now") if now is not None else datetime.now(UTC),
    )
    try:
        with session.begin_nested():
            session.add(created)
    except IntegrityError:
        raced = session.get(UserRecord, user_id, populate_existing=True)
        if raced is None:
            raise
        return raced
    logger.info("created user on first contact")
    return created


_USERS = cast(Table, UserRecord.__table__)
# Built once, on the table rather than the mapped class: a Core statement skips the ORM's
# bulk-insert path, and a prebuilt one the rebuilding of its cache key (a turn runs it).
# RETURNING says whether the row was inserted (psycopg reports no rowcount for it).
_INSERT_NEW_USER_PG = (
    postgresql.insert(_USERS).on_conflict_do_nothing(index_elements=["id"]).returning(_USERS.c.id)
)
_INSERT_NEW_USER_SQLITE = (
    sqlite.insert(_USERS).on_conflict_do_nothing(index_elements=["id"]).returning(_USERS.c.id)
)


def ensure_user(
    session: Session,
    user_id: str,
    *,
    now: datetime,
    preferences: dict[str, Any] | None = None,
) -> bool:
    """Create the user as a new, non-member user unless it exists: one ``INSERT ... ON
    CONFLICT DO NOTHING``, no read and no savepoint (what a turn needs for a user it has not
    seen; :func:`get_or_create_user` when the row itself is wanted). Nothing here commits.

    Args:
        session: An open session in a write transaction.
        user_id: The user.
        now: The creation time of a user created here.
        preferences: Stored on the user, created here or existing (``None``: left as they are).

    Raises:
        ValidationError: the id is not 1-128 letters, digits or ``._:@-``.

    Returns:
        Whether the user was created here (``False``: it existed, or another transaction
        created it first).
    """
    _check_id(user_id)
    values: dict[str, Any] = {
        "id": user_id,
        "member": False,
        "new_user": True,
        "segments": [],
        "locale": None,
        "created_at": aware(now, "now"),
        "preferences": preferences or {},
    }
    dialect = session.get_bind().dialect.name
    statement = _INSERT_NEW_USER_PG if dialect == "postgresql" else _INSERT_NEW_USER_SQLITE
    created = session.execute(statement, values).scalar() is not None
    if created:
        logger.info("created user on first contact")
    elif preferences is not None:
        session.execute(
            update(_USERS).where(_USERS.c.id == user_id).values(preferences=preferences)
        )
    return created
