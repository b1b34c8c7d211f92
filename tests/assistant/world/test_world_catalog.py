"""The demo catalog: bilingual rows in the importer's format, plausible prices, determinism."""

from __future__ import annotations

import math
import re
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from assistant.catalog import validate_file, write_rows
from assistant.config import Settings
from assistant.errors import ValidationError
from assistant.world import CATEGORY_NAMES, LEAF_CATEGORIES, generate_catalog
from assistant.world.catalog import MAX_PRODUCTS, allocate, leaf_of
from tests.assistant.world.required_leaves import REQUIRED

CJK = re.compile(r"[\u4e00-\u9fff]")

# Written by hand from what such goods cost in a mid-range shop (USD): every price must lie in
# (low, high) and the leaf's median in (median_low, median_high).
PLAUSIBLE: dict[str, tuple[float, float, float, float]] = {
    "shoes/running": (35, 250, 60, 150),
    "shoes/trail-running": (45, 260, 80, 170),
    "shoes/casual": (20, 200, 40, 120),
    "apparel/jackets/down": (40, 1300, 100, 400),
    "apparel/jackets/rain": (25, 700, 60, 200),
    "apparel/socks": (2, 30, 5, 20),
    "beauty/skincare": (4, 450, 12, 80),
    "beauty/makeup": (3, 90, 8, 45),
    "beauty/shavers-razors": (3, 400, 10, 120),
    "electronics/headphones": (10, 600, 40, 250),
    "electronics/phones": (100, 2000, 400, 1300),
    "electronics/phone-cases": (4, 80, 10, 45),
    "electronics/laptops": (300, 3000, 600, 1600),
    "electronics/laptop-bags": (10, 350, 25, 110),
    "home/cookware": (10, 500, 30, 150),
    "home/kitchen-knives": (6, 450, 20, 120),
    "home/coffee-makers": (10, 1300, 40, 250),
    "grocery/snacks": (0.5, 25, 2, 12),
    "grocery/coffee-tea": (2, 70, 6, 35),
    "grocery/beverages": (0.5, 45, 2, 15),
    "baby/diapers": (8, 90, 20, 60),
    "baby/care": (2, 50, 6, 30),
    "toys/ages-3-10": (4, 250, 12, 60),
    "sports/yoga-mats": (8, 180, 20, 90),
    "outdoor/picnic-camping": (5, 500, 20, 120),
    "gifts/gift-sets": (8, 300, 20, 90),
}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    """The default catalog: 5,000 products, seed 7."""
    return list(generate_catalog())


@pytest.fixture(scope="module")
def by_leaf(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["category"]].append(row)
    return grouped


def test_default_catalog_has_5000_unique_products(rows: list[dict[str, Any]]) -> None:
    assert len(rows) == 5000
    assert len({row["id"] for row in rows}) == 5000
    assert set(REQUIRED) <= set(LEAF_CATEGORIES)


@pytest.mark.parametrize("leaf", REQUIRED)
def test_every_required_leaf_has_30_bilingual_products(
    leaf: str, by_leaf: dict[str, list[dict[str, Any]]]
) -> None:
    products = by_leaf[leaf]
    assert len(products) >= 30
    for row in products:
        assert row["title"] and row["description"], row["id"]
        assert not CJK.search(row["title"] + row["description"]), row["id"]
        assert CJK.search(row["title_zh"]) and CJK.search(row["description_zh"]), row["id"]
        assert row["brand"] and row["brand"] in row["title"]
    # Varied text: most titles differ, and descriptions draw different sentences.
    assert len({row["title"] for row in products}) >= 0.4 * len(products)
    assert len({row["description"] for row in products}) >= 0.5 * len(products)
    assert len({row["brand"] for row in products}) >= 5


def test_chinese_reads_like_chinese(by_leaf: dict[str, list[dict[str, Any]]]) -> None:
    running = by_leaf["shoes/running"]
    assert any(row["title_zh"].startswith("耐克 Pegasus 41 ") for row in running)
    assert all("跑步鞋" in row["title_zh"] for row in running)
    assert all("，" in row["description_zh"] and "。" in row["description_zh"] for row in running)
    assert all("袜" in row["title_zh"] for row in by_leaf["apparel/socks"])


