"""The choice model's true probabilities: ranges and the properties a shopper would show."""

from __future__ import annotations

import numpy as np
import pytest

from policy.world import (
    DealType,
    ItemBatch,
    ShopperLatents,
    SlateProbabilities,
    UserChoiceModel,
    sample_items,
    sample_shoppers,
)

from .helpers import items, shopper

MODEL = UserChoiceModel()


def _random_probs(
    catalog: ItemBatch, population: ShopperLatents, m: int = 5000
) -> SlateProbabilities:
    rng = np.random.default_rng(3)
    users = rng.integers(0, len(population), m)
    slates = rng.integers(-1, len(catalog), (m, 4))
    return MODEL.slate_probabilities(
        population, users, catalog, slates, match=rng.random((m, 4)), sharpness=rng.random(m)
    )


def test_probabilities_are_probabilities_and_ordered_by_the_funnel(
    catalog: ItemBatch, population: ShopperLatents
) -> None:
    probs = _random_probs(catalog, population)
    for name in (
        "examination",
        "click",
        "claim_given_click",
        "cart_given_click",
        "purchase_given_cart",
        "claim",
        "add_to_cart",
        "purchase",
    ):
        arr = getattr(probs, name)
        assert arr.shape == (5000, 4)
        assert ((arr >= 0) & (arr <= 1)).all(), name
    assert (probs.claim <= probs.click).all()
    assert (probs.purchase <= probs.add_to_cart).all()
    assert (probs.add_to_cart <= probs.click).all()
    assert (probs.expected_revenue >= 0).all()


def test_padding_positions_are_zero(catalog: ItemBatch, population: ShopperLatents) -> None:
    slates = np.array([[5, -1, 7], [-1, -1, -1]])
    probs = MODEL.slate_probabilities(population, np.array([0, 1]), catalog, slates)
    assert probs.click[0, 1] == 0.0 and probs.click[1].sum() == 0.0 and probs.click[0, 0] > 0


def test_only_claimable_items_are_claimed(catalog: ItemBatch, population: ShopperLatents) -> None:
    probs = MODEL.probabilities(population[0], catalog)
    assert (probs.claim[~catalog.needs_claim] == 0).all()
    assert (probs.claim[catalog.needs_claim] > 0).all()


def test_single_and_batch_apis_agree(catalog: ItemBatch, population: ShopperLatents) -> None:
    slate = np.array([4, 9, 2])
    match = np.array([0.9, 0.2, 0.6])
    one = MODEL.probabilities(population[7], catalog.take(slate), match=match, sharpness=0.8)
    batch = MODEL.slate_probabilities(
        population, np.array([7]), catalog, slate[None, :], match=match[None, :], sharpness=0.8
    )
    np.testing.assert_allclose(one.click, batch.click[0])
    np.testing.assert_allclose(one.purchase, batch.purchase[0])


def test_higher_positions_are_examined_and_clicked_more() -> None:
    probs = MODEL.probabilities(shopper(), items(6), positions=np.arange(6))
    assert (np.diff(probs.examination) < 0).all()
    assert (np.diff(probs.click) < 0).all()
    assert probs.examination[0] == pytest.approx(0.95)


def _discount_gain(deal_proneness: float) -> float:
    """Click uplift of a 50% discount (the final price falls with it) over the same item bare."""
    shown = items(
        2,
        final_price=np.array([80.0, 40.0]),
        discount=np.array([0.0, 0.5]),
        deal_type=np.array([DealType.NONE, DealType.PERCENT_OFF]),
    )
    p = MODEL.click_probabilities(shopper(deal_proneness=[deal_proneness]), shown, [0, 0])
    return float(p[1] - p[0])


def test_deeper_discounts_pull_deal_prone_shoppers_more() -> None:
    prone, averse = _discount_gain(0.9), _discount_gain(0.1)
    assert prone > averse > 0  # a lower price helps everyone; the deal itself, the deal-prone
    depths = np.linspace(0.0, 0.6, 7)
    shown = items(
        7,
        final_price=80.0 * (1 - depths),
        discount=depths,
        deal_type=np.full(7, int(DealType.PERCENT_OFF)),
    )
    p = MODEL.click_probabilities(shopper(deal_proneness=[0.9]), shown, np.zeros(7, np.int64))
    assert (np.diff(p) > 0).all()


