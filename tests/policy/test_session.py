"""The session policy: learning in the user-choice model, propensities, snapshots, bad input."""

from __future__ import annotations

import doctest
import json
from collections.abc import Callable

import numpy as np
import pytest

from policy import session as session_module
from policy.session import (
    N_ACTIONS,
    SESSION_STATE_NAMES,
    STATE_WIDTH,
    DQNConfig,
    DQNPolicy,
    RandomSessionPolicy,
    RulesSessionPolicy,
    SessionAction,
    SessionPolicy,
    SessionRunner,
    TabularQPolicy,
    Transitions,
    evaluate_policy,
    fitted_q_iteration,
    log_sessions,
    policy_from_snapshot,
    train_dqn,
    train_tabular_q,
)
from policy.world import ShoppingEnv, sample_items, sample_shoppers

EVAL_SESSIONS = 150
EVAL_SEED = 10_000


@pytest.fixture(scope="module")
def env() -> ShoppingEnv:
    rng = np.random.default_rng(3)
    return ShoppingEnv(sample_items(120, 6, 12, rng), sample_shoppers(300, 6, 12, rng))


@pytest.fixture(scope="module")
def dqn(env: ShoppingEnv) -> DQNPolicy:
    policy, report = train_dqn(env, 200, seed=7, config=DQNConfig(learning_starts=128))
    assert report.sessions == 200 and report.steps > 200
    return policy


@pytest.fixture(scope="module")
def tabular(env: ShoppingEnv) -> TabularQPolicy:
    return train_tabular_q(env, 200, seed=7)[0]


@pytest.fixture(scope="module")
def random_returns(env: ShoppingEnv) -> np.ndarray:
    return evaluate_policy(env, RandomSessionPolicy(), EVAL_SESSIONS, seed=EVAL_SEED, explore=True)


@pytest.fixture(scope="module")
def states(env: ShoppingEnv) -> np.ndarray:
    """Raw states met along exploring sessions: varied turns, streaks, clicks."""
    runner = SessionRunner(env)
    rng = np.random.default_rng(0)
    runs = [runner.run(RulesSessionPolicy(epsilon=0.5), seed=i, rng=rng) for i in range(40)]
    return np.concatenate([r.states for r in runs])


def test_the_dqn_earns_clearly_more_per_session_than_random(
    env: ShoppingEnv, dqn: DQNPolicy, random_returns: np.ndarray
) -> None:
    ours = evaluate_policy(env, dqn, EVAL_SESSIONS, seed=EVAL_SEED)
    # Same shoppers and intents for both (common seeds): the paired gain is what counts.
    gain = ours - random_returns
    low = gain.mean() - 1.96 * gain.std(ddof=1) / np.sqrt(gain.size)
    assert ours.mean() >= 1.5 * random_returns.mean(), (ours.mean(), random_returns.mean())
    assert low > 0.2, (gain.mean(), low)


def test_tabular_q_learning_beats_random_too(
    env: ShoppingEnv, tabular: TabularQPolicy, random_returns: np.ndarray
) -> None:
    ours = evaluate_policy(env, tabular, EVAL_SESSIONS, seed=EVAL_SEED)
    assert ours.mean() >= 1.5 * random_returns.mean(), (ours.mean(), random_returns.mean())


def test_learned_policies_never_hand_a_shopper_off_for_nothing(
    env: ShoppingEnv, dqn: DQNPolicy, tabular: TabularQPolicy, states: np.ndarray
) -> None:
    # HANDOFF ends the session with no reward; every learned policy should have found that out.
    for policy in (dqn, tabular):
        chosen = {policy.act(s).action for s in states}
        assert SessionAction.HANDOFF not in chosen, policy.name


def test_rules_mirror_recommends_every_turn(env: ShoppingEnv, states: np.ndarray) -> None:
    rules = RulesSessionPolicy()
    assert {rules.act(s).action for s in states} == {SessionAction.RECOMMEND}
    run = SessionRunner(env).run(rules, seed=1)
    assert (run.actions == SessionAction.RECOMMEND).all()
    assert run.total == pytest.approx(run.rewards.sum())


def _policies(dqn: DQNPolicy, tabular: TabularQPolicy) -> list[SessionPolicy]:
    return [RandomSessionPolicy(), RulesSessionPolicy(epsilon=0.2), tabular, dqn]


