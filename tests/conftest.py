"""Shared fixtures: migrated stores on every engine, a dump for before/after comparisons.

``db_url`` runs a test once on a SQLite file and once on the local PostgreSQL:

* SQLite: each test gets its own file, a copy of one made by ``alembic upgrade head`` once per
  test session (copying is cheaper than migrating again, and it is the same schema).
* PostgreSQL: each test session creates its own schema with a random name on
  ``postgresql+psycopg://postgres@127.0.0.1:5432/test`` (``SHOPASSIST_TEST_POSTGRES_URL``
  overrides), points ``search_path`` at it through the URL's ``options``, runs
  ``alembic upgrade head`` into it, and drops it (CASCADE) at the end. Every table is truncated
  before each test, so tests are independent and never see what an earlier run left.

When PostgreSQL is unreachable its parameters are skipped, unless
``SHOPASSIST_REQUIRE_POSTGRES=1`` (CI), which makes them fail loudly. ``blank_db_url`` is the
same pair of engines with nothing migrated, for migration tests.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from assistant.config import Settings
from assistant.store import Base, make_engine, upgrade

PG_ADMIN_URL = os.environ.get(
    "SHOPASSIST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]

Dump = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An engine on the test database's default schema; skips (or fails in CI) when down."""
    engine = make_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        engine.dispose()
        reason = f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {str(exc.orig).splitlines()[0]}"
        if os.environ.get("SHOPASSIST_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"SHOPASSIST_REQUIRE_POSTGRES=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def new_pg_schema(postgres_admin: Engine) -> Iterator[Callable[[], str]]:
    """Makes fresh schemas (random names) and returns URLs whose search_path is that schema."""
    created: list[str] = []

    def make() -> str:
        name = f"shopassist_test_{uuid.uuid4().hex[:12]}"
        with postgres_admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{name}"')
        created.append(name)
        options = quote(f"-csearch_path={name}")
        return f"{PG_ADMIN_URL}?options={options}"

    yield make
    with postgres_admin.begin() as connection:
        for name in created:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture(scope="session")
def pg_migrated_url(new_pg_schema: Callable[[], str]) -> str:
    """One schema per test session, at head."""
    url = new_pg_schema()
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at head, made once; each test copies it."""
    path = tmp_path_factory.mktemp("sqlite-template") / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # checkpoints the WAL into the file
    return path


def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    try:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.exec_driver_sql(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE")
    finally:
        engine.dispose()


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store at head: a fresh SQLite file, or a truncated PostgreSQL schema."""
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_migrated_url")
    _truncate_all(url)
    return url


@pytest.fixture(params=ENGINES)
def blank_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a database with no tables at all (for migration tests)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'blank.db'}"
    make: Callable[[], str] = request.getfixturevalue("new_pg_schema")
    return make()


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    """An engine on ``db_url``, disposed after the test."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings() -> Settings:
    """The demo shop's settings (USD, UTC), independent of the environment and ``.env``."""
    return Settings(currency="USD", shop_tz="UTC", _env_file=None)  # type: ignore[call-arg]


def dump_store(engine: Engine) -> Dump:
    """Every row of every table, in primary-key order: equal dumps mean an unchanged store."""
    out: Dump = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            out[table.name] = [dict(row._mapping) for row in connection.execute(query)]
    return out


@pytest.fixture
def dump() -> Callable[[Engine], Dump]:
    """:func:`dump_store`, as a fixture so test modules need not import conftest."""
    return dump_store
