"""price_items gives, for a whole catalog at once, the prices and deals quote_item gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.catalog import ActivityRow, ProductRow
from assistant.deals import DealContext, quote_item
from assistant.domain import Activity, Product, Shopper
from assistant.money import Currency
from assistant.pricing import ScopeIndex, price_items
from assistant.world import generate_activities, generate_catalog

USD = Currency.of("USD")
GOLDEN = Path(__file__).resolve().parents[3] / "shared" / "checks" / "deal_cases.json"
NOW = datetime(2030, 6, 15, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def world() -> tuple[list[Product], list[Activity]]:
    rows = list(generate_catalog(products=150))
    products = [ProductRow.model_validate(r).to_domain(USD) for r in rows]
    drafted = generate_activities(rows, now=NOW - timedelta(days=3), per_type=12)
    activities = [ActivityRow.model_validate(r).to_domain(USD, "UTC") for r in drafted]
    return products, activities


@pytest.mark.parametrize(
    "shopper",
    [Shopper("plain"), Shopper("member", member=True), Shopper("new", new_user=True)],
    ids=lambda s: s.id,
)
def test_matches_quote_item_on_a_generated_world(
    shopper: Shopper, world: tuple[list[Product], list[Activity]]
) -> None:
    products, activities = world
    ctx = DealContext(now=NOW, shopper=shopper, shipping_fee=600)
    fast = price_items(products, activities, ctx)
    assert len(fast) == len(products)
    for product, quote in zip(products, fast, strict=True):
        slow = quote_item(product, activities, ctx)
        assert quote.lines[0].product_id == product.id
        assert (quote.goods_total, quote.savings, quote.shipping) == (
            slow.goods_total,
            slow.savings,
            slow.shipping,
        ), product.id
        assert [d.activity_id for d in quote.applied] == [d.activity_id for d in slow.applied]


def test_golden_catalog() -> None:
    data = json.loads(GOLDEN.read_text())
    products = [ProductRow.model_validate(p).to_domain(USD) for p in data["products"]]
    activities = [ActivityRow.model_validate(a).to_domain(USD, "UTC") for a in data["activities"]]
    now = datetime(2030, 1, 15, 21, tzinfo=UTC)
    ctx = DealContext(now=now, shopper=Shopper("U1"), shipping_fee=600)
    finals = {q.lines[0].product_id: q.goods_total for q in price_items(products, activities, ctx)}
    assert finals["P1"] == 4200  # the 30% flash sale, as in the golden case "one-shoe"


def test_scope_index_agrees_with_scope_covers(
    world: tuple[list[Product], list[Activity]],
) -> None:
    products, activities = world
    index = ScopeIndex(products)
    for activity in activities:
        expected = [i for i, p in enumerate(products) if activity.scope.covers(p)]
        assert index.rows(activity.scope).tolist() == expected
