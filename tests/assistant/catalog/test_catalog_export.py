"""Catalog export round trips, and explicit removal."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from assistant.catalog import export_file, import_file, remove_activities, remove_products
from assistant.config import Settings
from assistant.errors import UnknownEntityError
from assistant.store import load_activities, load_products, make_engine, session_factory

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "catalog"

Dump = dict[str, list[dict[str, Any]]]


def _import_examples(engine: Engine, settings: Settings) -> None:
    import_file(engine, EXAMPLES / "products.jsonl", settings, now=NOW)
    import_file(engine, EXAMPLES / "activities.jsonl", settings, now=NOW)


def _export(engine: Engine, settings: Settings, folder: Path, fmt: str) -> tuple[bytes, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    products, activities = folder / f"products.{fmt}", folder / f"activities.{fmt}"
    with session_factory(engine)() as session:
        export_file(session, products, settings)
        export_file(session, activities, settings)
    return products.read_bytes(), activities.read_bytes()


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_import_export_gives_identical_files(
    db_engine: Engine,
    settings: Settings,
    tmp_path: Path,
    sqlite_template: Path,
    fmt: str,
) -> None:
    _import_examples(db_engine, settings)
    first = _export(db_engine, settings, tmp_path / "first", fmt)
    shutil.copyfile(sqlite_template, tmp_path / "empty.db")
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        for path in ("products", "activities"):
            import_file(empty, tmp_path / "first" / f"{path}.{fmt}", settings, now=NOW)
        second = _export(empty, settings, tmp_path / "second", fmt)
    finally:
        empty.dispose()
    assert second == first
    with session_factory(db_engine)() as session:
        original = load_activities(session)
    assert [a.id for a in original][:3] == ["A1", "A10", "A2"]
    assert first[1].count(b"\n") == 10 + (fmt == "csv")


def test_removal_hides_items_and_unknown_ids_change_nothing(
    db_engine: Engine, settings: Settings, tmp_path: Path, dump: Callable[[Engine], Dump]
) -> None:
    _import_examples(db_engine, settings)
    before = dump(db_engine)
    with session_factory(db_engine)() as session:
        with pytest.raises(UnknownEntityError, match=r"unknown product id\(s\): P9"):
            remove_products(session, ["P1", "P9"], now=NOW)
        with pytest.raises(UnknownEntityError, match=r"unknown activity id\(s\): A99"):
            remove_activities(session, ["A1", "A99"], now=NOW)
        session.commit()
    assert dump(db_engine) == before
    later = NOW + timedelta(hours=1)
    with session_factory(db_engine).begin() as session:
        assert remove_products(session, ["P5"], now=later) == 1
        assert remove_activities(session, ["A2", "A9"], now=later) == 2
    with session_factory(db_engine)() as session:
        assert "A2" not in {a.id for a in load_activities(session)}
        with pytest.raises(UnknownEntityError, match="P5"):
            load_products(session, ["P5"])
    products, activities = _export(db_engine, settings, tmp_path / "out", "jsonl")
    assert b'"P5"' not in products and b'"A2"' not in activities and b'"A9"' not in activities
    # Importing a removed item again restores it.
    report = import_file(db_engine, EXAMPLES / "products.jsonl", settings, now=later)
    assert (report.products.updated, report.products.unchanged) == (1, 4)
    with session_factory(db_engine)() as session:
        assert load_products(session, ["P5"])["P5"].price == 1999
