"""Unpriced products and coupons of unknown value: import, export, price history, pricing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from assistant.app import Shop
from assistant.catalog import ProductRow, export_file, import_file
from assistant.config import Settings
from assistant.errors import CartError, ValidationError
from assistant.money import Currency
from assistant.store import (
    ProductRecord,
    load_activities,
    load_products,
    price_history,
    session_factory,
)

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
LIVE = ["2026-01-01T00:00:00Z", "2031-01-01T00:00:00Z"]
BEAN = {"id": "B1", "title": "Coffee beans", "category": "food/coffee", "brand": "Roast"}
COUPON = {
    "id": "C1",
    "type": "coupon",
    "scope": {"products": ["B1", "B2"]},
    "value_known": False,
    "window": LIVE,
}


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_unpriced_products_and_unknown_coupons_round_trip(
    db_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    products = _jsonl(tmp_path / "products.jsonl", [BEAN, {**BEAN, "id": "B2", "price": "7.50"}])
    activities = _jsonl(tmp_path / "activities.jsonl", [COUPON])
    import_file(db_engine, products, settings, now=NOW)
    import_file(db_engine, activities, settings, now=NOW)
    with session_factory(db_engine)() as session:
        stored = session.get(ProductRecord, "B1")
        assert stored is not None and stored.price is None
        assert price_history(session, "B1") == []
        (coupon,) = load_activities(session)
        assert (coupon.value_known, coupon.amount, coupon.percent) == (False, None, None)
        for name in ("products.jsonl", "activities.jsonl", "products.csv", "activities.csv"):
            export_file(session, tmp_path / "out" / name, settings)
    exported = [json.loads(line) for line in (tmp_path / "out" / "products.jsonl").open()]
    assert "price" not in exported[0] and exported[1]["price"] == "7.50"
    (row,) = [json.loads(line) for line in (tmp_path / "out" / "activities.jsonl").open()]
    assert row["value_known"] is False
    for name in ("products.jsonl", "activities.jsonl", "products.csv", "activities.csv"):
        again = import_file(db_engine, tmp_path / "out" / name, settings, now=NOW)
        assert (again.counts.inserted, again.counts.updated) == (0, 0)


def test_an_unpriced_product_cannot_be_priced(
    db_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    import_file(db_engine, _jsonl(tmp_path / "products.jsonl", [BEAN]), settings, now=NOW)
    message = r"product\(s\) B1 have no price; they cannot be priced or sold"
    with session_factory(db_engine)() as session, pytest.raises(CartError, match=message):
        load_products(session, ["B1"])
    with pytest.raises(CartError, match=message):
        Shop(settings, db_engine).quote("U1", [("B1", 1)], now=NOW)
    with pytest.raises(ValidationError, match="product B1 has no price"):
        ProductRow.model_validate(BEAN).to_domain(Currency.of("USD"))


def test_price_history_skips_the_time_without_a_price(
    db_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "products.jsonl"
    t1, t2 = NOW + timedelta(days=1), NOW + timedelta(days=2)
    import_file(db_engine, _jsonl(path, [BEAN]), settings, now=NOW)
    import_file(db_engine, _jsonl(path, [{**BEAN, "price": "5.00"}]), settings, now=t1)
    import_file(db_engine, _jsonl(path, [BEAN]), settings, now=t2)
    with session_factory(db_engine)() as session:
        assert price_history(session, "B1") == [(500, t1, t2)]
        record = session.get(ProductRecord, "B1")
        assert record is not None and record.price is None
