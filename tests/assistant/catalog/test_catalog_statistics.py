"""A bulk import leaves the query planner statistics, on SQLite and PostgreSQL.

Regression: on a PostgreSQL server without autovacuum, the demo world's tables had no
statistics, and the turn's history query planned a scan of every feedback row (about 100 ms a
turn on the 2,000-product world), which capped the load test at 15 turns/s.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text

from assistant.catalog import import_file
from assistant.config import Settings

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "catalog"


def _planner_rows(engine: Engine, table: str) -> float | None:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            # reltuples is -1 until the table is analyzed (PostgreSQL 14+).
            value = connection.execute(
                text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
            ).scalar()
            return None if value is None or value < 0 else float(value)
        found = connection.execute(
            text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t LIMIT 1"), {"t": table}
        ).scalar()
        return None if found is None else float(str(found).split()[0])


def test_an_import_refreshes_the_planner_statistics(db_engine: Engine, settings: Settings) -> None:
    import_file(db_engine, EXAMPLES / "products.jsonl", settings, now=NOW)
    with db_engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM products")).scalar_one()
    assert count > 0
    assert _planner_rows(db_engine, "products") == count