@pytest.mark.parametrize("leaf", REQUIRED)
def test_prices_are_positive_plausible_and_spread(
    leaf: str, by_leaf: dict[str, list[dict[str, Any]]]
) -> None:
    low, high, median_low, median_high = PLAUSIBLE[leaf]
    prices = [float(row["price"]) for row in by_leaf[leaf]]
    assert all(low < price < high for price in prices), (min(prices), max(prices))
    assert median_low < statistics.median(prices) < median_high
    assert statistics.pstdev(math.log(price) for price in prices) > 0.2  # a log-normal spread


def test_rows_are_in_the_importers_format(
    rows: list[dict[str, Any]], tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "products.jsonl"
    assert write_rows(path, "products", rows) == 5000
    assert validate_file(path, settings) == 5000
    first = rows[0]
    assert first["url"] == f"https://shop.example/p/{first['id']}"
    assert first["image_url"] == f"https://shop.example/img/{first['id']}.jpg"
    assert first["currency"] == "USD"
    assert all(isinstance(row["stock"], int) and row["stock"] >= 0 for row in rows)
    assert all(row["attributes"] for row in rows)
    assert 0 < sum(row["stock"] == 0 for row in rows) < 0.1 * len(rows)


def test_attributes_carry_sizes_colors_materials_and_ages(
    by_leaf: dict[str, list[dict[str, Any]]],
) -> None:
    assert {"gender", "color"} <= set(by_leaf["shoes/running"][0]["attributes"])
    assert {"material", "pack"} <= set(by_leaf["apparel/socks"][0]["attributes"])
    ages = {row["attributes"]["age_range"] for row in by_leaf["toys/ages-3-10"]}
    assert ages == {"3-5", "5-8", "6-10", "8-10"}


def test_category_names_are_bilingual_for_every_path() -> None:
    for leaf in LEAF_CATEGORIES:
        parts = leaf.split("/")
        for depth in range(1, len(parts) + 1):
            en, zh = CATEGORY_NAMES["/".join(parts[:depth])]
            assert en and not CJK.search(en)
            assert CJK.search(zh)
    assert CATEGORY_NAMES["shoes/running"] == ("Running shoes", "跑鞋")
    assert CATEGORY_NAMES["apparel/jackets/down"] == ("Down jackets", "羽绒服")


def test_same_seed_same_rows_other_seed_other_rows() -> None:
    first = list(generate_catalog(products=300, seed=11))
    assert first == list(generate_catalog(products=300, seed=11))
    other = list(generate_catalog(products=300, seed=12))
    assert [r["id"] for r in other] == [r["id"] for r in first]
    assert [r["title"] for r in other] != [r["title"] for r in first]


def test_small_and_filtered_catalogs() -> None:
    assert len(list(generate_catalog(products=1))) == 1
    assert allocate(10, [leaf_of(path) for path in LEAF_CATEGORIES]).count(1) == 10
    picked = list(generate_catalog(products=50, categories=["apparel/socks", "grocery/snacks/"]))
    assert len(picked) == 50
    assert {row["category"] for row in picked} == {"apparel/socks", "grocery/snacks"}


@pytest.mark.slow
def test_100k_products_generate_fast() -> None:
    started = time.perf_counter()
    count = sum(1 for _ in generate_catalog(products=100_000, seed=1))
    elapsed = time.perf_counter() - started
    assert count == 100_000
    assert elapsed < 40, f"100,000 products took {elapsed:.1f} s"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"products": 0}, "products must be between 1 and"),
        ({"products": -5}, "products must be between 1 and"),
        ({"products": MAX_PRODUCTS + 1}, "products must be between 1 and"),
        ({"products": 2.5}, "products must be a whole number"),
        ({"products": True}, "products must be a whole number"),
        ({"categories": ["shoes/skates"]}, "unknown demo category 'shoes/skates'; use one of"),
        ({"categories": ["shoes"]}, "unknown demo category 'shoes'"),
        ({"categories": []}, "categories must be a non-empty list"),
        ({"categories": "shoes/running"}, "categories must be a non-empty list"),
        ({"currency": "XYZ"}, "unknown currency"),
    ],
)
def test_bad_options_raise_clear_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        generate_catalog(**options)
