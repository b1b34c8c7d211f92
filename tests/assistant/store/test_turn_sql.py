"""The store's per-turn helpers: ensure_user, the one-statement deal state, and the retry of
work that lost its database connection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from assistant.errors import StoreError, ValidationError
from assistant.store import (
    UserData,
    UserRecord,
    ensure_user,
    retry_on_disconnect,
    session_factory,
    turn_deal_state,
    upsert_users,
    user_deal_state,
)

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def test_ensure_user_creates_once_and_keeps_an_existing_user(db_engine: Engine) -> None:
    upsert_users_now = NOW - timedelta(days=3)
    with session_factory(db_engine).begin() as session:
        upsert_users(session, [UserData("member-1", member=True)], now=upsert_users_now)
    with session_factory(db_engine).begin() as session:
        assert ensure_user(session, "fresh-1", now=NOW)
        assert not ensure_user(session, "fresh-1", now=NOW + timedelta(hours=1))
        assert not ensure_user(session, "member-1", now=NOW)
    with session_factory(db_engine)() as session:
        fresh = session.get(UserRecord, "fresh-1")
        member = session.get(UserRecord, "member-1")
        assert fresh is not None and member is not None
        assert (fresh.new_user, fresh.member, fresh.segments, fresh.preferences) == (
            True,
            False,
            [],
            {},
        )
        assert fresh.created_at == NOW
        assert (member.member, member.new_user, member.created_at) == (
            True,
            False,
            upsert_users_now,
        )


def test_ensure_user_stores_preferences_on_a_new_or_existing_user(db_engine: Engine) -> None:
    prefs = {"personalization": False, "not_interested": []}
    with session_factory(db_engine).begin() as session:
        ensure_user(session, "p-1", now=NOW, preferences=prefs)
        ensure_user(session, "p-2", now=NOW)
        # Raced: the user exists already, and the preferences must still land.
        ensure_user(session, "p-2", now=NOW, preferences=prefs)
    with session_factory(db_engine)() as session:
        for user_id in ("p-1", "p-2"):
            user = session.get(UserRecord, user_id)
            assert user is not None and user.preferences == prefs


def test_ensure_user_refuses_a_bad_id(db_engine: Engine) -> None:
    with (
        session_factory(db_engine).begin() as session,
        pytest.raises(ValidationError, match="user id 'bad id' must be 1-128 letters"),
    ):
        ensure_user(session, "bad id", now=NOW)


def test_turn_deal_state_matches_user_deal_state(db_engine: Engine) -> None:
    # No claims in a fresh store: both are empty, and the reserved budgets too.
    with session_factory(db_engine).begin() as session:
        ensure_user(session, "d-1", now=NOW)
    with session_factory(db_engine)() as session:
        uses, held, reserved = turn_deal_state(session, "d-1", now=NOW)
        assert (uses, held) == user_deal_state(session, "d-1", now=NOW)
        assert reserved == {}


def _dead(invalidated: bool) -> OperationalError:
    return OperationalError(
        "SELECT 1",
        {},
        Exception("server closed the connection"),
        connection_invalidated=invalidated,
    )


def test_retry_on_disconnect_runs_the_work_once_more() -> None:
    calls = []

    def work() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise _dead(True)
        return "done"

    assert retry_on_disconnect(work, what="reading") == "done"
    assert len(calls) == 2


def test_retry_on_disconnect_gives_up_after_the_second_loss() -> None:
    def work() -> str:
        raise _dead(True)

    with pytest.raises(StoreError, match="connection was lost twice while storing a turn"):
        retry_on_disconnect(work, what="storing a turn")


@pytest.mark.parametrize(
    "error",
    [_dead(False), IntegrityError("INSERT", {}, Exception("duplicate key"))],
    ids=["operational", "integrity"],
)
def test_retry_on_disconnect_lets_other_errors_through(error: Exception) -> None:
    calls = []

    def work() -> str:
        calls.append(1)
        raise error

    with pytest.raises(type(error)):
        retry_on_disconnect(work, what="storing a turn")
    assert len(calls) == 1
