"""Engine and session factories: SQLite (WAL) for the embedded default, PostgreSQL to scale out.

Nothing here runs at import time; the composition root builds one engine and passes it in.

Example:
    >>> from sqlalchemy import text
    >>> engine = make_engine("sqlite:///:memory:")
    >>> with session_factory(engine)() as session:
    ...     session.execute(text("select 1")).scalar_one()
    1
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from assistant.errors import StoreError, ValidationError

__all__ = [
    "SQLITE_BEGIN_OPTION",
    "analyze_tables",
    "make_engine",
    "normalize_url",
    "POOL_RECYCLE_S",
    "retry_on_disconnect",
    "retry_when_locked",
    "session_factory",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

SQLITE_BEGIN_OPTION = "sqlite_begin"
"""Execution option naming the SQLite ``BEGIN`` mode of a connection's transactions.

``session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})`` makes the session's
transaction take SQLite's write lock up front (what a budget reservation needs); PostgreSQL
ignores it.
"""

# WAL with synchronous=NORMAL (SQLite's recommended pairing) syncs at checkpoints instead of at
# every commit: a turn's write costs ~1 ms instead of several; a power cut can lose the last
# commits but never corrupts the file. Production runs on PostgreSQL.
_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


POOL_RECYCLE_S = 1800
"""PostgreSQL connections older than this (seconds) are replaced at checkout, before a server or
firewall idle timeout can close them under us."""


def normalize_url(url: str | URL) -> URL:
    """The URL with PostgreSQL pinned to the psycopg 3 driver.

    ``postgres://`` and ``postgresql://`` become ``postgresql+psycopg://``; other URLs pass.

    Raises:
        ValidationError: the URL cannot be parsed, or names an engine shopassist does not support.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError, but be plain about any failure
        raise ValidationError(f"bad database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend in {"postgres", "postgresql"}:
        if parsed.drivername in {"postgres", "postgresql"}:
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed
    if backend == "sqlite":
        return parsed
    raise ValidationError(
        f"unsupported database {backend!r}; use sqlite:///path.db or postgresql://..."
    )


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for ``url``: SQLite with WAL, foreign keys and a busy timeout, or PostgreSQL.

    PostgreSQL connections are handled *optimistically* (SQLAlchemy's "Dealing with
    Disconnects"): no ``pool_pre_ping`` round trip at every checkout, which cost about one
    statement in eight of a turn; connections are recycled after :data:`POOL_RECYCLE_S`, and a
    statement that finds its connection dead invalidates the whole pool, so the next checkout
    connects afresh. The work that hit the dead connection fails with a
    ``DBAPIError`` whose ``connection_invalidated`` is true: :func:`retry_on_disconnect` runs
    it once more.

    For a SQLite file the parent directory is created. SQLite transactions are begun by
    SQLAlchemy rather than the ``sqlite3`` driver, so DDL and SAVEPOINTs are transactional and
    :data:`SQLITE_BEGIN_OPTION` can ask for ``BEGIN IMMEDIATE``.

    Args:
        url: A SQLAlchemy URL; ``postgresql://`` is normalised to psycopg 3.
        **kwargs: Passed to :func:`sqlalchemy.create_engine`.
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_recycle", POOL_RECYCLE_S)
        return create_engine(parsed, **kwargs)
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, **kwargs)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 driver (SQLAlchemy's documented recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _sqlite_begin(connection: Any) -> None:
    mode = str(connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "")).upper()
    if mode not in {"", "DEFERRED", "IMMEDIATE", "EXCLUSIVE"}:
        raise ValidationError(f"unknown SQLite BEGIN mode {mode!r}")
    connection.exec_driver_sql(f"BEGIN {mode}".strip())


def analyze_tables(engine: Engine) -> None:
    """Refresh the query planner's statistics after a bulk load (``ANALYZE``).

    Without them PostgreSQL plans for near-empty tables: measured on the 2,000-product demo
    world before its first ANALYZE (this machine's server runs without autovacuum), the turn's
    history query scanned every feedback row, about 100 ms per turn instead of 0.04 ms, and
    capped the load test at 15 turns/s. SQLite gets the same statement for its planner.
    """
    from assistant.store.models import Base

    # Only our tables: a bare ANALYZE on PostgreSQL would visit every schema of the database.
    tables = ", ".join(
        engine.dialect.identifier_preparer.quote(t.name) for t in Base.metadata.sorted_tables
    )
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"ANALYZE {tables}")
        else:
            connection.exec_driver_sql("ANALYZE")
    logger.info("planner statistics refreshed (ANALYZE) on %s", engine.url.get_backend_name())


def retry_when_locked(work: Callable[[], T], *, what: str, deadline_s: float = 60.0) -> T:
    """Run ``work``, one whole write transaction, again while SQLite reports "database is
    locked", until ``deadline_s`` has passed.

    SQLite has one writer at a time; a ``BEGIN IMMEDIATE`` waits for the lock only as long as
    the connection's busy timeout (5 s), and under a burst of writers (64 claims at once on
    two busy cores) some wait longer than that. The failed transaction has been rolled back,
    so running it again is safe; other errors, and every error on PostgreSQL, pass through.

    Args:
        work: Opens, runs and commits the transaction; returns its result.
        what: What it does, for the log and the error ("claiming a coupon").
        deadline_s: How long to keep trying.

    Raises:
        StoreError: still locked after ``deadline_s`` (HTTP 503 ``store_unavailable``).
    """
    deadline = time.monotonic() + deadline_s
    pause = 0.01
    while True:
        try:
            return work()
        except OperationalError as exc:
            if "database is locked" not in str(exc.orig):
                raise
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"the store stayed busy for {deadline_s:.0f} s while {what}; retry later"
                ) from exc
            logger.info("SQLite write lock busy while %s; trying again", what)
        # Jittered so that the waiters do not all come back at the same moment.
        time.sleep(random.uniform(0, pause))  # noqa: S311 - jitter, not a secret
        pause = min(pause * 2, 0.5)


def retry_on_disconnect(work: Callable[[], T], *, what: str) -> T:
    """Run ``work`` (one whole transaction, or reads) once more if the database connection it
    used turned out to be dead (a PostgreSQL restart, a terminated backend, a dropped socket).

    Without ``pool_pre_ping`` (see :func:`make_engine`) the first use of a dead pooled
    connection fails; SQLAlchemy has then invalidated the pool, so the second try runs on a
    fresh connection. The failed transaction never committed (the server had gone away), so
    running it again is safe; a work whose ``COMMIT`` itself lost the connection may have
    committed, and its second try then fails on its own primary keys rather than writing twice.

    Args:
        work: Opens, runs and (for writes) commits its own session; returns its result.
        what: What it does, for the log and the error ("storing a turn").

    Raises:
        StoreError: the second try failed too (HTTP 503 ``store_unavailable``).
    """
    try:
        return work()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        logger.warning("lost the database connection while %s; trying once more", what)
    try:
        return work()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        raise StoreError(
            f"the database connection was lost twice while {what}; check that the database "
            "is up and retry"
        ) from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
