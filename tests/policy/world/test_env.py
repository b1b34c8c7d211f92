"""The shopping session: determinism, clarification, leaving, the turn budget and rewards."""

from __future__ import annotations

import numpy as np
import pytest

from policy.world import (
    OBSERVATION_NAMES,
    Action,
    Clarify,
    Handoff,
    ItemBatch,
    OfferCoupon,
    Recommend,
    Reward,
    ShopperLatents,
    ShoppingEnv,
    leave_probability,
)


@pytest.fixture()
def env(catalog: ItemBatch, population: ShopperLatents) -> ShoppingEnv:
    return ShoppingEnv(catalog, population, max_turns=6)


def _top(env: ShoppingEnv, k: int = 3, worst: bool = False) -> Recommend:
    order = np.argsort(env.match_estimate, kind="stable")
    chosen = order[:k] if worst else order[::-1][:k]
    return Recommend(tuple(int(i) for i in chosen))


def _episode(env: ShoppingEnv, seed: int) -> list[tuple[float, ...]]:
    env.reset(seed=seed)
    trace, done, turn = [], False, 0
    while not done:
        action: Action = Clarify() if turn == 0 else _top(env)
        obs, reward, done, info = env.step(action)
        trace.append((*obs, reward, info.leave_probability))
        turn += 1
    return trace


def test_sessions_are_deterministic_given_the_seed(env: ShoppingEnv) -> None:
    assert _episode(env, 5) == _episode(env, 5)
    assert any(_episode(env, s) != _episode(env, 5) for s in range(6, 10))


def test_observation_is_the_documented_vector(env: ShoppingEnv) -> None:
    obs = env.reset(seed=1)
    assert obs.shape == (len(OBSERVATION_NAMES),)
    names = dict(zip(OBSERVATION_NAMES, obs, strict=True))
    assert names["turn_fraction"] == 0 and names["slots_known_fraction"] == pytest.approx(1 / 3)
    obs, *_ = env.step(Clarify())
    assert dict(zip(OBSERVATION_NAMES, obs, strict=True))["slots_known_fraction"] == (
        pytest.approx(2 / 3)
    )


def test_a_clarify_raises_the_next_slates_expected_clicks(env: ShoppingEnv) -> None:
    before, after = [], []
    for seed in range(300):
        env.reset(seed=seed)
        first = env.slate_probabilities(_top(env).slate).click.sum()
        *_, done, _ = env.step(Clarify())
        if not done:
            before.append(first)
            after.append(env.slate_probabilities(_top(env).slate).click.sum())
    gain = np.array(after) - np.array(before)
    assert len(gain) > 200
    assert gain.mean() > 4 * gain.std() / np.sqrt(len(gain))


def test_clarify_sharpens_the_match_estimate(env: ShoppingEnv) -> None:
    env.reset(seed=3)
    errors = []
    for _ in range(3):
        errors.append(np.abs(env.match_estimate - env.match_truth).mean())
        env.step(Clarify())  # a redundant third question may end the session; fine here
        if env.done:
            break
    assert errors == sorted(errors, reverse=True) and errors[-1] < errors[0]


def test_poor_slates_raise_leaving() -> None:
    streak = leave_probability(2, np.arange(4), 5)
    assert (np.diff(streak) > 0).all()
    assert leave_probability(2, 3, 3) == 1.0  # patience exhausted
    assert leave_probability(2, 0, 3, clicked=True) < leave_probability(2, 0, 3)
    assert leave_probability(5, 0, 3) > leave_probability(1, 0, 3)  # turns wear patience
    redundant = leave_probability(2, 0, 3, clarified=True, redundant_clarify=True)
    assert redundant > leave_probability(2, 0, 3, clarified=True) > leave_probability(2, 0, 3)


def test_bad_slates_end_sessions_sooner(env: ShoppingEnv) -> None:
    def length(worst: bool) -> float:
        turns = []
        for seed in range(200):
            env.reset(seed=seed)
            done, n = False, 0
            while not done:
                *_, done, _ = env.step(_top(env, worst=worst))
                n += 1
            turns.append(n)
        return float(np.mean(turns))

    assert length(worst=True) < length(worst=False) - 0.5


def test_turn_budget_truncates_and_handoff_ends(
    catalog: ItemBatch, population: ShopperLatents
) -> None:
    env = ShoppingEnv(catalog, population, max_turns=1)
    env.reset(seed=0)
    *_, done, info = env.step(Clarify())
    assert done and (info.truncated != info.left)
    env.reset(seed=0)
    obs, reward, done, info = env.step(Handoff())
    assert done and info.handoff and reward == 0.0 and info.outcome is None


@pytest.mark.parametrize("kind", list(Reward))
def test_rewards_count_the_outcome(
    catalog: ItemBatch, population: ShopperLatents, kind: Reward
) -> None:
    env = ShoppingEnv(catalog, population, reward=kind)
    field = {
        Reward.CLICK: "click",
        Reward.CLAIM: "claim",
        Reward.ADD_TO_CART: "add_to_cart",
        Reward.PURCHASE: "purchase",
        Reward.REVENUE: "value",
        Reward.MARGIN: "margin",
    }[kind]
    for seed in range(30):
        env.reset(seed=seed)
        _, reward, _, info = env.step(_top(env))
        assert info.outcome is not None
        assert reward == pytest.approx(float(getattr(info.outcome, field).sum()))


def test_offer_coupon_shows_one_salient_card(env: ShoppingEnv) -> None:
    env.reset(seed=2)
    coupon = int(np.flatnonzero(env.items.needs_claim)[0])
    plain = env.slate_probabilities((coupon,)).click[0]
    _, _, _, info = env.step(OfferCoupon(coupon))
    assert info.probabilities is not None and info.probabilities.click.shape == (1,)
    assert info.probabilities.click[0] > plain


def test_repeated_cards_attract_less(env: ShoppingEnv) -> None:
    for seed in range(50):
        env.reset(seed=seed)
        slate = _top(env).slate
        first = env.slate_probabilities(slate).click
        *_, done, _ = env.step(Recommend(slate))
        if not done:
            assert (env.slate_probabilities(slate).click < first).all()
            return
    pytest.fail("no session survived its first slate")
