"""Migrations match the models on both engines and round-trip; engines are set up right."""

from __future__ import annotations

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
    assert current(db_url) == head() == "0001"


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
    with pytest.raises(StoreError, match="at migration none but this code needs 0001"):
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
