"""Migrations match the models on both engines and round-trip; engines are set up right."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from assistant.errors import StoreError, ValidationError
from assistant.store import (
    SQLITE_BEGIN_OPTION,
    Base,
    UserRecord,
    check,
    current,
    downgrade,
    get_or_create_user,
    head,
    make_engine,
    normalize_url,
    require_head,
    session_factory,
    upgrade,
)


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_alembic_check_finds_no_drift(db_url: str) -> None:
    check(db_url)
    assert current(db_url) == head() == "0004"


def test_downgrade_to_base_then_upgrade_round_trips(blank_db_url: str) -> None:
    expected = {t.name for t in Base.metadata.sorted_tables}
    assert current(blank_db_url) is None
    upgrade(blank_db_url)
    assert _tables(blank_db_url) == expected | {"alembic_version"}
    downgrade(blank_db_url, "base")
    assert current(blank_db_url) is None
    assert _tables(blank_db_url) <= {"alembic_version"}
    upgrade(blank_db_url, "head")
    assert current(blank_db_url) == head()
    check(blank_db_url)


def test_check_reports_drift(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP INDEX ix_products_brand")
    engine.dispose()
    with pytest.raises(StoreError, match="models and migrations differ.*ix_products_brand"):
        check(db_url)


def test_require_head_refuses_an_unmigrated_store(blank_db_url: str) -> None:
    with pytest.raises(StoreError, match="at migration none but this code needs 0004"):
        require_head(blank_db_url)
    upgrade(blank_db_url)
    require_head(blank_db_url)


def test_sqlite_engine_uses_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 5000
        assert path.parent.is_dir()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///x.db", "sqlite"),
    ],
)
def test_urls_are_normalised_to_psycopg(given: str, driver: str) -> None:
    assert normalize_url(given).drivername == driver


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(ValidationError, match="unsupported database 'mysql'"):
        normalize_url("mysql://u@h/db")


def test_sqlite_savepoints_and_begin_immediate_are_transactional(
    sqlite_template: Path, tmp_path: Path
) -> None:
    shutil.copyfile(sqlite_template, tmp_path / "store.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        factory = session_factory(engine)
        with factory() as session:
            session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            get_or_create_user(session, "U1")
            with session.begin_nested():
                get_or_create_user(session, "U2")
            session.rollback()  # the released savepoint must roll back with its transaction
        with factory() as session:
            assert session.scalars(select(UserRecord.id)).all() == []
        with (
            factory() as session,
            pytest.raises(ValidationError, match="unknown SQLite BEGIN mode 'SOMETIMES'"),
        ):
            session.connection(execution_options={SQLITE_BEGIN_OPTION: "SOMETIMES"})
    finally:
        engine.dispose()


_ROWS_AT_0001 = [
    "INSERT INTO products (id, title, description, category, brand, price, currency, attributes,"
    " created_at, updated_at) VALUES ('P1', 'Shoe', '', 'shoes', 'Stride', 6000, 'USD', '{}',"
    " '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')",
    "INSERT INTO price_history (product_id, price, valid_from) VALUES ('P1', 6000,"
    " '2026-01-01 00:00:00+00:00')",
    "INSERT INTO users (id, member, new_user, segments, created_at) VALUES ('U1', false, true,"
    " '[]', '2026-01-01 00:00:00+00:00')",
    "INSERT INTO carts (id, user_id, updated_at) VALUES ('K1', 'U1', '2026-01-01 00:00:00+00:00')",
    "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ('K1', 'P1', 2)",
    "INSERT INTO activities (id, current_revision, status, budget_reserved, created_at, updated_at)"
    " VALUES ('A1', 1, 'active', 0, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')",
    "INSERT INTO activity_revisions (activity_id, revision, type, title, terms, status, scope,"
    " audience, starts_at, ends_at, tz, amount, tiers, content_hash, created_at) VALUES ('A1', 1,"
    " 'coupon', '', '', 'active', '{\"all\": true}', 'all', '2026-01-01 00:00:00+00:00',"
    " '2031-01-01 00:00:00+00:00', 'UTC', 500, '[]', 'h', '2026-01-01 00:00:00+00:00')",
    "INSERT INTO activity_occurrences (activity_id, starts_at, revision, ends_at) VALUES ('A1',"
    " '2026-01-01 00:00:00+00:00', 1, '2031-01-01 00:00:00+00:00')",
]


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one()
                for table in ("products", "price_history", "cart_items", "activity_occurrences")
            }
    finally:
        engine.dispose()


def test_0002_keeps_every_row_and_its_downgrade_refuses_what_0001_cannot_hold(
    blank_db_url: str,
) -> None:
    upgrade(blank_db_url, "0001")
    engine = make_engine(blank_db_url)
    try:
        with engine.begin() as connection:
            for statement in _ROWS_AT_0001:
                connection.exec_driver_sql(statement)
        upgrade(engine)
        # Rebuilding products on SQLite must not cascade to its children's rows.
        assert _counts(blank_db_url) == dict.fromkeys(
            ("products", "price_history", "cart_items", "activity_occurrences"), 1
        )
        with engine.begin() as connection:
            known = connection.exec_driver_sql("SELECT value_known FROM activity_revisions")
            assert [bool(v) for (v,) in known] == [True]
            connection.exec_driver_sql(
                "INSERT INTO products (id, title, description, category, brand, currency,"
                " attributes, created_at, updated_at) VALUES ('P2', 'Beans', '', 'food', 'Roast',"
                " 'USD', '{}', '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"
            )
        with pytest.raises(RuntimeError, match="1 unpriced product"):
            downgrade(engine, "0001")
        with engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM products WHERE id = 'P2'")
        downgrade(engine, "0001")
        assert current(engine) == "0001"
        assert _counts(blank_db_url)["price_history"] == 1
        upgrade(engine)
        check(engine)
    finally:
        engine.dispose()


def test_0003_gives_existing_users_empty_preferences_and_downgrades(blank_db_url: str) -> None:
    upgrade(blank_db_url, "0002")
    engine = make_engine(blank_db_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO users (id, member, new_user, segments, created_at)"
                " VALUES ('U1', false, true, '[]', '2026-01-01 00:00:00+00:00')"
            )
        upgrade(engine)
        with engine.connect() as connection:
            (prefs,) = connection.exec_driver_sql("SELECT preferences FROM users").one()
        assert (json.loads(prefs) if isinstance(prefs, str) else prefs) == {}
        downgrade(engine, "0002")
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT COUNT(*) FROM users").scalar_one() == 1
        upgrade(engine)
        check(engine)
    finally:
        engine.dispose()
