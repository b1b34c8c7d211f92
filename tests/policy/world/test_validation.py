"""Invalid inputs fail once, at the public entry, with a message that says what to fix."""

from __future__ import annotations

import numpy as np
import pytest

from policy.world import (
    Clarify,
    Handoff,
    ItemBatch,
    OfferCoupon,
    Recommend,
    ShopperLatents,
    ShoppingEnv,
    UserChoiceModel,
    sample_items,
    sample_shoppers,
)

from .helpers import items, shopper


def test_item_arrays_must_share_one_length() -> None:
    with pytest.raises(ValueError, match=r"ItemBatch: `brand` must have shape \(3,\); got \(2,\)"):
        items(3, brand=np.zeros(2, dtype=np.int64))


def test_item_category_must_be_one_dimensional() -> None:
    with pytest.raises(ValueError, match=r"`category` must have shape \(n,\); got \(2, 2\)"):
        items(2, category=np.zeros((2, 2), dtype=np.int64))


def test_item_indices_must_be_integers_not_truncated_floats() -> None:
    with pytest.raises(ValueError, match="`category` must hold integers; got dtype float64"):
        items(2, category=np.array([0.0, 1.5]))


def test_item_category_out_of_range_names_the_value() -> None:
    with pytest.raises(ValueError, match=r"`category` must lie in \[0, 3\]; got 4 at flat index 1"):
        items(2, category=np.array([0, 4]))


def test_final_price_above_list_price_is_refused() -> None:
    with pytest.raises(ValueError, match="`final_price` must not exceed `list_price`; at index 0"):
        items(1, final_price=np.array([90.0]))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("list_price", [0.0], r"`list_price` must lie in \(0, inf\]"),
        ("discount", [1.5], r"`discount` must lie in \[0, 1\]"),
        ("popularity", [np.nan], "`popularity` holds NaN or infinite values"),
        ("hours_left", [np.nan], "`hours_left` holds NaN"),
        ("deal_type", [8], r"`deal_type` must lie in \[-1, 7\]"),
        ("needs_claim", [2], "`needs_claim` must hold booleans"),
    ],
)
def test_item_field_ranges(field: str, value: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        items(1, **{field: np.array(value)})


def test_item_arrays_are_read_only() -> None:
    batch = items(2)
    with pytest.raises(ValueError, match="read-only"):
        batch.final_price[0] = 1.0


def test_shopper_interest_rows_must_be_distributions() -> None:
    with pytest.raises(ValueError, match="`category_interest` rows must sum to 1; row 0"):
        shopper(category_interest=np.full((1, 4), 0.5))


def test_shopper_budget_shape_follows_interest() -> None:
    with pytest.raises(ValueError, match=r"`budget` must have shape \(1, 4\); got \(1, 3\)"):
        shopper(budget=np.full((1, 3), 100.0))


def test_new_shoppers_are_not_members() -> None:
    with pytest.raises(ValueError, match="cannot be both `is_new` and `is_member`"):
        shopper(is_new=[True], is_member=[True])


def test_single_shopper_api_refuses_a_population() -> None:
    population = sample_shoppers(5, 4, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="expects one shopper; got 5"):
        UserChoiceModel().click_probabilities(population, items(2))


def test_shoppers_and_items_must_share_the_catalog() -> None:
    other = sample_items(3, 6, 5, np.random.default_rng(0))
    with pytest.raises(
        ValueError, match="shoppers have 4 categories and 5 brands but items have 6"
    ):
        UserChoiceModel().click_probabilities(shopper(), other)


def test_batch_shapes_are_checked() -> None:
    model = UserChoiceModel()
    population = sample_shoppers(5, 4, 5, np.random.default_rng(0))
    slates = np.zeros((5, 3), dtype=np.int64)
    with pytest.raises(ValueError, match=r"`users` must have shape \(5,\); got \(4,\)"):
        model.slate_probabilities(population, np.arange(4), items(2), slates)
    with pytest.raises(ValueError, match=r"`match` must have shape \(5, 3\); got \(5, 2\)"):
        model.slate_probabilities(
            population, np.arange(5), items(2), slates, match=np.zeros((5, 2))
        )
    with pytest.raises(ValueError, match=r"`slate items` must lie in \[-1, 1\]; got 7"):
        model.slate_probabilities(population, np.arange(5), items(2), slates + 7)
    with pytest.raises(ValueError, match=r"`users` must lie in \[0, 4\]"):
        model.slate_probabilities(population, np.arange(5) + 1, items(2), slates)
    with pytest.raises(ValueError, match=r"`match` must lie in \[0, 1\]"):
        model.slate_probabilities(
            population, np.arange(5), items(2), slates, match=np.full((5, 3), 2.0)
        )


def test_sample_shoppers_refuses_bad_sizes() -> None:
    with pytest.raises(ValueError, match="need n >= 0, n_categories >= 1, n_brands >= 1"):
        sample_shoppers(3, 0, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"`category_price_levels` must have shape \(4,\)"):
        sample_shoppers(3, 4, 5, np.random.default_rng(0), category_price_levels=np.ones(3))


@pytest.fixture()
def env() -> ShoppingEnv:
    rng = np.random.default_rng(0)
    catalog = sample_items(50, 4, 5, rng)
    return ShoppingEnv(catalog, sample_shoppers(10, 4, 5, rng), slate_size=3, max_turns=4)


def test_env_needs_reset_first(env: ShoppingEnv) -> None:
    with pytest.raises(RuntimeError, match=r"call reset\(\)"):
        env.step(Clarify())
    with pytest.raises(RuntimeError, match=r"call reset\(\) first"):
        _ = env.match_estimate


@pytest.mark.parametrize(
    ("slate", "message"),
    [
        ((), "a slate holds 1 to 3 items; got 0"),
        ((1, 2, 3, 4), "a slate holds 1 to 3 items; got 4"),
        ((1, 1), r"distinct indices in \[0, 50\); got \(1, 1\)"),
        ((50,), r"distinct indices in \[0, 50\); got \(50,\)"),
    ],
)
def test_env_refuses_bad_slates(env: ShoppingEnv, slate: tuple[int, ...], message: str) -> None:
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(Recommend(slate))


def test_env_offers_only_claimable_items(env: ShoppingEnv) -> None:
    env.reset(seed=0)
    plain = int(np.flatnonzero(~env.items.needs_claim)[0])
    with pytest.raises(ValueError, match=f"OfferCoupon needs a claimable item; {plain} is not"):
        env.step(OfferCoupon(plain))


def test_env_refuses_steps_after_the_end(env: ShoppingEnv) -> None:
    env.reset(seed=0)
    env.step(Handoff())
    with pytest.raises(RuntimeError, match="the session has ended"):
        env.step(Clarify())


def test_env_refuses_mismatched_catalogs() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="disagree on n_categories / n_brands"):
        ShoppingEnv(sample_items(5, 4, 5, rng), sample_shoppers(3, 6, 5, rng))


def test_latents_are_frozen_dataclasses() -> None:
    one = shopper()
    assert isinstance(one, ShopperLatents)
    with pytest.raises(AttributeError):
        one.loyalty = np.zeros(1)  # type: ignore[misc]
    assert isinstance(items(1), ItemBatch)
