"""Demo activities: every type in quantity, importable, bilingual, recurring in shop time."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assistant.catalog import ActivityRow, validate_file, write_rows
from assistant.config import Settings
from assistant.domain import ActivityType, Audience
from assistant.errors import ValidationError
from assistant.money import Currency
from assistant.world import generate_activities, generate_catalog
from assistant.world.activities import FLASH_SLOTS

BUILD = datetime(2030, 3, 14, 9, 30, tzinfo=UTC)
CJK = re.compile(r"[\u4e00-\u9fff]")
USD = Currency.of("USD")


@pytest.fixture(scope="module")
def products() -> list[dict[str, Any]]:
    return list(generate_catalog())


@pytest.fixture(scope="module")
def rows(products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The default demo activities, built at BUILD."""
    return generate_activities(products, now=BUILD)


def _of(rows: list[dict[str, Any]], kind: ActivityType) -> list[dict[str, Any]]:
    return [row for row in rows if row["type"] == kind.value]


def test_at_least_400_of_every_type(rows: list[dict[str, Any]]) -> None:
    counts = Counter(row["type"] for row in rows)
    assert set(counts) == {kind.value for kind in ActivityType}
    assert min(counts.values()) >= 400
    assert len(rows) >= 3200
    assert len({row["id"] for row in rows}) == len(rows)


