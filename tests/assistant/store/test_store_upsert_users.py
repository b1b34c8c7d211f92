"""Bulk user upserts: insert, leave unchanged, update segments; bad ids refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from assistant.errors import ValidationError
from assistant.store import UpsertOutcome, UserData, UserRecord, session_factory, upsert_users

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def test_upsert_users_inserts_then_leaves_unchanged_then_updates(db_engine: Engine) -> None:
    users = [UserData("H1", segments=("s2", "s1", "s1")), UserData("H2")]
    with session_factory(db_engine).begin() as session:
        counts = upsert_users(session, users, now=NOW)
    assert counts == {UpsertOutcome.INSERTED: 2}
    later = NOW + timedelta(days=1)
    with session_factory(db_engine).begin() as session:
        counts = upsert_users(session, [*users[:1], UserData("H2", segments=("s3",))], now=later)
    assert counts == {UpsertOutcome.UNCHANGED: 1, UpsertOutcome.UPDATED: 1}
    with session_factory(db_engine)() as session:
        first, second = session.get(UserRecord, "H1"), session.get(UserRecord, "H2")
        assert first is not None and second is not None
        assert (first.segments, first.new_user, first.member) == (["s1", "s2"], False, False)
        assert (second.segments, second.created_at) == (["s3"], NOW)
        assert second.to_shopper().segments == frozenset({"s3"})


@pytest.mark.parametrize(
    ("users", "message"),
    [
        ([UserData("bad id")], "user id 'bad id' must be 1-128 letters"),
        ([UserData("H1"), UserData("H1")], "user id 'H1' given more than once"),
    ],
)
def test_upsert_users_refuses_bad_and_repeated_ids(
    db_engine: Engine, users: list[UserData], message: str
) -> None:
    with (
        session_factory(db_engine).begin() as session,
        pytest.raises(ValidationError, match=message),
    ):
        upsert_users(session, users, now=NOW)
