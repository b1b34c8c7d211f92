"""Catalog import: JSONL and CSV, every bad row reported with nothing written, idempotence."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from assistant.catalog import detect_format, detect_kind, import_file
from assistant.config import Settings
from assistant.errors import CatalogImportError, RowError, ValidationError
from assistant.store import (
    OccurrenceRecord,
    load_activities,
    load_products,
    price_history,
    session_factory,
)

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "catalog"
LIVE = ["2026-01-01T00:00:00Z", "2031-01-01T00:00:00Z"]

Dump = dict[str, list[dict[str, Any]]]


def _jsonl(path: Path, rows: list[dict[str, Any] | str]) -> Path:
    lines = [row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _import_examples(engine: Engine, settings: Settings) -> None:
    import_file(engine, EXAMPLES / "products.jsonl", settings, now=NOW)
    import_file(engine, EXAMPLES / "activities.jsonl", settings, now=NOW)


def test_example_catalog_imports_from_jsonl(db_engine: Engine, settings: Settings) -> None:
    products = import_file(db_engine, EXAMPLES / "products.jsonl", settings, now=NOW)
    activities = import_file(db_engine, EXAMPLES / "activities.jsonl", settings, now=NOW)
    assert (products.kind, products.rows, products.products.inserted) == ("products", 5, 5)
    assert (activities.activities.inserted, activities.activities.new_revisions) == (10, 0)
    with session_factory(db_engine)() as session:
        loaded = load_products(session, ["P1", "P5"])
        assert (loaded["P5"].price, loaded["P1"].title_zh) == (1999, "Stride Run 2 跑鞋")
        by_id = {a.id: a for a in load_activities(session)}
        assert by_id["A2"].schedule.rrule == "FREQ=DAILY"
        assert by_id["A2"].schedule.window_at(NOW.replace(hour=21)) is not None
        assert by_id["A8"].schedule.is_over(NOW)
        starts = session.scalars(
            select(OccurrenceRecord.starts_at).where(OccurrenceRecord.activity_id == "A2")
        ).all()
    assert len(starts) == 14  # a daily 20:00 flash sale over the 14-day horizon


def test_csv_imports_the_same_catalog_as_jsonl(
    db_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    csv_file = tmp_path / "activities-spring.csv"
    csv_file.write_text(
        "id,type,scope,percent,amount,min_spend,tiers,window,schedule,audience\n"
        'T1,threshold,"{""all"": true}",,,,"[[""50.00"", ""5.00""]]",'
        '"[""2026-01-01T00:00:00Z"", ""2031-01-01T00:00:00Z""]",,\n'
        'F1,flash_sale,"{""products"": [""P1""]}",30,,,,,'
        '"{""starts_at"": ""2026-01-01T20:00:00Z"", ""rrule"": ""FREQ=DAILY"", '
        '""duration_minutes"": 180}",\n'
        'C1,coupon,"{""brands"": [""Stride""]}",,10.00,80.00,,'
        '"[""2026-01-01T00:00:00Z"", ""2031-01-01T00:00:00Z""]",,members\n',
        encoding="utf-8",
    )
    jsonl_file = _jsonl(
        tmp_path / "activities-spring.jsonl",
        [
            {"id": "T1", "type": "threshold", "scope": {"all": True}, "tiers": [["50", "5"]],
             "window": LIVE},
            {"id": "F1", "type": "flash_sale", "scope": {"products": ["P1"]}, "percent": 30,
             "schedule": {"starts_at": "2026-01-01T20:00:00+00:00", "rrule": "FREQ=DAILY",
                          "duration_minutes": 180}},
            {"id": "C1", "type": "coupon", "scope": {"brands": ["Stride"]}, "amount": "10",
             "min_spend": "80.00", "audience": "members", "window": LIVE},
        ],
    )  # fmt: skip
    report = import_file(db_engine, csv_file, settings, now=NOW)
    assert (report.kind, report.activities.inserted) == ("activities", 3)
    with session_factory(db_engine)() as session:
        from_csv = load_activities(session)
    assert [(a.id, a.audience.kind) for a in from_csv] == [
        ("C1", "members"),
        ("F1", "all"),
        ("T1", "all"),
    ]
    again = import_file(db_engine, jsonl_file, settings, now=NOW)
    assert (again.activities.unchanged, again.activities.new_revisions) == (3, 0)


BAD_PRODUCTS: list[dict[str, Any] | str] = [
    {"id": "P1", "title": "Shoe", "category": "shoes", "brand": "Stride", "price": "70.00"},
    {"id": "P2", "title": "Socks", "category": "apparel/socks", "brand": "Stride", "price": "-3"},
    {"id": "P3", "title": "Serum", "category": "beauty", "brand": "Lumi", "price": "35.00",
     "currency": "EUR"},
    {"id": "P4", "title": "Phones", "category": "tech", "brand": "Sonic", "price": "120.00",
     "currency": "XYZ"},
    '{"id": "P5", "title": "Balm", "price": "19.99",',
    "",
    {"id": "P1", "title": "Shoe again", "category": "shoes", "brand": "Stride", "price": "61.00"},
    {"id": "P6", "title": "Float", "category": "shoes", "brand": "Stride", "price": 19.99},
    {"id": "P7", "title": "Cents", "category": "shoes", "brand": "Stride", "price": "1.999"},
    {"id": "P8", "title": "Fine", "category": "shoes", "brand": "Stride", "price": "9.00"},
]  # fmt: skip
BAD_PRODUCT_LINES = {
    2: "price: amount '-3' is negative",
    3: "currency: EUR is not the shop currency USD; shopassist converts nothing",
    4: "currency: unknown currency 'XYZ'; use an ISO 4217 code such as USD",
    5: "not valid JSON: Expecting property name enclosed in double quotes (column 48)",
    7: "duplicate id 'P1' (first on line 1)",
    8: 'price: amount 19.99 must be a decimal string such as "19.99", not a float',
    9: "price: amount '1.999' has more than 2 decimals for USD",
}

BAD_ACTIVITIES: list[dict[str, Any] | str] = [
    {"id": "A1", "type": "percent_off", "scope": {"all": True}, "percent": 25, "window": LIVE},
    {"id": "A2", "type": "bogo", "scope": {"all": True}, "window": LIVE},
    {"id": "A3", "type": "percent_off", "scope": {"all": True}, "percent": 10,
     "window": ["2031-01-01T00:00:00Z", "2026-01-01T00:00:00Z"]},
    {"id": "A4", "type": "coupon", "scope": {"all": True}, "window": LIVE},
    {"id": "A1", "type": "percent_off", "scope": {"all": True}, "percent": 5, "window": LIVE},
    "not json at all",
    {"id": "A6", "type": "flash_sale", "scope": {"all": True}, "percent": 30,
     "schedule": {"starts_at": "2026-01-01T20:00:00Z", "rrule": "FREQ=SOMETIMES",
                  "duration_minutes": 180}},
    {"id": "A7", "type": "threshold", "scope": {"all": True}, "tiers": [["50.00", "5.001"]],
     "window": LIVE},
]  # fmt: skip
BAD_ACTIVITY_LINES = {
    2: "type: unknown activity type 'bogo'; use one of 'flash_sale', 'percent_off'",
    3: "end 2026-01-01T00:00:00+00:00 is before start 2031-01-01T00:00:00+00:00",
    4: "activity A4: coupon needs exactly one of amount or percent",
    5: "duplicate id 'A1' (first on line 1)",
    6: "not valid JSON: Expecting value (column 1)",
    7: "bad RRULE 'FREQ=SOMETIMES'",
    8: "tiers.1: amount '5.001' has more than 2 decimals for USD",
}


@pytest.mark.parametrize(
    ("name", "rows", "expected"),
    [
        ("products-bad.jsonl", BAD_PRODUCTS, BAD_PRODUCT_LINES),
        ("activities-bad.jsonl", BAD_ACTIVITIES, BAD_ACTIVITY_LINES),
    ],
)
def test_every_bad_row_is_reported_and_nothing_is_written(
    db_engine: Engine,
    settings: Settings,
    tmp_path: Path,
    dump: Callable[[Engine], Dump],
    name: str,
    rows: list[dict[str, Any] | str],
    expected: dict[int, str],
) -> None:
    _import_examples(db_engine, settings)
    before = dump(db_engine)
    path = _jsonl(tmp_path / name, rows)
    with pytest.raises(
        CatalogImportError, match=rf"{len(expected)} bad row\(s\), nothing imported"
    ) as caught:
        import_file(db_engine, path, settings, now=NOW + timedelta(days=1))
    errors = caught.value.errors
    assert [e.line for e in errors] == sorted(expected)
    for error in errors:
        assert error.reason.startswith(expected[error.line]), error
    assert f"line {min(expected)}: {expected[min(expected)]}" in str(caught.value)
    assert dump(db_engine) == before


def test_csv_line_numbers_count_the_header(
    db_engine: Engine, settings: Settings, tmp_path: Path, dump: Callable[[Engine], Dump]
) -> None:
    path = tmp_path / "products.csv"
    path.write_text(
        "id,title,category,brand,price,stock,attributes\n"
        "P1,Shoe,shoes,Stride,60.00,3,\n"
        "P2,Socks,apparel,Stride,10.00,-1,\n"
        'P3,Serum,beauty,Lumi,35.00,,"{""size"": 30"\n'
        "P1,Shoe,shoes,Stride,60.00,,\n",
        encoding="utf-8",
    )
    before = dump(db_engine)
    with pytest.raises(CatalogImportError, match="line 3: stock: Input should be greater") as e:
        import_file(db_engine, path, settings, now=NOW)
    assert e.value.errors == (
        RowError(3, "stock: Input should be greater than or equal to 0"),
        RowError(4, "attributes: not valid JSON: Expecting ',' delimiter"),
        RowError(5, "duplicate id 'P1' (first on line 2)"),
    )
    assert dump(db_engine) == before


def test_amounts_beyond_the_decimal_context_are_bad_rows(
    db_engine: Engine, settings: Settings, tmp_path: Path, dump: Callable[[Engine], Dump]
) -> None:
    # Regression: "1e999999999" raised decimal.Overflow out of the importer (a traceback, no
    # line number) and 30 nines were silently rounded to 10**30.
    csv_path = tmp_path / "products.csv"
    csv_path.write_text(
        "id,title,category,brand,price\n"
        "P1,Shoe,shoes,Stride,60.00\n"
        "P2,Socks,apparel,Stride,1e999999999\n"
        "P3,Serum,beauty,Lumi,Infinity\n"
        f"P4,Cable,tech,Sonic,{'9' * 30}\n"
        "P5,Balm,beauty,Lumi,NaN\n",
        encoding="utf-8",
    )
    activities = _jsonl(
        tmp_path / "activities.jsonl",
        [
            {"id": "T1", "type": "threshold", "scope": {"all": True},
             "tiers": [["1e999999999", "5.00"]], "window": LIVE},
            {"id": "C1", "type": "coupon", "scope": {"all": True}, "amount": "5.00",
             "budget": "1e-999999999", "window": LIVE},
        ],
    )  # fmt: skip
    before = dump(db_engine)
    with pytest.raises(CatalogImportError) as products:
        import_file(db_engine, csv_path, settings, now=NOW)
    assert products.value.errors == (
        RowError(3, "price: amount '1e999999999' is too large; the most is 9999999999999.99 USD"),
        RowError(4, "price: amount 'Infinity' is not a finite number"),
        RowError(5, f"price: amount '{'9' * 30}' is too large; the most is 9999999999999.99 USD"),
        RowError(6, "price: amount 'NaN' is not a finite number"),
    )
    with pytest.raises(CatalogImportError) as caught:
        import_file(db_engine, activities, settings, now=NOW)
    assert caught.value.errors == (
        RowError(1, "tiers.1: amount '1e999999999' is too large; the most is 9999999999999.99 USD"),
        RowError(2, "budget: amount '1e-999999999' has more than 2 decimals for USD"),
    )
    assert dump(db_engine) == before


def test_csv_with_unknown_columns_is_refused_at_the_header(
    db_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "products.csv"
    path.write_text("id,title,colour\nP1,Shoe,red\n", encoding="utf-8")
    with pytest.raises(
        CatalogImportError, match=r"line 1: unknown column\(s\) colour for products"
    ):
        import_file(db_engine, path, settings, now=NOW)


def test_reimport_is_idempotent(
    db_engine: Engine, settings: Settings, dump: Callable[[Engine], Dump]
) -> None:
    _import_examples(db_engine, settings)
    before = dump(db_engine)
    later = NOW + timedelta(minutes=5)
    products = import_file(db_engine, EXAMPLES / "products.jsonl", settings, now=later)
    activities = import_file(db_engine, EXAMPLES / "activities.jsonl", settings, now=later)
    assert (products.products.unchanged, products.products.updated) == (5, 0)
    assert (activities.activities.unchanged, activities.activities.new_revisions) == (10, 0)
    assert activities.occurrence_changes == 0
    assert dump(db_engine) == before


def test_changed_rows_make_revisions_and_price_history(
    db_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    _import_examples(db_engine, settings)
    products = [json.loads(line) for line in (EXAMPLES / "products.jsonl").read_text().splitlines()]
    products[0]["price"] = "55.00"
    products[1]["stock"] = 7
    activities = [
        json.loads(line) for line in (EXAMPLES / "activities.jsonl").read_text().splitlines()
    ]
    activities[0]["percent"] = 25
    later = NOW + timedelta(days=1)
    p_report = import_file(db_engine, _jsonl(tmp_path / "products.jsonl", products), settings,
                           now=later)  # fmt: skip
    a_report = import_file(
        db_engine, _jsonl(tmp_path / "activities.jsonl", activities), settings, now=later
    )
    assert (p_report.products.updated, p_report.products.unchanged) == (2, 3)
    assert (a_report.activities.updated, a_report.activities.new_revisions) == (1, 1)
    with session_factory(db_engine)() as session:
        assert price_history(session, "P1") == [(6000, NOW, later), (5500, later, None)]
        assert price_history(session, "P2") == [(1000, NOW, None)]
        a1 = next(a for a in load_activities(session) if a.id == "A1")
        assert (a1.revision, a1.percent) == (2, 25)


def test_kind_and_format_come_from_the_file_name() -> None:
    assert detect_kind("data/products-2026.csv") == "products"
    assert detect_kind("Activities.jsonl") == "activities"
    assert detect_format("x.NDJSON") == "jsonl"
    with pytest.raises(
        ValidationError, match="cannot tell whether it holds products or activities"
    ):
        detect_kind("catalog.jsonl")
    with pytest.raises(ValidationError, match="unknown catalog format '.xlsx'; use .jsonl or .csv"):
        detect_format("products.xlsx")


def test_explicit_kind_and_missing_file(
    db_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    path = _jsonl(tmp_path / "spring.jsonl", [BAD_PRODUCTS[0]])
    report = import_file(db_engine, path, settings, kind="products", now=NOW)
    assert report.products.inserted == 1
    with pytest.raises(ValidationError, match="no such catalog file"):
        import_file(db_engine, tmp_path / "products-missing.jsonl", settings)
