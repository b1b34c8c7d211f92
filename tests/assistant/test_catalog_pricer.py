"""CatalogPricer's one-unit final prices equal quote_item's goods total, exactly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.catalog import ActivityRow, ProductRow
from assistant.catalog_pricer import CatalogPricer, PricingContext, percent_of_minor
from assistant.deals import DealContext, eligibility, full_value, quote_item
from assistant.domain import (
    Activity,
    ActivityStatus,
    ActivityType,
    Audience,
    CartLine,
    Product,
    Scope,
    Shopper,
    Tier,
)
from assistant.errors import UnknownEntityError, ValidationError
from assistant.money import Currency, percent_of
from assistant.pricing import ScopeIndex, could_apply_to_one_unit
from assistant.schedule import Schedule
from assistant.world import generate_activities, generate_catalog

from .deals.test_properties import PROFILE, worlds

USD = Currency.of("USD")
BUILD = datetime(2030, 6, 12, 9, 30, tzinfo=UTC)
NOON = datetime(2030, 6, 15, 12, 0, tzinfo=UTC)
JAN = Schedule.once(datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 2, 1, tzinfo=UTC))
IN_JAN = datetime(2030, 1, 15, 21, 0, tzinfo=UTC)

World = tuple[list[Product], list[Activity]]


def _world(products: int, per_type: int | None) -> World:
    rows = list(generate_catalog(products=products))
    drafted = (
        generate_activities(rows, now=BUILD)
        if per_type is None
        else generate_activities(rows, now=BUILD, per_type=per_type)
    )
    return (
        [ProductRow.model_validate(r).to_domain(USD) for r in rows],
        [ActivityRow.model_validate(r).to_domain(USD, "UTC") for r in drafted],
    )


@pytest.fixture(scope="module")
def demo() -> World:
    """The default demo world: 5,000 products, 3,360 activities."""
    return _world(5000, None)


@pytest.fixture(scope="module")
def demo_pricer(demo: World) -> CatalogPricer:
    return CatalogPricer(*demo)


@pytest.fixture(scope="module")
def demo_covering(demo: World) -> list[list[int]]:
    """Per product, the activities whose scope covers it (ScopeIndex is tested against
    Scope.covers in test_pricing)."""
    products, activities = demo
    index = ScopeIndex(products)
    covering: list[list[int]] = [[] for _ in products]
    for i, activity in enumerate(activities):
        for row in index.rows(activity.scope).tolist():
            covering[row].append(i)
    return covering


@pytest.fixture(scope="module")
def small() -> World:
    """A small generated world that quote_item prices quickly with every activity."""
    return _world(150, 12)


@dataclass(frozen=True)
class Who:
    """A shopper and what the store knows of their use of the activities, as a recipe."""

    name: str
    shopper: Shopper
    fee: int = 600
    hold_coupons: bool = False  # every third claimable activity is held
    at_limits: bool = False  # uses at the per-user limit, or one below, in turn
    budgets: bool = False  # budgets left: 0, full value - 1 and full value, in turn
    units: bool = False  # units left 0 or 1, in turn

    def context(self, activities: list[Activity], now: datetime) -> DealContext:
        claimable = [a for a in activities if a.type.claimable]
        limited = [a for a in activities if a.per_user_limit is not None]
        budgeted = [a for a in activities if a.budget is not None]
        quantity = [a for a in activities if a.quantity_limit is not None]
        uses: dict[str, int] = {}
        budget_left: dict[str, int] = {}
        if self.at_limits:
            for n, a in enumerate(limited):
                assert a.per_user_limit is not None
                uses[a.id] = a.per_user_limit - n % 2
        if self.budgets:
            for n, a in enumerate(budgeted):
                full = full_value(a) or 0
                budget_left[a.id] = (0, max(full - 1, 0), full)[n % 3]
        return DealContext(
            now=now,
            shopper=self.shopper,
            shipping_fee=self.fee,
            uses=uses,
            held=frozenset(a.id for n, a in enumerate(claimable) if n % 3 == 0)
            if self.hold_coupons
            else frozenset(),
            budget_left=budget_left,
            units_left={a.id: n % 2 for n, a in enumerate(quantity)} if self.units else {},
        )


SHOPPERS = [
    Who("plain", Shopper("plain")),
    Who("member-vip", Shopper("m", member=True, segments=frozenset({"vip", "runners"}))),
    Who("new-holding", Shopper("n", new_user=True, segments=frozenset({"students"})), 1500, True),
    Who("limits", Shopper("l", member=True), 600, True, True, True, True),
    Who("no-fee", Shopper("z", new_user=True), 0),
    Who("big-fee-limits", Shopper("b", segments=frozenset({"parents"})), 4000, False, True, True),
]
MOMENTS = [
    NOON,  # inside the 10:00 flash slot's longest runs, between others
    datetime(2030, 6, 15, 20, 30, tzinfo=UTC),  # inside the 20:00 flash slot
    datetime(2030, 6, 16, 3, 30, tzinfo=UTC),  # outside every daily slot, a Sunday
    datetime(2030, 6, 18, 0, 0, tzinfo=UTC),  # the very start of a slot and of a day
    datetime(2030, 7, 25, 14, 45, tzinfo=UTC),  # weeks later: many windows over
]
PAIRS = [(who, MOMENTS[k % len(MOMENTS)]) for k, who in enumerate(SHOPPERS)]
PAIRS += [(SHOPPERS[2], MOMENTS[0]), (SHOPPERS[3], MOMENTS[4]), (SHOPPERS[5], MOMENTS[2])]
CASES = [
    pytest.param(who, now, n, id=f"{who.name}-{now:%m%d-%H%M}")
    for n, (who, now) in enumerate(PAIRS)
]


def _expected_covered(activities: list[Activity], product: Product, ctx: DealContext) -> bool:
    return any(
        eligibility(a, ctx, [product]) is None and could_apply_to_one_unit(a, product.price)
        for a in activities
    )


@pytest.mark.parametrize(("who", "now", "half"), CASES)
def test_matches_quote_item_on_the_demo_world(
    who: Who,
    now: datetime,
    half: int,
    demo: World,
    demo_pricer: CatalogPricer,
    demo_covering: list[list[int]],
) -> None:
    """A third of the 5,000 products per case (in turn), every product over the cases.

    The engine gets, per product, the activities that cover it and pass its standing checks:
    the others can only be listed as ineligible, never change a price (the small world and the
    property test below pass every activity).
    """
    products, activities = demo
    ctx = who.context(activities, now)
    usable = [eligibility(a, ctx) is None for a in activities]
    rows = [r for r in range(len(products)) if r % 3 == half % 3]
    prices = demo_pricer.price(rows, demo_pricer.context(ctx))
    mismatches = []
    for k, row in enumerate(rows):
        product = products[row]
        mine = [activities[i] for i in demo_covering[row] if usable[i]]
        quote = quote_item(product, mine, ctx)
        got = (int(prices.final_price[k]), int(prices.shipping[k]))
        if got != (quote.goods_total, quote.shipping):
            mismatches.append((product.id, got, (quote.goods_total, quote.shipping)))
        covered = any(could_apply_to_one_unit(a, product.price) for a in mine)
        assert bool(prices.covered[k]) == covered, product.id
    assert mismatches == []
    assert (prices.savings == prices.price - prices.final_price).all()
    assert (prices.final_price >= 0).all() and (prices.savings >= 0).all()
    assert prices.savings.any()  # the world is full of deals at every moment


@pytest.mark.parametrize(("who", "now", "half"), [CASES[1], CASES[3], CASES[5]])
def test_matches_quote_item_with_every_activity(
    who: Who, now: datetime, half: int, small: World
) -> None:
    products, activities = small
    products = products[half % 2 :: 2]
    pricer = CatalogPricer(products, activities)
    ctx = who.context(activities, now)
    prices = pricer.price([p.id for p in products], pricer.context(ctx))
    for k, product in enumerate(products):
        quote = quote_item(product, activities, ctx)
        assert int(prices.final_price[k]) == quote.goods_total, product.id
        assert int(prices.shipping[k]) == quote.shipping, product.id
        assert bool(prices.covered[k]) == _expected_covered(activities, product, ctx), product.id


@pytest.mark.slow
def test_matches_quote_item_with_every_activity_on_the_demo_world(
    demo: World, demo_pricer: CatalogPricer
) -> None:
    products, activities = demo
    for who, now in [(SHOPPERS[3], NOON), (SHOPPERS[1], MOMENTS[1])]:
        ctx = who.context(activities, now)
        sample = list(range(0, len(products), 100))
        got = demo_pricer.final_prices(sample, demo_pricer.context(ctx))
        for k, row in enumerate(sample):
            assert int(got[k]) == quote_item(products[row], activities, ctx).goods_total


@PROFILE
@given(worlds())
def test_matches_quote_item_on_random_worlds(
    world: tuple[dict[str, Product], list[CartLine], list[Activity], DealContext],
) -> None:
    products, _, activities, ctx = world
    pricer = CatalogPricer(list(products.values()), activities)
    prices = pricer.price(list(products), pricer.context(ctx))
    for k, product in enumerate(products.values()):
        quote = quote_item(product, activities, ctx)
        assert int(prices.final_price[k]) == quote.goods_total
        assert int(prices.shipping[k]) == quote.shipping
        assert bool(prices.covered[k]) == _expected_covered(activities, product, ctx)


@given(st.integers(0, 10**12), st.integers(0, 100))
def test_percent_of_minor_rounds_half_up_like_money(minor: int, percent: int) -> None:
    got = percent_of_minor(np.array([minor], dtype=np.int64), np.array([percent], dtype=np.int64))
    assert int(got[0]) == percent_of(minor, percent)


# ---- hand-worked corners ---------------------------------------------------------------------


def _product(pid: str, price: int) -> Product:
    return Product(pid, f"product {pid}", "shoes/running", "Stride", price)


def _activity(aid: str, kind: ActivityType, **terms: object) -> Activity:
    return Activity(aid, kind, Scope(all=True), JAN, **terms)  # type: ignore[arg-type]


def _ctx(fee: int = 600, **overrides: object) -> DealContext:
    return DealContext(IN_JAN, Shopper("U1"), shipping_fee=fee, **overrides)  # type: ignore[arg-type]


def _final(products: list[Product], activities: list[Activity], ctx: DealContext) -> list[int]:
    pricer = CatalogPricer(products, activities)
    got = pricer.final_prices([p.id for p in products], pricer.context(ctx)).tolist()
    assert got == [quote_item(p, activities, ctx).goods_total for p in products]
    return [int(v) for v in got]


@pytest.mark.parametrize(("fee", "expected"), [(600, 5000), (101, 5000), (100, 4900), (50, 4900)])
def test_a_coupon_is_skipped_when_it_would_lose_free_shipping(fee: int, expected: int) -> None:
    deals = [
        _activity("C1", ActivityType.COUPON, amount=100),
        _activity("S1", ActivityType.FREE_SHIPPING, min_spend=5000),
    ]
    # Skipping pays 5000; taking it pays 4900 + fee; equal payables go to the lower goods.
    assert _final([_product("P1", 5000)], deals, _ctx(fee)) == [expected]


def test_the_largest_pair_that_keeps_free_shipping_wins() -> None:
    deals = [
        _activity("O1", ActivityType.BUNDLE, min_quantity=1, amount=300),
        _activity("O2", ActivityType.THRESHOLD, tiers=(Tier(1000, 100),)),
        _activity("C1", ActivityType.COUPON, amount=250),
        _activity("C2", ActivityType.COUPON, amount=700),
        _activity("S1", ActivityType.FREE_SHIPPING, min_spend=4500),
    ]
    # Base 5000: the most off (300 + 700) pays 4000 + 1000; within 500 of room, 100 + 250
    # (O2 + C1) beats 300 alone and 250 alone and pays 4650.
    assert _final([_product("P1", 5000)], deals, _ctx(1000)) == [4650]
    # A smaller fee makes the most discount cheaper again: 4000 + 600 < 4650.
    assert _final([_product("P1", 5000)], deals, _ctx(600)) == [4000]


def test_terms_that_never_apply_to_one_unit() -> None:
    deals = [
        _activity("B2", ActivityType.BUNDLE, min_quantity=2, percent=50),
        _activity("CX", ActivityType.COUPON, value_known=False),
        _activity("T9", ActivityType.THRESHOLD, tiers=(Tier(9000, 900),)),
        _activity("CM", ActivityType.COUPON, amount=500, min_spend=4001),
    ]
    assert _final([_product("P1", 4000)], deals, _ctx()) == [4000]
    pricer = CatalogPricer([_product("P1", 4000)], deals)
    assert not pricer.price(["P1"], pricer.context(_ctx())).covered[0]


def test_a_bundle_ignores_a_min_spend_only_coupons_have() -> None:
    deals = [_activity("B1", ActivityType.BUNDLE, min_quantity=1, amount=300, min_spend=9999)]
    assert _final([_product("P1", 4000)], deals, _ctx()) == [3700]


def test_item_caps_then_coupon_on_the_base_after_items() -> None:
    deals = [
        _activity("F1", ActivityType.FLASH_SALE, percent=33, max_discount=1000, quantity_limit=5),
        _activity("F2", ActivityType.PERCENT_OFF, percent=15),
        _activity("C1", ActivityType.COUPON, percent=10, max_discount=250, min_spend=4000),
        _activity("T1", ActivityType.THRESHOLD, tiers=(Tier(3000, 200), Tier(5000, 600))),
    ]
    # 33% of 5005 = 1651.65 capped at 1000 -> 4005; threshold tier 3000 (200); coupon 10% of
    # 4005 = 400.5 -> 401, capped at 250; goods 3555.
    assert _final([_product("P1", 5005)], deals, _ctx(0)) == [3555]
    # Sold out: F2's 15% of 5005 = 750.75 -> 751 -> 4254; tier 3000; coupon 250 -> 3804.
    assert _final([_product("P1", 5005)], deals, _ctx(0, units_left={"F1": 0})) == [3804]


def test_held_coupons_skip_limits_and_budgets() -> None:
    deals = [_activity("C1", ActivityType.COUPON, amount=500, budget=1000, per_user_limit=1)]
    spent: dict[str, object] = {"uses": {"C1": 1}, "budget_left": {"C1": 499}}
    assert _final([_product("P1", 4000)], deals, _ctx(600, **spent)) == [4000]
    assert _final([_product("P1", 4000)], deals, _ctx(600, held={"C1"}, **spent)) == [3500]


def test_audiences_and_status() -> None:
    deals = [
        Activity("M", ActivityType.MEMBER_DAY, Scope(all=True), JAN, percent=10,
                 audience=Audience("members")),
        Activity("S", ActivityType.PERCENT_OFF, Scope(all=True), JAN, percent=20,
                 audience=Audience("segment", "vip")),
        Activity("P", ActivityType.PERCENT_OFF, Scope(all=True), JAN, percent=50,
                 status=ActivityStatus.PAUSED),
    ]  # fmt: skip
    products = [_product("P1", 1000)]
    for shopper, expected in [
        (Shopper("a"), 1000),
        (Shopper("b", member=True), 900),
        (Shopper("c", member=True, segments=frozenset({"vip"})), 800),
    ]:
        ctx = DealContext(IN_JAN, shopper, shipping_fee=600)
        assert _final(products, deals, ctx) == [expected]


def test_recurring_windows_across_days_and_zones() -> None:
    evening = Schedule.recurring(
        datetime(2030, 1, 1, 20, tzinfo=UTC), "FREQ=DAILY", timedelta(hours=6), tz="Asia/Shanghai"
    )
    deals = [Activity("F", ActivityType.FLASH_SALE, Scope(all=True), evening, percent=10)]
    products = [_product("P1", 1000)]
    pricer = CatalogPricer(products, deals, now=datetime(2030, 1, 3, tzinfo=UTC))
    start = datetime(2030, 1, 3, tzinfo=UTC)
    for minutes in range(0, 3 * 24 * 60, 37):
        now = start + timedelta(minutes=minutes)
        ctx = DealContext(now, Shopper("a"), shipping_fee=0)
        expected = quote_item(products[0], deals, ctx).goods_total
        assert pricer.final_prices(["P1"], pricer.context(ctx)).tolist() == [expected], now


def test_ids_rows_repeats_and_empty(demo_pricer: CatalogPricer, demo: World) -> None:
    products, activities = demo
    pctx = demo_pricer.context(SHOPPERS[0].context(activities, NOON))
    ids = [products[7].id, products[3].id, products[7].id]
    by_id = demo_pricer.price(ids, pctx)
    by_row = demo_pricer.price(np.array([7, 3, 7]), pctx)
    assert by_id.rows.tolist() == [7, 3, 7]
    assert by_id.final_price.tolist() == by_row.final_price.tolist()
    assert by_id.final_price[0] == by_id.final_price[2]
    assert demo_pricer.price([], pctx).final_price.shape == (0,)


# ---- bad input -------------------------------------------------------------------------------


def test_unknown_product_ids_are_named() -> None:
    pricer = CatalogPricer([_product("P1", 1000)], [])
    pctx = pricer.context(_ctx())
    with pytest.raises(UnknownEntityError, match=r"unknown product id\(s\) P8, P9: not in this"):
        pricer.final_prices(["P1", "P9", "P8", "P9"], pctx)


def test_bad_rows_and_foreign_contexts() -> None:
    pricer = CatalogPricer([_product("P1", 1000)], [])
    pctx = pricer.context(_ctx())
    with pytest.raises(ValidationError, match=r"row out of range: rows must be in 0\.\.0"):
        pricer.final_prices([1], pctx)
    with pytest.raises(ValidationError, match="not the string 'P1'"):
        pricer.final_prices("P1", pctx)
    with pytest.raises(ValidationError, match="1-d array of integers"):
        pricer.final_prices(np.array([0.5]), pctx)
    other = CatalogPricer([_product("P1", 1000)], [])
    with pytest.raises(ValidationError, match="built by another CatalogPricer"):
        other.final_prices(["P1"], pctx)
    assert isinstance(pctx, PricingContext) and pctx.shipping_fee == 600


def test_bad_catalogs() -> None:
    with pytest.raises(ValidationError, match="activity id.* C1 given more than once"):
        CatalogPricer([], [_activity("C1", ActivityType.COUPON, amount=1)] * 2)
    with pytest.raises(ValidationError, match="product id.* P1 given more than once"):
        CatalogPricer([_product("P1", 1), _product("P1", 2)], [])
    with pytest.raises(ValidationError, match="non-negative integer of minor units: P1"):
        CatalogPricer([_product("P1", -1)], [])
