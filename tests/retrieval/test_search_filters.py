"""Hard filters: nothing returned ever breaks one, and exact search equals brute force.

A random catalog (duplicate vectors, unpriced and out-of-stock products, every scope shape) and
random filters are checked against a plain-Python reference of the filter and scope rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrieval import ActivityMeta, Filters, IndexItem, ProductMeta, SearchIndex

CATEGORIES = ("a/x", "a/y", "a/y/z", "b", "b/x", "c/q")
KNOWN = ("a", "a/x", "a/y", "a/y/z", "b", "b/x", "c", "c/q")
BRANDS = ("p", "q", "r", "")
TYPES = ("coupon", "flash_sale", "threshold")
AUDIENCES = ("all", "members", "new_users", "segment:vip")
NOW = 1_000_000
DIM = 8


@dataclass
class Catalog:
    products: list[IndexItem]
    activities: list[IndexItem]
    vectors: np.ndarray
    activity_vectors: np.ndarray


def make_catalog(seed: int, n: int = 120, m: int = 40) -> Catalog:
    """Random products and activities; vectors drawn from a small pool so many repeat."""
    rng = np.random.default_rng(seed)
    pool = rng.standard_normal((max(n // 3, 1), DIM)).astype(np.float32)
    pool /= np.linalg.norm(pool, axis=1, keepdims=True)
    products = []
    for i in range(n):
        price = None if rng.random() < 0.1 else int(rng.integers(100, 10_000))
        meta = ProductMeta(
            str(rng.choice(CATEGORIES)),
            str(rng.choice(BRANDS)),
            price,
            None if price is None else int(rng.integers(0, price + 1)),
            bool(rng.random() < 0.85),
        )
        products.append(IndexItem(f"p{i}", f"item {i} {meta.brand}", meta.to_metadata()))
    vectors = pool[rng.integers(0, pool.shape[0], n)]
    activities = []
    for j in range(m):
        shape = int(rng.integers(0, 6))
        cats = tuple(rng.choice(KNOWN, size=rng.integers(1, 3), replace=False).tolist())
        brands = tuple(rng.choice(BRANDS[:3], size=rng.integers(1, 3), replace=False).tolist())
        ids = tuple(f"p{k}" for k in rng.integers(0, n, rng.integers(1, 6)))
        starts = NOW + int(rng.integers(-500, 500))
        meta = ActivityMeta(
            type=str(rng.choice(TYPES)),
            group="item",
            starts=starts,
            ends=None if rng.random() < 0.2 else starts + int(rng.integers(1, 1000)),
            audience=str(rng.choice(AUDIENCES)),
            scope_all=shape == 0,
            categories=cats if shape in (1, 4) else (),
            brands=brands if shape in (2, 4, 5) else (),
            products=ids if shape in (3, 5) else (),
        )
        activities.append(IndexItem(f"a{j}", f"deal {j}", meta.to_metadata()))
    a_vectors = pool[rng.integers(0, pool.shape[0], m)]
    return Catalog(products, activities, vectors, a_vectors)


def ancestors(path: str) -> set[str]:
    parts = path.split("/")
    return {"/".join(parts[: i + 1]) for i in range(len(parts))}


def covers(activity: Mapping[str, Any], product: IndexItem) -> bool:
    """The deal engine's scope rule, written out."""
    if activity.get("scope_all"):
        return True
    meta = product.metadata
    cats = activity.get("scope_categories", ())
    if cats and not ancestors(str(meta["category"])) & set(cats):
        return False
    brands = activity.get("scope_brands", ())
    if brands and meta["brand"] not in brands:
        return False
    ids = activity.get("scope_products", ())
    return not ids or product.id in ids


def product_side(f: Filters, item: IndexItem) -> bool:
    meta = item.metadata
    price = meta.get("final_price")
    return f.products_allow(
        None if price is None else int(price),  # type: ignore[arg-type]
        ancestors(str(meta["category"])),
        str(meta["brand"]),
        bool(meta["in_stock"]),
    )


def activity_side(f: Filters, item: IndexItem) -> bool:
    meta = item.metadata
    return f.activity_allows(
        str(meta["type"]),
        int(meta["starts"]),
        int(meta["ends"]),
        str(meta["audience"]),  # type: ignore[arg-type]
    )


def reference(catalog: Catalog, f: Filters) -> tuple[set[str], set[str]]:
    """Product and activity ids that pass ``f``, by the rules in ``retrieval._filters``."""
    live = [a for a in catalog.activities if activity_side(f, a)]
    products = set()
    for p in catalog.products:
        if not product_side(f, p):
            continue
        if f.activity_types and not any(covers(a.metadata, p) for a in live):
            continue
        products.add(p.id)
    passing = [p for p in catalog.products if product_side(f, p)]
    activities = {
        a.id for a in live if not f.on_products or any(covers(a.metadata, p) for p in passing)
    }
    return products, activities