def test_snapshot_round_trip_through_json_gives_identical_actions(
    env: ShoppingEnv, dqn: DQNPolicy, tabular: TabularQPolicy, states: np.ndarray
) -> None:
    for policy in (RulesSessionPolicy(epsilon=0.2), tabular, dqn):
        snap = json.loads(json.dumps(policy.to_snapshot()))
        again = policy_from_snapshot(snap)
        assert type(again) is type(policy)
        assert again.version == policy.version
        assert again.epsilon == policy.epsilon
        for s in states:
            assert again.act(s).action == policy.act(s).action
            np.testing.assert_array_equal(
                again.action_probabilities(s), policy.action_probabilities(s)
            )
        # Exploring draws agree too: same rng, same actions and propensities.
        a, b = np.random.default_rng(4), np.random.default_rng(4)
        assert [again.act(s, rng=a) for s in states] == [policy.act(s, rng=b) for s in states]
    assert isinstance(
        policy_from_snapshot(RandomSessionPolicy().to_snapshot()), RandomSessionPolicy
    )


def test_versions_track_the_parameters(env: ShoppingEnv, dqn: DQNPolicy) -> None:
    other, _ = train_dqn(env, 40, seed=8, config=DQNConfig(learning_starts=32))
    assert dqn.version.startswith("dqn-1:") and other.version != dqn.version
    same = DQNPolicy(dqn.state_dict(), hidden=dqn.hidden)
    assert same.version == dqn.version


def test_exploring_mode_propensities_sum_to_one_and_match_the_draws(
    env: ShoppingEnv, dqn: DQNPolicy, tabular: TabularQPolicy, states: np.ndarray
) -> None:
    rng = np.random.default_rng(11)
    for policy in _policies(dqn, tabular):
        for s in states[:30]:
            choice = policy.act(s, rng=rng)
            probs = np.array(choice.probabilities)
            assert probs.shape == (N_ACTIONS,)
            assert probs.sum() == pytest.approx(1.0, abs=1e-12)
            assert (probs >= 0).all()
            assert choice.propensity == probs[choice.action] > 0
        # The logged propensity is the true frequency: 2,000 draws in one state (sd <= 0.012).
        s = states[5]
        draws = [policy.act(s, rng=rng) for _ in range(2000)]
        freq = np.bincount([c.action for c in draws], minlength=N_ACTIONS) / len(draws)
        np.testing.assert_allclose(freq, draws[0].probabilities, atol=0.045)


def test_greedy_mode_is_deterministic_with_propensity_one(
    dqn: DQNPolicy, tabular: TabularQPolicy, states: np.ndarray
) -> None:
    for policy in (dqn, tabular, RulesSessionPolicy()):
        choice = policy.act(states[3])
        assert choice.propensity == 1.0
        assert choice.probabilities[choice.action] == 1.0
        assert policy.act(states[3]) == choice


def test_coupon_is_never_offered_when_no_card_needs_a_claim(
    dqn: DQNPolicy, tabular: TabularQPolicy, states: np.ndarray
) -> None:
    s = states[0].copy()
    s[SESSION_STATE_NAMES.index("coupon_available")] = 0.0
    rng = np.random.default_rng(0)
    for policy in (RandomSessionPolicy(), RulesSessionPolicy(epsilon=1.0), tabular, dqn):
        choice = policy.act(s, rng=rng)
        assert choice.probabilities[SessionAction.OFFER_COUPON] == 0.0
        assert all(policy.act(s, rng=rng).action != SessionAction.OFFER_COUPON for _ in range(200))


def test_logged_sessions_carry_the_behaviour_policy_propensities(env: ShoppingEnv) -> None:
    behaviour = RulesSessionPolicy(epsilon=0.3)
    data, props = log_sessions(env, behaviour, 30, seed=5)
    assert data.sessions == 30 and int(data.done.sum()) == 30
    expected = [
        behaviour.action_probabilities(s)[a] for s, a in zip(data.states, data.actions, strict=True)
    ]
    np.testing.assert_allclose(props, expected)


def test_fitted_q_from_logs_beats_random_and_stays_in_the_logged_actions(
    env: ShoppingEnv, random_returns: np.ndarray
) -> None:
    data, _ = log_sessions(env, RulesSessionPolicy(epsilon=0.4), 200, seed=20_000)
    fq, report = fitted_q_iteration(data, iterations=10, epochs=2, seed=1)
    assert report.steps == len(data.actions)
    assert set(fq.allowed) == {int(a) for a in np.unique(data.actions)}
    ours = evaluate_policy(env, fq, EVAL_SESSIONS, seed=EVAL_SEED)
    assert ours.mean() >= 1.5 * random_returns.mean(), (ours.mean(), random_returns.mean())


