"""Users: created on first contact as new, non-member shoppers."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.errors import ValidationError
from assistant.schedule import aware
from assistant.store.models import UserRecord

__all__ = ["get_or_create_user"]

logger = logging.getLogger(__name__)

_USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")


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
    if not _USER_ID.match(user_id):
        raise ValidationError(
            f"user id {user_id!r} must be 1-128 letters, digits or ._:@- and start with a letter "
            "or digit"
        )
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
