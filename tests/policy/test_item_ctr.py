"""The OBD candidate learner: position-debiased item click rates served epsilon-greedy."""

from __future__ import annotations

import numpy as np
import pytest

from policy._ope_data import load_obd
from policy.epsilon_greedy import EpsilonGreedy
from policy.item_ctr import ItemCTR


def _position_based_log(n: int, seed: int) -> tuple[np.ndarray, ...]:
    """Rows under theta * kappa clicks; item 3 is best and mostly shown at the bottom."""
    rng = np.random.default_rng(seed)
    theta = np.array([0.10, 0.05, 0.20, 0.30, 0.02])
    kappa = np.array([1.0, 0.5, 0.25])
    action = rng.integers(0, 5, n)
    # Item 3 mostly lands at the bottom position, so raw click rates undervalue it.
    position = np.where(action == 3, rng.choice(3, n, p=[0.1, 0.1, 0.8]), rng.integers(0, 3, n))
    reward = (rng.random(n) < theta[action] * kappa[position]).astype(float)
    return action, position, reward, theta, kappa


def test_fit_recovers_item_rates_and_position_bias() -> None:
    action, position, reward, theta, kappa = _position_based_log(60_000, seed=0)
    model = ItemCTR.fit(action, position, reward, n_actions=5, len_list=3, prior_strength=10.0)
    np.testing.assert_allclose(model.kappa, kappa, rtol=0.15)
    np.testing.assert_allclose(model.theta, theta, rtol=0.15, atol=0.005)
    assert int(np.argmax(model.theta)) == 3
    # The raw per-item click rate would have ranked item 2 above item 3.
    raw = np.bincount(action, weights=reward) / np.bincount(action)
    assert raw[2] > raw[3]
    assert model.n_train == 60_000


def test_sparse_items_shrink_to_the_overall_rate() -> None:
    action = np.array([0] * 1000 + [1])
    reward = np.zeros(1001)
    reward[:10] = 1.0
    reward[-1] = 1.0  # one lucky click on one impression
    model = ItemCTR.fit(action, np.zeros(1001, dtype=int), reward, n_actions=3, len_list=1)
    assert model.theta[1] < 0.02  # not 1.0
    assert model.theta[2] == pytest.approx(11 / 1001)  # never shown: the prior mean


def test_action_dist_is_epsilon_greedy_with_full_support() -> None:
    action, position, reward, _, _ = _position_based_log(20_000, seed=1)
    model = ItemCTR.fit(action, position, reward, n_actions=5, len_list=3)
    dist = model.action_dist(n_rounds=4, epsilon=0.1)
    assert dist.shape == (4, 5, 3)
    np.testing.assert_allclose(dist.sum(axis=1), 1.0)
    assert dist.min() > 0.0  # full support at every position
    assert dist[0, :, 0].min() == pytest.approx(0.1 / 5)
    expected = EpsilonGreedy(epsilon=0.1, top=5).position_probabilities(model.theta, 3).T
    np.testing.assert_array_equal(dist[2], expected)
    greedy = model.action_dist(1, 0.0)[0]
    assert list(np.argmax(greedy, axis=0)) == list(np.argsort(-model.theta)[:3])
    # Exploration costs clicks under the model itself.
    assert model.value(0.0) > model.value(0.1) > model.value(1.0)


def test_learned_on_the_obd_bts_log_it_prefers_items_bts_saw_clicked() -> None:
    train = load_obd("bts", "women").head(0.7)
    model = ItemCTR.fit(train.action, train.position, train.reward, n_actions=46, len_list=3)
    clicks = np.bincount(train.action, weights=train.reward, minlength=46)
    top = np.argsort(-model.theta)[:3]
    assert clicks[top].min() >= 1
    assert model.theta[top].min() > np.median(model.theta)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"action": []}, "must be non-empty with one shape"),
        ({"action": [0, 1]}, "must be non-empty with one shape"),
        ({"action": [0, 5, 1]}, r"`action` must be integers in \[0, 3\)"),
        ({"position": [0, 0, 1]}, r"`position` must be integers in \[0, 1\)"),
        ({"reward": [0.0, 2.0, 1.0]}, r"`reward` must be clicks in \[0, 1\]"),
        ({"prior_strength": 0.0}, "`prior_strength` must be > 0"),
    ],
)
def test_fit_rejects_bad_input(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {
        "action": [0, 1, 2],
        "position": [0, 0, 0],
        "reward": [0.0, 1.0, 0.0],
        "n_actions": 3,
        "len_list": 1,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        ItemCTR.fit(**args)  # type: ignore[arg-type]


def test_action_dist_rejects_bad_epsilon() -> None:
    model = ItemCTR.fit([0, 1], [0, 0], [1.0, 0.0], n_actions=2, len_list=1)
    with pytest.raises(ValueError, match=r"`epsilon` must lie in \[0, 1\]"):
        model.action_dist(3, 1.5)
    with pytest.raises(ValueError, match="`n_rounds` must be an integer >= 1"):
        model.action_dist(0, 0.1)