@st.composite
def filters(draw: st.DrawFn) -> Filters:
    prices = sorted(draw(st.lists(st.integers(0, 10_000), min_size=2, max_size=2)))
    return Filters(
        min_price=draw(st.sampled_from([None, prices[0]])),
        max_price=draw(st.sampled_from([None, prices[1]])),
        categories=draw(st.lists(st.sampled_from(KNOWN), max_size=2)),
        brands_in=draw(st.lists(st.sampled_from([*BRANDS[:3], "zzz"]), max_size=2)),
        brands_out=draw(st.lists(st.sampled_from(BRANDS[:3]), max_size=1)),
        activity_types=draw(st.lists(st.sampled_from([*TYPES, "nope"]), max_size=2)),
        valid_at=draw(st.sampled_from([None, NOW, NOW + 300])),
        audience=draw(st.sampled_from([None, frozenset(), frozenset({"members"})])),
        in_stock=draw(st.booleans()),
    )


_INDEXES: dict[tuple[int, str], tuple[Catalog, SearchIndex]] = {}


def index_for(seed: int, variant: str) -> tuple[Catalog, SearchIndex]:
    """Cached per (seed, variant): ``exact`` rescoring everything, ``approx`` a tiny rerank."""
    key = (seed, variant)
    if key not in _INDEXES:
        catalog = make_catalog(seed)
        options: dict[str, Any] = {"stage1_dim": 4, "exact_groups": 0}
        options["rerank"] = 10_000 if variant == "exact" else 1
        options["min_rerank"] = 1
        options["dtype"] = "float16" if variant == "half" else "float32"
        index = SearchIndex.from_items(
            catalog.products,
            catalog.vectors,
            catalog.activities,
            catalog.activity_vectors,
            **options,
        )
        _INDEXES[key] = (catalog, index)
    return _INDEXES[key]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 3),
    variant=st.sampled_from(["exact", "approx", "half"]),
    f=filters(),
    k=st.integers(1, 40),
    mode=st.sampled_from(["dense", "lexical", "hybrid"]),
    expand=st.booleans(),
    q=st.integers(0, 119),
)
def test_nothing_returned_breaks_a_filter(
    seed: int, variant: str, f: Filters, k: int, mode: str, expand: bool, q: int
) -> None:
    catalog, index = index_for(seed, variant)
    products, activities = reference(catalog, f)
    result = index.search(
        f"item {q}",
        vector=catalog.vectors[q],
        filters=f,
        k_products=k,
        k_activities=k,
        mode=mode,
        expand=expand,  # type: ignore[arg-type]
    )
    assert {h.id for h in result.products} <= products
    assert {h.id for h in result.activities} <= activities
    assert len(result.products) <= k and len(result.activities) <= k
    if mode == "dense":  # dense fills every slot the filters allow
        assert len(result.products) == min(k, len(products))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 3), f=filters(), k=st.integers(1, 60), q=st.integers(0, 119))
def test_exact_search_equals_brute_force(seed: int, f: Filters, k: int, q: int) -> None:
    catalog, index = index_for(seed, "exact")
    products, activities = reference(catalog, f)
    query = catalog.vectors[q]
    for plan in ("exact", "two-stage", "auto"):
        result = index.search(
            vector=query,
            filters=f,
            k_products=k,
            k_activities=k,
            expand=False,
            plan=plan,  # type: ignore[arg-type]
        )
        for hits, items, vectors, allowed in (
            (result.products, catalog.products, catalog.vectors, products),
            (result.activities, catalog.activities, catalog.activity_vectors, activities),
        ):
            score = {item.id: float(v @ query) for item, v in zip(items, vectors, strict=True)}
            want = sorted((score[i] for i in allowed), reverse=True)[:k]
            got = [h.score for h in hits]
            np.testing.assert_allclose(got, want, atol=1e-5)
            for h in hits:
                assert h.score == pytest.approx(score[h.id], abs=1e-5)


def test_expansion_links_are_the_coverage_relation() -> None:
    catalog, index = index_for(0, "exact")
    f = Filters(valid_at=NOW)
    result = index.search(vector=catalog.vectors[0], filters=f, k_products=60, k_activities=30)
    metas = {a.id: a.metadata for a in catalog.activities}
    items = {p.id: p for p in catalog.products}
    returned_a = [h.id for h in result.activities]
    returned_p = [h.id for h in result.products]
    for hit in result.products:
        want = [a for a in returned_a if covers(metas[a], items[hit.id])]
        assert list(hit.related) == want[: index.max_related]
    for hit in result.activities:
        want = [p for p in returned_p if covers(metas[hit.id], items[p])]
        assert list(hit.related) == want[: index.max_related]
