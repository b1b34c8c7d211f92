"""A turn's SQL on SQLite and PostgreSQL: few round trips, no pre-ping, a dead connection
retried once, and no write-back into a session forgotten while the turn ran."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from assistant.app import Shop
from assistant.config import Settings
from assistant.conversation import Assistant
from assistant.errors import UnknownEntityError
from assistant.indexing import sync_catalog_index
from assistant.privacy import forget_user
from assistant.store import make_engine
from assistant.store.models import MessageRecord, SessionRecord, UserRecord
from assistant.world import STEPS, build_demo

NOW = datetime(2030, 6, 15, 12, tzinfo=UTC)


@pytest.fixture
def assistant(db_url: str, tmp_path: Path) -> Iterator[Assistant]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        var_dir=tmp_path / "var",
        database_url=db_url,
        embedder="use",
        llm_backend="rules",
    )
    shop = Shop(settings, make_engine(settings.sqlalchemy_url))
    build_demo(
        shop,
        now=NOW,
        products=60,
        per_type=2,
        categories=["shoes/running"],
        steps=[s for s in STEPS if s.name != "logs"],
        progress=False,
    )
    sync_catalog_index(shop, progress=False, now=NOW)
    yield Assistant.from_shop(shop, seed=5)
    shop.engine.dispose()


class _Statements:
    """Every statement the engine sends while listening, as one line of SQL each."""

    def __init__(self, engine: Engine) -> None:
        self.sql: list[str] = []
        self.engine = engine

    def __enter__(self) -> _Statements:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sql = " ".join(statement.split()).upper()
        if not sql.startswith("BEGIN"):  # SQLite's transactions are begun by statement
            self.sql.append(sql)


def test_a_turn_reads_and_writes_in_few_statements(assistant: Assistant) -> None:
    engine = assistant.shop.engine
    with _Statements(engine) as first:
        opened = assistant.turn("few-1", "running shoes under $90", now=NOW)
    with _Statements(engine) as second:
        assistant.turn("few-1", "cheaper ones", session_id=opened.session_id, now=NOW)
    assert opened.recommendations
    # New user: user, deal state, history; then the user's INSERT ... ON CONFLICT, the
    # session, the messages, the decision and its impressions (a policy snapshot read may come
    # on top, once).
    assert len([s for s in first.sql if "POLICY_" not in s]) <= 8, first.sql
    # Known user, continued session: session + user, deal state, session cart, history; then
    # the session's UPDATE, the messages, the decision and its impressions.
    assert len(second.sql) <= 8, second.sql
    for sql in (*first.sql, *second.sql):
        assert "SAVEPOINT" not in sql
    assert sum(s.startswith("SELECT") for s in second.sql) <= 4, second.sql
    assert not any(s.startswith("INSERT INTO USERS") for s in second.sql)


def test_a_new_users_standing_preferences_are_stored_with_it(assistant: Assistant) -> None:
    result = assistant.turn("prefs-1", "no more recommendations based on my history", now=NOW)
    with assistant.shop.sessions() as session:
        user = session.get(UserRecord, "prefs-1")
        assert user is not None and user.new_user and not user.member
        stored = session.get(SessionRecord, result.session_id)
        assert stored is not None and stored.user_id == "prefs-1"
    again = assistant.turn("prefs-1", "running shoes", session_id=result.session_id, now=NOW)
    assert again.session_id == result.session_id


def test_postgres_connections_are_not_pinged_at_each_checkout(assistant: Assistant) -> None:
    engine = assistant.shop.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server connection to ping")
    assert not engine.pool._pre_ping
    assert engine.pool._recycle == 1800


def test_a_turn_after_its_database_connections_were_killed_succeeds(
    assistant: Assistant, postgres_admin: Engine
) -> None:
    engine = assistant.shop.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("terminating backends needs PostgreSQL")
    pids: set[int] = set()

    def remember(dbapi_connection: Any, _record: Any) -> None:
        pids.add(dbapi_connection.info.backend_pid)

    engine.dispose()
    event.listen(engine, "connect", remember)
    first = assistant.turn("killed-1", "running shoes under $90", now=NOW)
    assert pids
    with postgres_admin.connect() as connection:
        for pid in sorted(pids):
            connection.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
    # The pooled connections are dead now: the turn's read finds out, the pool is invalidated,
    # and the read runs again on a fresh connection.
    second = assistant.turn("killed-1", "cheaper ones", session_id=first.session_id, now=NOW)
    assert second.session_id == first.session_id
    with postgres_admin.connect() as connection:
        for pid in sorted(pids):
            connection.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
    third = assistant.turn("killed-2", "running shoes under $80", now=NOW)
    with assistant.shop.sessions() as session:
        roles = session.scalars(
            select(MessageRecord.role).where(
                MessageRecord.session_id.in_([first.session_id, third.session_id])
            )
        ).all()
    assert roles.count("shopper") == 3


def test_a_session_forgotten_during_the_turn_is_not_written_back(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = assistant.turn("forget-1", "running shoes under $90", now=NOW)
    read = Assistant._read

    def read_then_forget(self: Assistant, *args: Any, **kwargs: Any) -> Any:
        found = read(self, *args, **kwargs)
        forget_user(self.shop, "forget-1")
        return found

    monkeypatch.setattr(Assistant, "_read", read_then_forget)
    with pytest.raises(UnknownEntityError, match="was deleted meanwhile"):
        assistant.turn("forget-1", "cheaper ones, under 70", session_id=first.session_id, now=NOW)
    with assistant.shop.sessions() as session:
        stored = session.get(SessionRecord, first.session_id)
        assert stored is not None and stored.user_id != "forget-1"
        assert stored.state == {} and stored.summary == ""
        assert session.get(UserRecord, "forget-1") is None
        assert not session.scalars(
            select(MessageRecord.id).where(MessageRecord.session_id == first.session_id)
        ).all()


def test_a_new_session_of_a_user_forgotten_during_the_turn_is_not_written(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    assistant.turn("forget-2", "running shoes under $90", now=NOW)
    read = Assistant._read

    def read_then_forget(self: Assistant, *args: Any, **kwargs: Any) -> Any:
        found = read(self, *args, **kwargs)
        forget_user(self.shop, "forget-2")
        return found

    monkeypatch.setattr(Assistant, "_read", read_then_forget)
    with pytest.raises(UnknownEntityError, match="'forget-2' was forgotten meanwhile"):
        assistant.turn("forget-2", "running shoes under $70", now=NOW)
    with assistant.shop.sessions() as session:
        assert session.get(UserRecord, "forget-2") is None
        assert not session.scalars(
            select(SessionRecord.id).where(SessionRecord.user_id == "forget-2")
        ).all()