def test_the_module_example_runs() -> None:
    result = doctest.testmod(session_module)
    assert result.attempted >= 5 and result.failed == 0


# Bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda s: s[:11], r"shape \(14,\).*got shape \(11,\).*SessionRunner.state"),
        (lambda s: np.stack([s, s]), r"shape \(14,\).*got shape \(2, 14\)"),
        (lambda s: np.where(np.arange(STATE_WIDTH) == 4, np.nan, s), r"finite.*index 4 \(clicks\)"),
        (lambda s: np.where(np.arange(STATE_WIDTH) == 0, np.inf, s), r"finite.*turn_fraction"),
        (lambda s: ["a"] * STATE_WIDTH, r"`state` must be numeric"),
    ],
)
def test_bad_states_are_refused_with_the_column_named(
    dqn: DQNPolicy,
    tabular: TabularQPolicy,
    states: np.ndarray,
    make: Callable[[np.ndarray], object],
    match: str,
) -> None:
    bad = make(states[0])
    for policy in (dqn, tabular, RulesSessionPolicy()):
        with pytest.raises(ValueError, match=match):
            policy.act(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=match):
        RandomSessionPolicy().act(bad, rng=np.random.default_rng(0))  # type: ignore[arg-type]


def test_random_policy_has_no_greedy_mode(states: np.ndarray) -> None:
    with pytest.raises(ValueError, match="no greedy mode; pass rng="):
        RandomSessionPolicy().act(states[0])


def test_corrupt_or_foreign_snapshots_are_refused(dqn: DQNPolicy, tabular: TabularQPolicy) -> None:
    snap = dqn.to_snapshot()
    with pytest.raises(ValueError, match="holds a 'dqn' policy, not 'tabular_q'"):
        TabularQPolicy.from_snapshot(snap)
    with pytest.raises(ValueError, match="schema 2 is not supported"):
        policy_from_snapshot({**snap, "schema": 2})
    with pytest.raises(ValueError, match="unknown policy kind 'sarsa'"):
        policy_from_snapshot({**snap, "kind": "sarsa"})
    with pytest.raises(ValueError, match="expected a dict with format"):
        policy_from_snapshot([1, 2])
    with pytest.raises(ValueError, match="trained on state columns"):
        policy_from_snapshot({**snap, "state_names": ["turn_fraction"]})
    with pytest.raises(ValueError, match="`state_dict` cannot be read"):
        policy_from_snapshot({**snap, "state_dict": "bm90IGEgdGVuc29y"})
    table = tabular.to_snapshot()
    rows = table["q"]
    assert isinstance(rows, list)
    q = [list(row) for row in rows]
    q[0][0] += 1.0
    with pytest.raises(ValueError, match="hashes to .* the snapshot is corrupt"):
        policy_from_snapshot({**table, "q": q})
    with pytest.raises(ValueError, match=r"`q` must be finite with shape \(576, 4\)"):
        policy_from_snapshot({**table, "q": [[0.0] * 4]})
    small = DQNPolicy(dqn.state_dict(), hidden=dqn.hidden).to_snapshot()
    with pytest.raises(ValueError, match=r"does not fit hidden=\(8,\)"):
        policy_from_snapshot({**small, "hidden": [8]})


def test_bad_hyper_parameters_are_refused(env: ShoppingEnv) -> None:
    with pytest.raises(ValueError, match="`epsilon` must lie in \\[0, 1\\]; got 1.5"):
        RulesSessionPolicy(epsilon=1.5)
    with pytest.raises(ValueError, match="`sessions` must be >= 1; got 0"):
        train_dqn(env, 0)
    with pytest.raises(ValueError, match="`sessions` must be >= 1; got 0"):
        train_tabular_q(env, 0)
    with pytest.raises(ValueError, match="need lr > 0, 0 <= gamma <= 1"):
        DQNConfig(gamma=1.5)
    with pytest.raises(ValueError, match="`hidden` must be positive ints"):
        DQNConfig(hidden=())
    with pytest.raises(ValueError, match="n_step must be all >= 1"):
        DQNConfig(train_every=0)
    with pytest.raises(ValueError, match="needs at least one transition"):
        Transitions(
            states=np.zeros((0, STATE_WIDTH)),
            actions=np.zeros(0, dtype=np.int64),
            rewards=np.zeros(0),
            next_states=np.zeros((0, STATE_WIDTH)),
            done=np.zeros(0, dtype=np.bool_),
            sessions=0,
        )
    with pytest.raises(ValueError, match="evaluate_policy: `sessions` must be >= 1; got 0"):
        evaluate_policy(env, RulesSessionPolicy(), 0)
