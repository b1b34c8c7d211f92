"""Property tests: the engine against a brute-force oracle on random catalogs and carts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.deals import CartQuote, DealContext, quote_cart, quote_item
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
from assistant.schedule import Schedule

from .oracle import Oracle

NOW = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
CATEGORIES = ["shoes", "shoes/running", "shoes/trail", "apparel/socks", "beauty/lips", "shoestring"]
SCOPE_CATEGORIES = [*CATEGORIES, "shoe", "apparel", "beauty"]
BRANDS = ["Stride", "Lumi", "Sonic"]
SCOPE_BRANDS = [*BRANDS, "STRIDE", "lumi", "Nobody"]

PROFILE = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

hours = st.integers(-72, 72).map(lambda h: timedelta(hours=h))


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    shape = draw(st.sampled_from(["live"] * 6 + ["once"] * 2 + ["recurring"] * 2))
    if shape == "live":  # mostly live now, so that stacking gets exercised
        start = NOW - timedelta(hours=draw(st.integers(0, 48)))
        return Schedule.once(start, NOW + timedelta(hours=draw(st.integers(1, 48))))
    if shape == "once":
        start = NOW + draw(hours)
        return Schedule.once(start, start + timedelta(hours=draw(st.integers(1, 96))))
    start = NOW - timedelta(days=draw(st.integers(0, 5)), hours=draw(st.integers(0, 23)))
    rule = draw(st.sampled_from(["FREQ=DAILY", "FREQ=HOURLY;INTERVAL=5", "FREQ=WEEKLY"]))
    until = draw(st.none() | st.integers(1, 240).map(lambda h: start + timedelta(hours=h)))
    duration = timedelta(hours=draw(st.integers(1, 6)))
    tz = draw(st.sampled_from(["UTC", "Asia/Shanghai"]))
    return Schedule.recurring(start, rule, duration, ends_at=until, tz=tz)


@st.composite
def scopes(draw: st.DrawFn, product_ids: list[str]) -> Scope:
    kind = draw(st.sampled_from(["all", "categories", "brands", "products", "mixed"]))
    if kind == "all":
        return Scope(all=True)
    some = st.lists
    categories = some(st.sampled_from(SCOPE_CATEGORIES), min_size=1, max_size=2, unique=True)
    brands = some(st.sampled_from(SCOPE_BRANDS), min_size=1, max_size=2, unique=True)
    products = some(st.sampled_from([*product_ids, "P99"]), min_size=1, max_size=2, unique=True)
    if kind == "categories":
        return Scope(categories=tuple(draw(categories)))
    if kind == "brands":
        return Scope(brands=tuple(draw(brands)))
    if kind == "products":
        return Scope(products=tuple(draw(products)))
    return Scope(
        categories=tuple(draw(categories)),
        brands=tuple(draw(brands)),
        products=tuple(draw(some(st.sampled_from(product_ids), max_size=1))),
    )


money = st.sampled_from([0, 100, 500, 600, 1000]) | st.integers(0, 5000)
spend = st.integers(0, 30000)
maybe = st.none


@st.composite
def activities(draw: st.DrawFn, aid: str, product_ids: list[str]) -> Activity:
    kind = draw(st.sampled_from(list(ActivityType)))
    terms: dict[str, Any] = {}
    group = kind.group.value
    if group == "item":
        terms["percent"] = draw(st.integers(1, 100))
        terms["max_discount"] = draw(maybe() | money)
    elif kind is ActivityType.THRESHOLD:
        levels = sorted(
            draw(st.lists(st.integers(100, 30000), min_size=1, max_size=3, unique=True))
        )
        # Discounts strictly increase with the tier, as the domain requires (min keeps that).
        offs = sorted(
            draw(
                st.lists(
                    st.integers(1, 6000), min_size=len(levels), max_size=len(levels), unique=True
                )
            )
        )
        terms["tiers"] = tuple(Tier(t, min(d, t)) for t, d in zip(levels, offs, strict=True))
        terms["max_discount"] = draw(maybe() | maybe() | money)
    elif kind is ActivityType.BUNDLE:
        terms["min_quantity"] = draw(st.integers(1, 5))
        if draw(st.booleans()):
            terms["amount"] = draw(money)
        else:
            terms["percent"] = draw(st.integers(1, 100))
    elif group == "coupon":
        if draw(st.booleans()):
            terms["amount"] = draw(money)
        else:
            terms["percent"] = draw(st.integers(1, 100))
        terms["max_discount"] = draw(maybe() | money)
        terms["min_spend"] = draw(maybe() | spend | spend | spend)
    else:
        terms["min_spend"] = draw(maybe() | spend | spend | spend)
    audience = draw(
        st.sampled_from(
            [Audience()] * 5
            + [Audience("new_users"), Audience("members")]
            + [Audience("segment", "vip")]
        )
    )
    status = draw(st.sampled_from([ActivityStatus.ACTIVE] * 12 + list(ActivityStatus)))
    limited = group == "item" and draw(st.booleans())
    budget = draw(maybe() | maybe() | st.integers(0, 10000))
    if group == "coupon" and terms.get("amount") is None and terms.get("max_discount") is None:
        budget = None  # the domain refuses a budget on an uncapped percent coupon
    return Activity(
        id=aid,
        type=kind,
        scope=draw(scopes(product_ids)),
        schedule=draw(schedules()),
        audience=audience,
        status=status,
        budget=budget,
        per_user_limit=draw(maybe() | maybe() | st.integers(1, 3)),
        quantity_limit=draw(st.integers(1, 5)) if limited else None,
        **terms,
    )


@st.composite
def worlds(
    draw: st.DrawFn,
) -> tuple[dict[str, Product], list[CartLine], list[Activity], DealContext]:
    n_products = draw(st.integers(1, 6))
    products = {
        f"P{i}": Product(
            id=f"P{i}",
            title=f"product {i}",
            category=draw(st.sampled_from(CATEGORIES)),
            brand=draw(st.sampled_from(BRANDS)),
            price=draw(st.integers(1, 20000)),
        )
        for i in range(n_products)
    }
    ids = list(products)
    acts = [draw(activities(f"A{i}", ids)) for i in range(draw(st.integers(1, 10)))]
    cart = [
        CartLine(draw(st.sampled_from(ids)), draw(st.integers(1, 4)))
        for _ in range(draw(st.integers(1, 5)))
    ]
    act_ids = [a.id for a in acts]
    coupon_ids = [a.id for a in acts if a.group.value == "coupon"]
    counts = st.dictionaries
    ctx = DealContext(
        now=NOW,
        shopper=Shopper(
            "U",
            member=draw(st.booleans()),
            new_user=draw(st.booleans()),
            segments=frozenset(draw(st.sampled_from([(), ("vip",), ("other",)]))),
        ),
        shipping_fee=draw(st.sampled_from([600, 600, 1, 0]) | st.integers(0, 2000)),
        uses=draw(counts(st.sampled_from(act_ids), st.integers(0, 3), max_size=4)),
        held=frozenset(draw(st.lists(st.sampled_from(coupon_ids), max_size=2)))
        if coupon_ids
        else frozenset(),
        budget_left=draw(counts(st.sampled_from(act_ids), st.integers(-100, 10000), max_size=4)),
        units_left=draw(counts(st.sampled_from(act_ids), st.integers(-1, 6), max_size=4)),
    )
    return products, cart, acts, ctx


def _pair(deal: Any) -> tuple[str, int] | None:
    return None if deal is None else (deal.activity_id, deal.discount)


def _check_consistent(quote: CartQuote) -> None:
    assert quote.subtotal == sum(line.unit_price * line.quantity for line in quote.lines)
    assert quote.goods_total == quote.subtotal - quote.savings
    assert quote.payable == quote.goods_total + quote.shipping
    assert sum(quote.breakdown().values()) == quote.savings
    assert 0 <= quote.goods_total <= quote.subtotal
    for line in quote.lines:
        assert 0 <= line.total <= line.subtotal
    if quote.free_shipping is not None:
        assert quote.shipping == 0
    ends = [deal.valid_until for deal in quote.applied]
    assert quote.valid_until == (min(e for e in ends if e) if ends else None)


@PROFILE
@given(worlds())
def test_engine_matches_the_brute_force_oracle(world: Any) -> None:
    products, cart, acts, ctx = world
    quote = quote_cart(products, cart, acts, ctx)
    oracle = Oracle(products, cart, acts, ctx)
    _check_consistent(quote)

    assert quote.payable == oracle.best_payable()
    chosen = oracle.evaluate(
        quote.order.activity_id if quote.order else None,
        quote.coupon.activity_id if quote.coupon else None,
        quote.free_shipping.activity_id if quote.free_shipping else None,
    )
    assert chosen is not None, "the engine's stacking is not a valid choice"
    assert chosen == oracle.preferred(), "the tie-breaks picked another stacking"
    assert tuple(_pair(line.item_deal) for line in quote.lines) == chosen.items
    assert _pair(quote.order) == chosen.order
    assert _pair(quote.coupon) == chosen.coupon
    assert (quote.goods_total, quote.shipping) == (chosen.goods_total, chosen.shipping)

    reasons = oracle.reasons(quote.goods_total)
    for deal in quote.applied:
        assert deal.activity_id not in reasons, f"{deal.activity_id} applied but {reasons}"
        assert deal.needs_claim == (
            deal.type.group.value == "coupon" and deal.activity_id not in ctx.held
        )
    assert dict(quote.ineligible) == reasons
    gap = quote.gap
    assert (None if gap is None else (gap.activity_id, gap.add, gap.unlocks)) == oracle.gap(chosen)


@PROFILE
@given(worlds())
def test_quote_item_never_above_list_price(world: Any) -> None:
    products, _, acts, ctx = world
    for product in products.values():
        quote = quote_item(product, acts, ctx)
        _check_consistent(quote)
        assert quote.goods_total <= product.price
        assert quote.payable == Oracle(products, [CartLine(product.id)], acts, ctx).best_payable()