def test_a_price_over_budget_lowers_purchase_probability() -> None:
    prices = np.array([50.0, 90.0, 100.0, 130.0, 200.0, 400.0])  # budget is 100
    shown = items(6, list_price=prices, final_price=prices)
    probs = MODEL.probabilities(shopper(), shown, np.zeros(6, np.int64))
    assert (np.diff(probs.purchase) < 0).all()
    assert (np.diff(probs.cart_given_click) < 0).all()
    # The kink: past the budget the price hurts faster than below it.
    slope_below = (probs.utility[1] - probs.utility[0]) / np.log(90 / 50)
    slope_above = (probs.utility[4] - probs.utility[3]) / np.log(200 / 130)
    assert slope_above < slope_below < 0


def test_price_sensitive_shoppers_feel_the_budget_more() -> None:
    shown = items(1, list_price=[200.0], final_price=[200.0])
    tolerant = MODEL.probabilities(shopper(price_sensitivity=[0.5]), shown).purchase
    sensitive = MODEL.probabilities(shopper(price_sensitivity=[2.0]), shown).purchase
    assert sensitive[0] < tolerant[0]


def test_favourite_brands_and_interests_attract() -> None:
    shown = items(2, brand=np.array([1, 2]), category=np.array([1, 2]))
    fan = shopper(favourite_brands=[[1, -1]], loyalty=[1.5])
    p = MODEL.click_probabilities(fan, shown, [0, 0])
    assert p[0] > p[1]
    focused = shopper(category_interest=np.array([[0.05, 0.05, 0.85, 0.05]]))
    p = MODEL.click_probabilities(focused, shown, [0, 0])
    assert p[1] > p[0]


def test_members_convert_more_and_new_shoppers_like_new_user_deals() -> None:
    shown = items(1)
    member = MODEL.probabilities(shopper(is_member=[True]), shown).purchase_given_cart
    plain = MODEL.probabilities(shopper(), shown).purchase_given_cart
    assert member[0] > plain[0]
    welcome = items(
        1,
        final_price=[64.0],
        discount=[0.2],
        deal_type=[int(DealType.NEW_USER)],
        needs_claim=[True],
    )
    new = MODEL.probabilities(shopper(is_new=[True]), welcome)
    old = MODEL.probabilities(shopper(), welcome)
    assert new.click[0] > old.click[0] and new.claim_given_click[0] > old.claim_given_click[0]


def test_flash_sales_are_urgent_near_their_end() -> None:
    shown = items(
        3,
        is_flash_sale=np.array([True, True, False]),
        hours_left=np.array([1.0, 40.0, np.inf]),
        deal_type=np.full(3, int(DealType.FLASH_SALE)),
    )
    p = MODEL.click_probabilities(shopper(), shown, [0, 0, 0])
    assert p[0] > p[1] > p[2]


def test_sharpness_amplifies_match_both_ways() -> None:
    shown = items(2)
    match = np.array([0.9, 0.1])
    vague = MODEL.click_probabilities(shopper(), shown, [0, 0], match=match, sharpness=0.5)
    sharp = MODEL.click_probabilities(shopper(), shown, [0, 0], match=match, sharpness=1.0)
    assert sharp[0] > vague[0] and sharp[1] < vague[1]


def test_claims_raise_purchase_given_cart() -> None:
    coupon = items(
        1, final_price=[60.0], discount=[0.25], deal_type=[int(DealType.COUPON)], needs_claim=[True]
    )
    probs = MODEL.probabilities(shopper(), coupon)
    assert probs.purchase_given_cart_claimed[0] > probs.purchase_given_cart_unclaimed[0]


def test_sampled_population_follows_its_priors() -> None:
    population = sample_shoppers(20000, 6, 10, np.random.default_rng(5))
    weights = np.bincount(population.segment, minlength=5) / 20000
    np.testing.assert_allclose(weights, [0.30, 0.20, 0.15, 0.25, 0.10], atol=0.015)
    assert not (population.is_new & population.is_member).any()
    deal = [population.deal_proneness[population.segment == s].mean() for s in range(5)]
    assert deal[0] > deal[3] > deal[1] > deal[2]  # bargain > casual > brand-loyal > premium
    assert (population.favourite_brands[population.segment == 4] == -1).all()
    assert population.patience.min() >= 1


def test_sampling_is_deterministic_given_seeds() -> None:
    def draw(seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        catalog = sample_items(100, 5, 8, rng)
        population = sample_shoppers(50, 5, 8, rng)
        _, out = MODEL.simulate(
            population, rng.integers(0, 50, 3000), catalog, rng.integers(0, 100, (3000, 3)), rng
        )
        return out.click, out.value

    a, b, c = draw(1), draw(1), draw(2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
