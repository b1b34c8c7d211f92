"""Sampled events match the true probabilities (binomial confidence intervals)."""

from __future__ import annotations

import numpy as np

from policy.world import ItemBatch, ShopperLatents, UserChoiceModel

from .helpers import items, shopper

Z = 4.0  # |z| bound per check: with a few dozen checks, a false alarm is ~1e-3 likely


def _within(events: np.ndarray, probs: np.ndarray) -> None:
    """The event count is within Z sd of its Poisson-binomial mean."""
    mean = probs.sum()
    sd = np.sqrt((probs * (1 - probs)).sum())
    assert abs(events.sum() - mean) <= Z * sd + 1e-9, (events.sum(), mean, sd)


def test_sampled_rates_match_true_probabilities(
    catalog: ItemBatch, population: ShopperLatents
) -> None:
    rng = np.random.default_rng(21)
    m = 100_000
    users = rng.integers(0, len(population), m)
    slates = rng.integers(0, len(catalog), (m, 3))
    probs, out = UserChoiceModel().simulate(
        population, users, catalog, slates, rng, match=rng.random((m, 3))
    )
    for name in ("click", "claim", "add_to_cart", "purchase"):
        for k in range(3):
            _within(getattr(out, name)[:, k], getattr(probs, name)[:, k])
    # Calibration: within each decile of predicted click probability.
    edges = np.quantile(probs.click, np.linspace(0, 1, 11))
    bins = np.clip(np.searchsorted(edges, probs.click, side="right") - 1, 0, 9)
    for b in range(10):
        _within(out.click[bins == b], probs.click[bins == b])
    assert not (out.claim & ~out.click).any()
    assert not (out.purchase & ~out.add_to_cart).any()
    assert not (out.add_to_cart & ~out.click).any()


def test_purchase_values_are_price_times_quantity(
    catalog: ItemBatch, population: ShopperLatents
) -> None:
    rng = np.random.default_rng(22)
    m = 100_000
    slates = rng.integers(0, len(catalog), (m, 3))
    probs, out = UserChoiceModel().simulate(
        population, rng.integers(0, len(population), m), catalog, slates, rng
    )
    price = catalog.final_price[slates]
    np.testing.assert_allclose(out.value, out.quantity * price)
    assert (out.quantity[~out.purchase] == 0).all() and (out.quantity[out.purchase] >= 1).all()
    expected_q = probs.expected_quantity[out.purchase]
    q = out.quantity[out.purchase]
    assert abs(q.mean() - expected_q.mean()) < Z * np.sqrt((expected_q - 1).mean() / q.size)
    cost = 0.6 * catalog.list_price[slates]
    np.testing.assert_allclose(out.margin, out.quantity * (price - cost))


def test_one_shopper_responses_match_probabilities() -> None:
    rng = np.random.default_rng(23)
    model = UserChoiceModel()
    one, slate = shopper(deal_proneness=[0.8]), items(3)
    probs = model.probabilities(one, slate)
    clicks = np.array([model.respond(one, slate, rng).click for _ in range(4000)])
    for k in range(3):
        _within(clicks[:, k], np.full(4000, probs.click[k]))
