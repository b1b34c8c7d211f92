"""User and catalog ids are checked whole: a trailing newline is no part of any id.

Regression: the checks used ``re.match`` with ``$``, which also matches before a final
newline, so ``"alice\\n"`` was stored as a user distinct from ``"alice"``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select

from assistant.catalog.schemas import ActivityRow, ProductRow
from assistant.errors import ValidationError
from assistant.store import UserData, UserRecord, get_or_create_user, session_factory, upsert_users

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
TRAILING = ["alice\n", "alice\r\n", "a" * 128 + "\n"]


@pytest.mark.parametrize("user_id", TRAILING)
def test_a_user_id_with_a_trailing_newline_is_refused(db_engine: Engine, user_id: str) -> None:
    with session_factory(db_engine).begin() as session:
        with pytest.raises(ValidationError, match=r"must be 1-128 letters, digits or \._:@-"):
            get_or_create_user(session, user_id, now=NOW)
        with pytest.raises(ValidationError, match=r"must be 1-128 letters, digits or \._:@-"):
            upsert_users(session, [UserData(user_id)], now=NOW)
    with session_factory(db_engine)() as session:
        assert session.scalar(select(func.count()).select_from(UserRecord)) == 0


def test_the_longest_user_id_still_passes(db_engine: Engine) -> None:
    with session_factory(db_engine).begin() as session:
        assert get_or_create_user(session, "a" * 128, now=NOW).id == "a" * 128


@pytest.mark.parametrize("row", [ProductRow, ActivityRow])
def test_a_catalog_id_is_checked_whole(row: type[ProductRow] | type[ActivityRow]) -> None:
    # Rows strip whitespace before this check, so it is the last line of defence.
    assert row._id_shape("P1") == "P1"
    with pytest.raises(ValueError, match=r"id 'P1\\n' must be 1-128 letters"):
        row._id_shape("P1\n")
