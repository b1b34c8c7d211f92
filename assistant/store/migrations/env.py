"""Alembic environment for shopassist's store.

Uses the connection in ``config.attributes["connection"]`` when one is passed (what
:mod:`assistant.store.migrate` and the tests do); otherwise it connects to ``-x url=...``, the
ini file's ``sqlalchemy.url``, or ``SHOPASSIST_DATABASE_URL`` (default: the SQLite file under
``var/``). Tables and the version table go to the connection's current schema, so a PostgreSQL
``search_path`` pointing at a per-test schema keeps everything in that schema.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from assistant.store.engine import make_engine
from assistant.store.models import Base

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    url = url or config.get_main_option("sqlalchemy.url")
    if not url:
        from assistant.config import Settings

        url = Settings().sqlalchemy_url
    return url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit the SQL for ``alembic upgrade --sql`` without connecting."""
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against the passed connection, or a new engine for the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as new_connection:
            _configure(new_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