def test_rows_import_cleanly(
    rows: list[dict[str, Any]], tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "activities.jsonl"
    write_rows(path, "activities", rows)
    assert validate_file(path, settings) == len(rows)  # domain rules included (caps, tiers)
    assert all(row["status"] == "active" for row in rows)


def test_titles_and_terms_are_bilingual(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        assert row["title"] and not CJK.search(row["title"]), row["id"]
        assert CJK.search(row["title_zh"]), row["id"]
        english, chinese = row["terms"].split("\n")
        assert english.endswith(".") and not CJK.search(english), row["id"]
        assert CJK.search(chinese) and chinese.endswith("。"), row["id"]
    titles = {(row["title"], row["title_zh"]) for row in rows}
    assert ("Running shoes: spend $100, save $15", "跑鞋满100减15") in titles or any(
        en.startswith("Running shoes: spend $") and zh.startswith("跑鞋满") for en, zh in titles
    )
    assert any(zh.endswith("折") and "限时秒杀" in zh for _, zh in titles)


def test_audiences(rows: list[dict[str, Any]]) -> None:
    assert {row["audience"] for row in _of(rows, ActivityType.MEMBER_DAY)} == {"members"}
    assert {row["audience"] for row in _of(rows, ActivityType.NEW_USER)} == {"new_users"}
    audiences = Counter(Audience.parse(row["audience"]).kind for row in rows)
    assert audiences["all"] > len(rows) / 2
    assert audiences["segment"] >= 20
    segments = {row["audience"] for row in rows if row["audience"].startswith("segment:")}
    assert {"segment:students", "segment:parents", "segment:runners"} <= segments


def test_coupons_carry_budgets_limits_and_caps(rows: list[dict[str, Any]]) -> None:
    for row in _of(rows, ActivityType.COUPON) + _of(rows, ActivityType.NEW_USER):
        assert USD.parse(row["budget"]) > 0 and row["per_user_limit"] >= 1, row["id"]
        if "percent" in row:
            assert USD.parse(row["max_discount"]) > 0, row["id"]
        else:
            assert USD.parse(row["amount"]) > 0, row["id"]
        if "min_spend" in row and "amount" in row:
            assert USD.parse(row["amount"]) < USD.parse(row["min_spend"]), row["id"]
    assert all(row["per_user_limit"] == 1 for row in _of(rows, ActivityType.NEW_USER))


def test_flash_sales_recur_daily_with_quantity_limits(rows: list[dict[str, Any]]) -> None:
    flash = _of(rows, ActivityType.FLASH_SALE)
    rules = Counter(row["schedule"]["rrule"] for row in flash)
    assert rules["FREQ=DAILY"] > 0.7 * len(flash)
    assert rules["FREQ=WEEKLY;BYDAY=SA,SU"] > 0
    hours = Counter(datetime.fromisoformat(row["schedule"]["starts_at"]).hour for row in flash)
    assert set(FLASH_SLOTS) <= set(hours) and len(hours) >= 8
    for row in flash:
        assert 60 <= row["schedule"]["duration_minutes"] <= 180
        assert row["quantity_limit"] >= 1 and 20 <= row["percent"] <= 50
        until = datetime.fromisoformat(row["schedule"]["until"])
        assert until > BUILD + timedelta(days=14)


def test_member_days_weekly_thresholds_monthly(rows: list[dict[str, Any]]) -> None:
    member = Counter(
        row["schedule"]["rrule"].split(";")[0] for row in _of(rows, ActivityType.MEMBER_DAY)
    )
    assert member["FREQ=WEEKLY"] > member["FREQ=MONTHLY"] > 0
    assert all(
        row["schedule"]["duration_minutes"] == 1440 for row in _of(rows, ActivityType.MEMBER_DAY)
    )
    thresholds = _of(rows, ActivityType.THRESHOLD)
    monthly = [row for row in thresholds if "schedule" in row]
    assert len(monthly) >= 100
    assert all(row["schedule"]["rrule"].startswith("FREQ=MONTHLY;BYMONTHDAY=") for row in monthly)
    for row in thresholds:
        tiers = [(USD.parse(t), USD.parse(d)) for t, d in row["tiers"]]
        assert [t for t, _ in tiers] == sorted({t for t, _ in tiers})
        assert [d for _, d in tiers] == sorted({d for _, d in tiers})


def test_long_running_windows_of_weeks_to_months(rows: list[dict[str, Any]]) -> None:
    for kind in (ActivityType.PERCENT_OFF, ActivityType.COUPON, ActivityType.FREE_SHIPPING):
        lengths = []
        for row in _of(rows, kind):
            start, end = (datetime.fromisoformat(text) for text in row["window"])
            lengths.append(end - start)
        assert min(lengths) >= timedelta(days=7)
        assert max(lengths) >= timedelta(days=90)
        assert sum(length >= timedelta(days=21) for length in lengths) > 0.7 * len(lengths)


def test_scopes_cover_categories_brands_and_product_ids(rows: list[dict[str, Any]]) -> None:
    scopes = [ActivityRow.model_validate(row).scope.to_domain() for row in rows]
    assert sum(scope.all for scope in scopes) >= 50
    assert sum(bool(scope.products) for scope in scopes) >= 300
    assert sum(bool(scope.brands) and not scope.categories for scope in scopes) >= 50
    assert sum(bool(scope.brands) and bool(scope.categories) for scope in scopes) >= 200
    assert sum(len(scope.categories) == 2 for scope in scopes) >= 20


def test_schedules_are_written_in_shop_time(products: list[dict[str, Any]]) -> None:
    shanghai = generate_activities(products[:400], now=BUILD, per_type=20, tz="Asia/Shanghai")
    starts = [row["schedule"]["starts_at"] for row in shanghai if row["type"] == "flash_sale"]
    assert all(text.endswith("+08:00") for text in starts)
    assert {datetime.fromisoformat(text).hour for text in starts} >= set(FLASH_SLOTS)


def test_same_inputs_same_rows(products: list[dict[str, Any]]) -> None:
    small = products[:600]
    first = generate_activities(small, now=BUILD, seed=3, per_type=60)
    assert first == generate_activities(small, now=BUILD, seed=3, per_type=60)
    assert first != generate_activities(small, now=BUILD, seed=4, per_type=60)
    later_that_day = BUILD + timedelta(hours=10)  # anchored at the shop day, not the minute
    assert first == generate_activities(small, now=later_that_day, seed=3, per_type=60)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"per_type": 0}, "per_type must be a whole number of at least 1"),
        ({"per_type": 2.0}, "per_type must be a whole number of at least 1"),
        ({"now": datetime(2030, 1, 1)}, "has no time zone"),
        ({"tz": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"currency": "ABC"}, "unknown currency"),
    ],
)
def test_bad_options_raise_clear_errors(
    products: list[dict[str, Any]], options: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"now": BUILD, **options}
    with pytest.raises(ValidationError, match=re.escape(message)):
        generate_activities(products[:50], **arguments)


def test_products_outside_the_demo_leaves_are_refused() -> None:
    foreign = [{"id": "X1", "category": "cars/tyres", "brand": "Acme", "price": "80.00"}]
    with pytest.raises(ValidationError, match="no product is in a demo leaf category"):
        generate_activities(foreign, now=BUILD)
