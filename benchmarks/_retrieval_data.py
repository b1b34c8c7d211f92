"""Data for ``benchmarks/retrieval.py``: the demo world and The Complete Journey as index items.

The benchmark lives outside the packages, so it may import ``assistant.world`` to generate data;
``retrieval`` itself only ever sees the resulting :class:`~retrieval.IndexItem` values.

Texts that get embedded (the same rule the benchmark reports):

* demo products: ``"{leaf en} {leaf zh}: {title} / {title_zh}"`` (the category breadcrumb's leaf
  names, then both titles);
* demo activities: ``"{title} / {title_zh}"``;
* Complete Journey products: the importer's title, brand · product category · product type ·
  package size (``assistant.world.complete_journey``), e.g. ``"National · Frzn Ice · Ice -
  Crushed/Cubed · 22 LB"``; category path ``department/product-category/product-type`` (slugs);
  list price = median unit price of its transaction lines (unsold products are unpriced).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from retrieval import (
    ActivityMeta,
    CachedEmbedder,
    EmbeddingCache,
    IndexItem,
    ProductMeta,
    UseEmbedder,
)

__all__ = [
    "DEMO_NOW",
    "CACHE_PATH",
    "World",
    "complete_journey_items",
    "demo_world",
    "embedder",
]

DEMO_NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)
"""Build time of the benchmark's demo world (fixed, so reruns hit the embedding cache)."""

CACHE_PATH = Path(os.environ.get("SHOPASSIST_BENCH_CACHE", "var/bench/retrieval-embeddings.sqlite"))
"""The benchmark's embedding cache: the first full run fills it, later runs are warm."""


@dataclass(frozen=True)
class World:
    """Index items of one generated world and the moment its activities are evaluated at."""

    products: list[IndexItem]
    activities: list[IndexItem]
    now: int


def embedder() -> CachedEmbedder:
    """USE-multilingual behind the benchmark's persistent embedding cache."""
    return CachedEmbedder(UseEmbedder(), EmbeddingCache(CACHE_PATH))


def _minor(text: str) -> int:
    units, _, cents = text.partition(".")
    return int(units) * 100 + int((cents + "00")[:2])


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def _envelope(row: Mapping[str, Any]) -> tuple[int, int | None]:
    """An activity row's validity envelope (epoch seconds): its window, or its recurrence's span."""
    if "window" in row:
        start, end = row["window"]
        return _epoch(start), _epoch(end)
    schedule = row["schedule"]
    until = schedule.get("until")
    end = None if until is None else _epoch(until) + 60 * int(schedule["duration_minutes"])
    return _epoch(schedule["starts_at"]), end


def product_item(row: Mapping[str, Any], names: Mapping[str, tuple[str, str]]) -> IndexItem:
    """A demo catalog row as an index item (text and :class:`ProductMeta`)."""
    en, zh = names[row["category"]]
    price = _minor(row["price"])
    meta = ProductMeta(row["category"], row["brand"], price, price, int(row["stock"]) > 0)
    text = f"{en} {zh}: {row['title']} / {row['title_zh']}"
    return IndexItem(row["id"], text, meta.to_metadata())


def activity_item(row: Mapping[str, Any]) -> IndexItem:
    """A demo activity row as an index item (text and :class:`ActivityMeta`)."""
    starts, ends = _envelope(row)
    scope = row["scope"]
    meta = ActivityMeta(
        type=row["type"],
        group=row["group"],
        starts=starts,
        ends=ends,
        audience=row.get("audience", "all"),
        needs_claim=row["type"] in ("coupon", "new_user"),
        scope_all=bool(scope.get("all")),
        categories=tuple(scope.get("categories", ())),
        brands=tuple(scope.get("brands", ())),
        products=tuple(scope.get("products", ())),
    )
    return IndexItem(row["id"], f"{row['title']} / {row['title_zh']}", meta.to_metadata())


