"""Product upserts with an honest price history; loading and removal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from assistant.errors import UnknownEntityError
from assistant.store import (
    ProductData,
    ProductRecord,
    UpsertOutcome,
    load_products,
    price_history,
    remove_products,
    session_factory,
    upsert_product,
)

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
SHOE = ProductData(
    id="P1",
    title="Stride Run 2 running shoe",
    title_zh="Stride Run 2 跑鞋",
    category="shoes/running",
    brand="Stride",
    price=6000,
    currency="USD",
    stock=12,
    attributes={"color": "blue"},
)


def test_upsert_inserts_then_leaves_unchanged_then_updates(db_engine: Engine) -> None:
    with session_factory(db_engine).begin() as session:
        assert upsert_product(session, SHOE, now=NOW) is UpsertOutcome.INSERTED
    with session_factory(db_engine).begin() as session:
        later = NOW + timedelta(days=1)
        assert upsert_product(session, SHOE, now=later) is UpsertOutcome.UNCHANGED
        assert upsert_product(session, replace(SHOE, stock=3), now=later) is UpsertOutcome.UPDATED
    with session_factory(db_engine)() as session:
        record = session.get(ProductRecord, "P1")
        assert record is not None
        assert (record.stock, record.created_at, record.updated_at) == (3, NOW, later)
        assert record.attributes == {"color": "blue"}
        assert price_history(session, "P1") == [(6000, NOW, None)]


def test_price_change_appends_history(db_engine: Engine) -> None:
    t1, t2 = NOW + timedelta(days=1), NOW + timedelta(days=2)
    with session_factory(db_engine).begin() as session:
        upsert_product(session, SHOE, now=NOW)
    with session_factory(db_engine).begin() as session:
        upsert_product(session, replace(SHOE, price=4500), now=t1)
    with session_factory(db_engine).begin() as session:
        upsert_product(session, replace(SHOE, price=5000), now=t2)
        upsert_product(session, replace(SHOE, price=5000), now=t2 + timedelta(hours=1))
    with session_factory(db_engine)() as session:
        assert price_history(session, "P1") == [(6000, NOW, t1), (4500, t1, t2), (5000, t2, None)]
        assert load_products(session, ["P1"])["P1"].price == 5000


def test_timestamps_come_back_aware_utc(db_engine: Engine) -> None:
    shanghai_noon = datetime.fromisoformat("2026-11-28T20:00:00+08:00")
    with session_factory(db_engine).begin() as session:
        upsert_product(session, SHOE, now=shanghai_noon)
    with session_factory(db_engine)() as session:
        stored = session.scalars(select(ProductRecord.created_at)).one()
    assert stored.tzinfo is UTC or stored.utcoffset() == timedelta(0)
    assert stored == NOW


def test_load_products_lists_every_unknown_id(db_engine: Engine) -> None:
    with session_factory(db_engine).begin() as session:
        upsert_product(session, SHOE, now=NOW)
        products = load_products(session, ["P1"])
        assert products["P1"].title_zh == "Stride Run 2 跑鞋"
        with pytest.raises(UnknownEntityError, match=r"unknown product id\(s\): P8, P9"):
            load_products(session, ["P1", "P9", "P8"])


def test_removed_products_are_unknown_to_the_loader(db_engine: Engine) -> None:
    with session_factory(db_engine).begin() as session:
        upsert_product(session, SHOE, now=NOW)
        upsert_product(session, replace(SHOE, id="P2"), now=NOW)
    with session_factory(db_engine).begin() as session:
        with pytest.raises(UnknownEntityError, match="P404"):
            remove_products(session, ["P1", "P404"], now=NOW)
        assert remove_products(session, ["P1"], now=NOW) == 1
        assert remove_products(session, ["P1"], now=NOW) == 0
    with session_factory(db_engine)() as session:
        assert list(load_products(session, ["P2"])) == ["P2"]
        with pytest.raises(UnknownEntityError, match="P1"):
            load_products(session, ["P1"])
