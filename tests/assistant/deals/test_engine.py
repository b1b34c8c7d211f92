"""Hand-worked engine tests: bad carts, arithmetic, stacking choices, tie-breaks and gaps."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime, timedelta

import pytest

from assistant import deals
from assistant.deals import Gap, quote_item
from assistant.domain import ActivityType, CartLine, IneligibleReason, Scope, Tier
from assistant.errors import CartError, ValidationError
from assistant.schedule import Schedule

from .helpers import NOW, activity, context, product, quote

SHOE = product("P1", 6000)
SOCKS = product("P2", 1000, "apparel/socks")


@pytest.mark.parametrize(
    ("cart", "message"),
    [
        ([], "the cart is empty; add at least one product line"),
        ([("P9", 1)], "cannot price the cart: unknown product id(s) P9"),
        (
            [("P1", 0)],
            "cannot price the cart: quantity must be a whole number >= 1 on line 1 (P1 x 0)",
        ),
        (
            [("P1", 1), ("P8", 2), ("P2", -1), ("P7", 1)],
            "cannot price the cart: unknown product id(s) P7, P8; quantity must be a whole "
            "number >= 1 on line 3 (P2 x -1)",
        ),
    ],
)
def test_bad_carts_are_refused_with_what_is_wrong(
    cart: list[tuple[str, int]], message: str
) -> None:
    with pytest.raises(CartError) as caught:
        quote([SHOE, SOCKS], cart, [])
    assert str(caught.value) == message


def test_an_activity_given_twice_is_refused() -> None:
    twice = [activity("A1", "percent_off", percent=10), activity("A1", "percent_off", percent=20)]
    with pytest.raises(ValidationError, match=r"activity id\(s\) A1 given more than once"):
        quote([SHOE], [("P1", 1)], twice)


def test_no_activities_prices_at_list_price_plus_shipping() -> None:
    got = quote([SHOE], [("P1", 2)], [])
    assert (got.subtotal, got.goods_total, got.savings, got.shipping, got.payable) == (
        12000,
        12000,
        0,
        600,
        12600,
    )
    assert got.gap is None and got.valid_until is None and not got.ineligible


def test_lines_of_one_product_are_merged_in_first_order() -> None:
    got = quote([SHOE, SOCKS], [("P2", 1), ("P1", 1), ("P2", 2)], [])
    assert [(line.product_id, line.quantity) for line in got.lines] == [("P2", 3), ("P1", 1)]


def test_percentages_round_half_up_per_line() -> None:
    # 10% of 0.25 is 0.025: half up gives 0.03 (banker's rounding would give 0.02).
    got = quote([product("P1", 25)], [("P1", 1)], [activity("A1", "percent_off", percent=10)])
    assert got.lines[0].item_deal is not None
    assert got.lines[0].item_deal.discount == 3


def test_item_caps_apply_per_line_after_rounding() -> None:
    balm = product("P5", 1999, "beauty/lips", "Lumi")
    gloss = product("P6", 1999, "beauty/lips", "Lumi")
    capped = activity("A9", "percent_off", percent=15, max_discount=500)
    got = quote([balm, gloss], [("P5", 3), ("P6", 1)], [capped])
    # 15% of 59.97 is 8.9955 -> 9.00 -> capped at 5.00; 15% of 19.99 is 2.9985 -> 3.00.
    assert [line.discount for line in got.lines] == [500, 300]


def test_coupon_cap_applies_once_on_the_in_scope_subtotal() -> None:
    coupon = activity("C1", "coupon", percent=10, max_discount=700)
    got = quote([SHOE, SOCKS], [("P1", 1), ("P2", 2)], [coupon])
    assert got.coupon is not None and got.coupon.discount == 700  # 10% of 80.00 = 8.00 > 7.00


def test_bundle_gives_its_amount_or_percent_once_units_reach_the_minimum() -> None:
    socks_scope = Scope(categories=("apparel",))
    amount = activity("B1", "bundle", socks_scope, min_quantity=3, amount=500)
    percent = activity("B2", "bundle", socks_scope, min_quantity=3, percent=30)
    two = quote([SHOE, SOCKS], [("P1", 1), ("P2", 2)], [amount, percent])
    assert two.order is None
    assert two.ineligible == {"B1": "min_spend_not_met", "B2": "min_spend_not_met"}
    three = quote([SHOE, SOCKS], [("P1", 1), ("P2", 3)], [amount, percent])
    assert three.order is not None and (three.order.activity_id, three.order.discount) == (
        "B2",
        900,
    )


def test_threshold_takes_the_highest_tier_reached_on_the_item_discounted_base() -> None:
    tiers = (Tier(5000, 500), Tier(10000, 1500), Tier(20000, 4000))
    off = activity("A1", "percent_off", percent=10)
    got = quote([SHOE], [("P1", 2)], [off, activity("T1", "threshold", tiers=tiers)])
    assert got.order is not None and got.order.discount == 1500  # base 108.00
    assert got.gap == Gap("T1", add=20000 - 10800, unlocks=2500)


def test_a_recurring_flash_sale_applies_only_while_an_occurrence_is_live() -> None:
    nightly = Schedule.recurring(
        datetime(2030, 1, 10, 20, tzinfo=UTC),
        "FREQ=DAILY",
        timedelta(hours=2),
        ends_at=datetime(2030, 1, 20, tzinfo=UTC),
    )
    flash = activity("F1", "flash_sale", schedule=nightly, percent=30)
    live = quote([SHOE], [("P1", 1)], [flash], context(now=datetime(2030, 1, 15, 21, tzinfo=UTC)))
    assert live.lines[0].item_deal is not None
    assert live.lines[0].item_deal.discount == 1800
    assert live.valid_until == datetime(2030, 1, 15, 22, tzinfo=UTC)
    between = quote(
        [SHOE], [("P1", 1)], [flash], context(now=datetime(2030, 1, 15, 23, tzinfo=UTC))
    )
    assert between.lines[0].item_deal is None
    assert between.ineligible == {"F1": IneligibleReason.NOT_STARTED}
    after = quote([SHOE], [("P1", 1)], [flash], context(now=datetime(2030, 1, 20, 21, tzinfo=UTC)))
    assert after.ineligible == {"F1": IneligibleReason.EXPIRED}


def test_recurrences_follow_shop_time() -> None:
    # 20:00 in Shanghai is 12:00 UTC.
    evening = Schedule.recurring(
        datetime(2030, 1, 1, 20, tzinfo=UTC) - timedelta(hours=8),
        "FREQ=DAILY",
        timedelta(hours=2),
        tz="Asia/Shanghai",
    )
    flash = activity("F1", "flash_sale", schedule=evening, percent=30)
    at_noon = context(now=datetime(2030, 1, 15, 12, 30, tzinfo=UTC))
    assert quote([SHOE], [("P1", 1)], [flash], at_noon).savings == 1800
    assert quote([SHOE], [("P1", 1)], [flash]).savings == 0  # 21:00 UTC is 05:00 there


def test_budget_exhausted_coupons_and_other_types() -> None:
    coupon = activity("C1", "coupon", amount=1000, budget=100000)
    off = activity("A1", "percent_off", percent=10, budget=5000)
    low = context(budget_left={"C1": 999, "A1": 1})
    got = quote([SHOE], [("P1", 1)], [coupon, off], low)
    assert got.coupon is None and got.ineligible == {"C1": IneligibleReason.BUDGET_EXHAUSTED}
    assert got.lines[0].item_deal is not None  # anything left keeps a non-coupon going
    gone = quote([SHOE], [("P1", 1)], [off], context(budget_left={"A1": 0}))
    assert gone.ineligible == {"A1": IneligibleReason.BUDGET_EXHAUSTED}


def test_a_budgeted_percent_coupon_needs_a_cap() -> None:
    # Each claim reserves the coupon's full value; an uncapped percent coupon has none, so a
    # budget on it could be overspent.
    with pytest.raises(ValidationError, match="percent coupon with a budget needs max_discount"):
        activity("C1", "coupon", percent=10, budget=5000)
    capped = activity("C1", "coupon", percent=10, max_discount=500, budget=5000)
    some = quote([SHOE], [("P1", 1)], [capped], context(budget_left={"C1": 500}))
    assert some.coupon is not None and some.coupon.discount == 500
    short = quote([SHOE], [("P1", 1)], [capped], context(budget_left={"C1": 499}))
    assert short.ineligible == {"C1": IneligibleReason.BUDGET_EXHAUSTED}


def test_held_coupon_skips_limit_and_budget_and_needs_no_claim() -> None:
    coupon = activity("C1", "coupon", amount=1000, budget=100000, per_user_limit=1)
    spent = context(uses={"C1": 1}, budget_left={"C1": 0})
    assert quote([SHOE], [("P1", 1)], [coupon], spent).ineligible == {"C1": "per_user_limit"}
    held = quote([SHOE], [("P1", 1)], [coupon], context(uses={"C1": 1}, held={"C1"}))
    assert held.coupon is not None and held.coupon.needs_claim is False
    assert held.to_claim == ()
    fresh = quote([SHOE], [("P1", 1)], [coupon])
    assert fresh.coupon is not None and fresh.coupon.needs_claim is True
    assert fresh.to_claim == ("C1",)


def test_sold_out_and_units_left_shared_by_lines_in_cart_order() -> None:
    flash = activity("F1", "flash_sale", percent=50, quantity_limit=10)
    trail = product("P3", 8000, "shoes/trail")
    assert quote([SHOE], [("P1", 1)], [flash], context(units_left={"F1": 0})).ineligible == {
        "F1": IneligibleReason.SOLD_OUT
    }
    got = quote([SHOE, trail], [("P1", 2), ("P3", 2)], [flash], context(units_left={"F1": 3}))
    # P1 takes 2 units at half price, P3 the last unit.
    assert [line.discount for line in got.lines] == [6000, 4000]


def test_a_coupon_that_loses_free_shipping_is_skipped() -> None:
    fifty = product("P1", 5000)
    free = activity("S1", "free_shipping", min_spend=4900)
    small = activity("C1", "coupon", amount=200)
    got = quote([fifty], [("P1", 1)], [free, small])
    # With the coupon: 48.00 + 6.00 shipping; without: 50.00 shipped free.
    assert got.coupon is None and got.free_shipping is not None
    assert (got.goods_total, got.shipping, got.payable) == (5000, 0, 5000)
    assert "C1" not in got.ineligible  # it could apply; it lost
    big = activity("C2", "coupon", amount=700)
    taken = quote([fifty], [("P1", 1)], [free, big])
    assert taken.coupon is not None and taken.free_shipping is None
    assert (taken.goods_total, taken.shipping, taken.payable) == (4300, 600, 4900)
    assert taken.ineligible == {"S1": IneligibleReason.MIN_SPEND_NOT_MET}
    assert taken.gap == Gap("S1", add=600, unlocks=600)


def test_goods_never_cost_less_than_zero() -> None:
    tier = activity("T1", "threshold", tiers=(Tier(5000, 4500),))
    coupon = activity("C1", "coupon", amount=1000)
    got = quote([product("P1", 5000)], [("P1", 1)], [tier, coupon], context(held={"C1"}))
    assert got.coupon is not None and got.coupon.discount == 500
    assert (got.goods_total, got.savings) == (0, 5000)


def test_equal_payable_prefers_more_savings() -> None:
    free = activity("S1", "free_shipping", min_spend=5000)
    coupon = activity("C1", "coupon", amount=600)
    got = quote([product("P1", 5000)], [("P1", 1)], [free, coupon])
    # 50.00 shipped free or 44.00 + 6.00: both pay 50.00; the coupon saves more on goods.
    assert got.coupon is not None and got.free_shipping is None and got.savings == 600


def test_equal_deals_prefer_a_held_coupon_then_smaller_ids() -> None:
    c1 = activity("C1", "coupon", amount=500)
    c2 = activity("C2", "coupon", amount=500)
    assert quote([SHOE], [("P1", 1)], [c2, c1]).coupon.activity_id == "C1"  # type: ignore[union-attr]
    held = quote([SHOE], [("P1", 1)], [c1, c2], context(held={"C2"}))
    assert held.coupon is not None and held.coupon.activity_id == "C2"
    t2 = activity("T2", "threshold", tiers=(Tier(1000, 300),))
    t1 = activity("T1", "threshold", tiers=(Tier(2000, 300),))
    assert quote([SHOE], [("P1", 1)], [t2, t1]).order.activity_id == "T1"  # type: ignore[union-attr]


def test_item_ties_go_to_the_lowest_activity_id() -> None:
    a2 = activity("A2", "percent_off", percent=20)
    a10 = activity("A10", "member_day", percent=20)
    got = quote([SHOE], [("P1", 1)], [a2, a10])
    assert got.lines[0].item_deal is not None
    assert got.lines[0].item_deal.activity_id == "A10"  # "A10" < "A2" as text


def test_gap_ignores_bundles_and_groups_that_would_not_gain() -> None:
    bundle = activity("B1", "bundle", min_quantity=5, amount=2000)
    big = activity("C1", "coupon", amount=1000, min_spend=0)
    small = activity("C2", "coupon", amount=500, min_spend=7000)
    got = quote([SHOE], [("P1", 1)], [bundle, big, small], context(shipping_fee=0))
    assert got.coupon is not None and got.coupon.activity_id == "C1"
    assert got.gap is None


def test_valid_until_is_the_earliest_end_among_applied_deals() -> None:
    short = Schedule.once(datetime(2030, 1, 15, tzinfo=UTC), datetime(2030, 1, 16, tzinfo=UTC))
    flash = activity("F1", "flash_sale", Scope(products=("P1",)), short, percent=30)
    tier = activity("T1", "threshold", tiers=(Tier(1000, 100),))
    got = quote([SHOE, SOCKS], [("P1", 1), ("P2", 1)], [flash, tier])
    assert got.order is not None and got.order.valid_until == datetime(2030, 2, 1, tzinfo=UTC)
    assert got.valid_until == datetime(2030, 1, 16, tzinfo=UTC)
    assert got.breakdown() == {"F1": 1800, "T1": 100}
    assert [deal.type for deal in got.applied] == [ActivityType.FLASH_SALE, ActivityType.THRESHOLD]


def test_quote_item_is_a_one_unit_cart() -> None:
    off = activity("A1", "percent_off", percent=25)
    got = quote_item(SHOE, [off], context())
    assert [(line.product_id, line.quantity) for line in got.lines] == [("P1", 1)]
    assert got.goods_total == 4500


def test_cart_lines_are_plain_domain_values() -> None:
    assert CartLine("P1").quantity == 1
    assert NOW.tzinfo is UTC


@pytest.mark.parametrize(
    "module",
    [deals._engine, deals._eligibility],
    ids=lambda m: m.__name__,
)
def test_docstring_examples_run(module: object) -> None:
    failures, tried = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert tried > 0 and failures == 0