def demo_world(products: int, activities: int, *, seed: int = 7) -> World:
    """The demo catalog and about ``activities`` activities over it, as index items."""
    from assistant.world import CATEGORY_NAMES, generate_activities, generate_catalog

    rows = list(generate_catalog(products=products, seed=seed))
    per_type = max(1, activities // 8)
    acts = generate_activities(rows, now=DEMO_NOW, seed=seed, per_type=per_type)
    return World(
        [product_item(r, CATEGORY_NAMES) for r in rows],
        [activity_item(a) for a in acts],
        int(DEMO_NOW.timestamp()),
    )


def complete_journey_items(limit: int | None = None) -> tuple[list[IndexItem], list[str]]:
    """The Complete Journey's products (simulated data) as index items, and query texts.

    The queries are the distinct product types, lower-cased ("frozen pizza"...): what a shopper
    of that grocery would type. They serve latency and recall-against-exact only (the dataset
    has no relevance labels).
    """
    from assistant.money import Currency
    from assistant.world._complete_journey_source import (
        default_data_dir,
        list_prices,
        read_source,
    )
    from assistant.world.complete_journey import _product_rows

    folder = default_data_dir()
    products = read_source(folder, "products")
    if limit is not None:
        products = products.head(limit)
    prices = list_prices(read_source(folder, "transactions"))
    items: list[IndexItem] = []
    for row in _product_rows(products, prices, Currency.of("USD")):
        price = _minor(row["price"]) if "price" in row else None
        meta = ProductMeta(row["category"], row["brand"], price, price, True)
        items.append(IndexItem(row["id"], row["title"], meta.to_metadata()))
    types = products["product_type"].dropna().str.strip().str.lower().drop_duplicates()
    return items, sorted(t for t in types if len(t) > 3)


def texts(items: Iterable[IndexItem]) -> list[str]:
    """The texts to embed, in order."""
    return [item.text for item in items]


DEAL_TYPES = (
    "flash_sale",
    "percent_off",
    "member_day",
    "threshold",
    "bundle",
    "coupon",
    "new_user",
    "free_shipping",
)


def generate_queries(seed: int = 7) -> list[dict[str, Any]]:
    """Templated English and Chinese queries over the demo catalog's leaves, graded.

    Eight per leaf (four English, four Chinese): the product noun, a brand with the category,
    an option with the noun, a budget ("under $P", "P元以内"), and a deal question. Grades: the
    leaf 2, its sibling leaves (same parent) 1. Deterministic for a seed.
    """
    import random

    from assistant.world.catalog import LEAVES

    rng = random.Random(f"shopassist-retrieval-queries:{seed}")
    out: list[dict[str, Any]] = []
    for leaf in LEAVES:
        parent = leaf.path.rsplit("/", 1)[0]
        relevant = {leaf.path: 2}
        relevant.update(
            {
                o.path: 1
                for o in LEAVES
                if o.path != leaf.path and o.path.rsplit("/", 1)[0] == parent
            }
        )
        name_en, name_zh = leaf.names
        noun_en = (leaf.noun[0] or name_en).lower()
        noun_zh = leaf.noun[1] or name_zh
        brand = rng.choice(leaf.brands)
        options = [o for axis in leaf.axes for o in axis.options if o.en and o.zh]
        option = rng.choice(options) if options else None
        budget = max(1, round(leaf.price.median))
        cap = {"max_price": f"{budget}.00"}
        deals = {"activity_types": list(DEAL_TYPES)}
        rows = [
            ("en", noun_en, {}),
            ("en", f"{brand.en} {name_en.lower()}", {}),
            ("en", f"{option.en.lower()} {noun_en}" if option else f"best {noun_en}", {}),
            ("en", f"{name_en.lower()} under ${budget}", cap),
            ("zh", noun_zh, {}),
            ("zh", f"{brand.zh}{name_zh}", {}),
            ("zh", f"{budget}元以内的{name_zh}", cap),
            ("zh", f"{name_zh}有什么优惠", deals),
        ]
        for lang, query, filters in rows:
            out.append(
                {
                    "id": f"gen-{len(out) + 1:03d}",
                    "query": query,
                    "lang": lang,
                    "freeform": False,
                    "relevant": relevant,
                    "filters": filters,
                }
            )
    return out


def activity_grades(world: World) -> dict[str, set[str]]:
    """Each activity's covered leaf categories (for grading activities by their best leaf)."""
    leaves = {item.metadata["category"] for item in world.products}
    by_brand: dict[str, set[str]] = {}
    leaf_of: dict[str, str] = {}
    for item in world.products:
        by_brand.setdefault(str(item.metadata["brand"]), set()).add(str(item.metadata["category"]))
        leaf_of[item.id] = str(item.metadata["category"])
    out: dict[str, set[str]] = {}
    for item in world.activities:
        meta = item.metadata
        covered = {str(c) for c in leaves}
        if not meta.get("scope_all"):
            cats = tuple(meta.get("scope_categories", ()))
            if cats:
                covered = {c for c in covered if any(c == s or c.startswith(s + "/") for s in cats)}
            brands = tuple(meta.get("scope_brands", ()))
            if brands:
                covered &= set().union(*(by_brand.get(b, set()) for b in brands))
            ids = tuple(meta.get("scope_products", ()))
            if ids:
                covered &= {leaf_of[i] for i in ids if i in leaf_of}
        out[item.id] = covered
    return out
