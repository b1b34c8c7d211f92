"""Off-policy evaluation: our estimators equal obp's, intervals cover the truth, bad logs fail.

obp 0.5.7 is the reference implementation (installed `--no-deps`; see DESIGN.md). Its
`obp.ope` package imports seaborn for its plots (a dev dependency).
"""

from __future__ import annotations

import doctest
import importlib
import types
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import policy._ope_reward
import policy.item_ctr
import policy.ope
from policy._ope_data import (
    SyntheticSlateLog,
    epsilon_greedy_slate_probability,
    load_obd,
    synthetic_slate_log,
)
from policy._ope_reward import SOLVER, fold_assignment
from policy.epsilon_greedy import EpsilonGreedy
from policy.item_ctr import ItemCTR
from policy.ope import (
    BanditLogs,
    Estimate,
    bootstrap_interval,
    dm,
    dr,
    evaluate,
    fit_reward_model,
    ips,
    sips,
    snips,
)

TOL = 1e-9


def _obp_ope() -> Any:
    # obp is installed with --no-deps (DESIGN.md); its plots need seaborn, a dev dependency.
    return importlib.import_module("obp.ope")


@pytest.fixture(scope="module")
def obp_ope() -> Any:
    return _obp_ope()


@pytest.fixture(scope="module")
def synthetic() -> SyntheticSlateLog:
    return synthetic_slate_log(2000, seed=3)


@pytest.fixture(scope="module")
def obd_case() -> tuple[BanditLogs, np.ndarray, np.ndarray]:
    """The OBD `men` random log, the declared candidate learned on BTS, cross-fitted q-hat."""
    bts = load_obd("bts", "men").head(0.7)
    logs = load_obd("random", "men").logs
    model = ItemCTR.fit(
        bts.action, bts.position, bts.reward, n_actions=bts.n_actions, len_list=bts.len_list
    )
    dist = np.ascontiguousarray(model.action_dist(logs.n_rounds, 0.1))
    return logs, dist, fit_reward_model(logs, n_folds=3, seed=0)


def _obp_values(
    obp_ope: Any, logs: BanditLogs, dist: np.ndarray, q_hat: np.ndarray
) -> dict[str, float]:
    common = {
        "reward": logs.reward,
        "action": logs.action,
        "position": logs.position,
        "pscore": logs.pscore,
        "action_dist": dist,
    }
    return {
        "IPS": obp_ope.InverseProbabilityWeighting().estimate_policy_value(**common),
        "SNIPS": obp_ope.SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(
            **common
        ),
        "DM": obp_ope.DirectMethod().estimate_policy_value(
            action_dist=dist, estimated_rewards_by_reg_model=q_hat, position=logs.position
        ),
        "DR": obp_ope.DoublyRobust().estimate_policy_value(
            **common, estimated_rewards_by_reg_model=q_hat
        ),
    }


def _ours(logs: BanditLogs, dist: np.ndarray, q_hat: np.ndarray) -> dict[str, float]:
    return {
        "IPS": ips(logs, dist),
        "SNIPS": snips(logs, dist),
        "DM": dm(logs, dist, q_hat),
        "DR": dr(logs, dist, q_hat),
    }


def test_estimators_equal_obp_on_the_open_bandit_dataset(
    obp_ope: Any, obd_case: tuple[BanditLogs, np.ndarray, np.ndarray]
) -> None:
    logs, dist, q_hat = obd_case
    ours = _ours(logs, dist, q_hat)
    theirs = _obp_values(obp_ope, logs, dist, q_hat)
    for name, value in theirs.items():
        assert abs(ours[name] - value) <= TOL, (name, ours[name], value)
    # Not a vacuous agreement: the candidate is far from the logging policy.
    assert abs(ours["IPS"] - logs.reward.mean()) > 1e-4


def test_estimators_equal_obp_on_a_synthetic_slate_log(
    obp_ope: Any, synthetic: SyntheticSlateLog
) -> None:
    logs = synthetic.logs
    q_hat = fit_reward_model(logs, n_folds=3, seed=1)
    ours = _ours(logs, synthetic.action_dist, q_hat)
    theirs = _obp_values(obp_ope, logs, synthetic.action_dist, q_hat)
    for name, value in theirs.items():
        assert abs(ours[name] - value) <= TOL, (name, ours[name], value)
    obp_sips = obp_ope.SlateStandardIPS(len_list=logs.len_list).estimate_policy_value(
        slate_id=logs.slate_id,
        reward=logs.reward,
        position=logs.position,
        pscore=logs.slate_pscore,
        evaluation_policy_pscore=synthetic.candidate_slate_pscore,
    )
    # Documented difference: ours is per shown position, obp's per slate (len_list times ours).
    assert abs(sips(logs, synthetic.candidate_slate_pscore) - obp_sips / logs.len_list) <= TOL


def test_evaluate_accepts_obp_bandit_feedback_dicts(
    obd_case: tuple[BanditLogs, np.ndarray, np.ndarray],
) -> None:
    logs, dist, q_hat = obd_case
    feedback = {
        "n_rounds": logs.n_rounds,
        "n_actions": logs.n_actions,
        "reward": logs.reward,
        "action": logs.action,
        "position": logs.position,
        "pscore": logs.pscore,
    }
    got = evaluate(feedback, dist, estimated_rewards=q_hat, n_bootstrap=50)
    assert [e.value for e in got] == pytest.approx(list(_ours(logs, dist, q_hat).values()))


def test_the_logging_policy_evaluated_on_its_own_logs_is_its_mean_reward() -> None:
    rng = np.random.default_rng(5)
    n = 3000
    logs = BanditLogs(
        reward=(rng.random(n) < 0.2).astype(float),
        action=rng.integers(0, 5, n),
        position=rng.integers(0, 2, n),
        pscore=np.full(n, 0.2),
        n_actions=5,
        len_list=2,
    )
    uniform = np.full((n, 5, 2), 0.2)
    for estimate in evaluate(logs, uniform, estimators=["IPS", "SNIPS"], n_bootstrap=100):
        assert estimate.value == pytest.approx(logs.reward.mean(), abs=1e-12)


def test_bootstrap_intervals_cover_the_estimate_and_repeat_with_a_seed(
    synthetic: SyntheticSlateLog,
) -> None:
    kwargs: dict[str, Any] = {
        "candidate_slate_pscore": synthetic.candidate_slate_pscore,
        "n_bootstrap": 300,
    }
    first = evaluate(synthetic.logs, synthetic.action_dist, seed=7, **kwargs)
    again = evaluate(synthetic.logs, synthetic.action_dist, seed=7, **kwargs)
    other = evaluate(synthetic.logs, synthetic.action_dist, seed=8, **kwargs)
    assert [e.name for e in first] == ["IPS", "SNIPS", "DM", "DR", "SIPS"]
    assert first == again
    assert [(e.low, e.high) for e in first] != [(e.low, e.high) for e in other]
    for estimate in first:
        assert isinstance(estimate, Estimate)
        assert estimate.low <= estimate.value <= estimate.high, estimate
        assert estimate.high - estimate.low > 0
    assert first[0].n == synthetic.logs.n_rounds
    assert first[-1].n == synthetic.logs.n_rounds // synthetic.logs.len_list  # slates


def test_intervals_cover_the_known_true_value(synthetic: SyntheticSlateLog) -> None:
    estimates = {
        e.name: e
        for e in evaluate(
            synthetic.logs,
            synthetic.action_dist,
            candidate_slate_pscore=synthetic.candidate_slate_pscore,
        )
    }
    # The candidate is better than the logging policy, by more than the interval noise.
    assert synthetic.true_value > synthetic.logging_value + 0.03
    for name in ("IPS", "SNIPS", "DR", "SIPS"):
        e = estimates[name]
        assert e.low <= synthetic.true_value <= e.high, (name, e, synthetic.true_value)
    assert estimates["IPS"].low > synthetic.logging_value


def test_interval_coverage_over_replications_is_near_nominal() -> None:
    covered = {"IPS": 0, "DR": 0}
    reps = 20
    for seed in range(reps):
        log = synthetic_slate_log(400, seed=100 + seed)
        for e in evaluate(
            log.logs, log.action_dist, estimators=["IPS", "DR"], n_bootstrap=200, seed=seed
        ):
            covered[e.name] += e.low <= log.true_value <= e.high
    # 95% intervals: 20 replications cover at least 16 times unless the intervals are broken
    # (a binomial(20, 0.95) falls to 15 or below with probability < 0.3%).
    assert covered["IPS"] >= 16, covered
    assert covered["DR"] >= 16, covered


def test_bootstrap_interval_of_a_constant_is_that_constant() -> None:
    low, high = bootstrap_interval(np.full(50, 3.0), np.ones(50), n_bootstrap=100, seed=0)
    assert low == pytest.approx(3.0) and high == pytest.approx(3.0)


def test_slate_probability_matches_the_policy_sampler() -> None:
    scores = np.array([0.1, 2.0, -0.5, 1.0, 0.4])
    policy = EpsilonGreedy(epsilon=0.3, top=5)
    rng = np.random.default_rng(0)
    for _ in range(50):
        slate = policy.select(scores, 3, rng)
        assert epsilon_greedy_slate_probability(scores, slate.indices, 0.3) == pytest.approx(
            slate.slate_propensity
        )


# --- the reward model ------------------------------------------------------------------------


def test_cross_fitting_keeps_each_rows_reward_out_of_its_own_prediction(
    synthetic: SyntheticSlateLog,
) -> None:
    logs = synthetic.logs
    q_hat = fit_reward_model(logs, n_folds=3, seed=0)
    row = int(np.flatnonzero(logs.reward == 1)[0])
    flipped = logs.reward.copy()
    flipped[row] = 0.0
    changed = BanditLogs(
        reward=flipped,
        action=logs.action,
        position=logs.position,
        pscore=logs.pscore,
        n_actions=logs.n_actions,
        len_list=logs.len_list,
        context=logs.context,
        slate_id=logs.slate_id,
        slate_pscore=logs.slate_pscore,
    )
    q_changed = fit_reward_model(changed, n_folds=3, seed=0)
    folds = fold_assignment(logs, 3, 0)
    same_fold = folds == folds[row]
    np.testing.assert_array_equal(q_changed[same_fold], q_hat[same_fold])
    assert not np.allclose(q_changed[~same_fold], q_hat[~same_fold])
    # Whole slates share a fold.
    assert all(np.unique(folds[logs.slate_id == s]).size == 1 for s in range(50))


def test_reward_model_predicts_like_the_fitted_logistic_regression(
    synthetic: SyntheticSlateLog,
) -> None:
    logs = synthetic.logs
    q_hat = fit_reward_model(logs, n_folds=2, seed=4, c=0.5)
    folds = fold_assignment(logs, 2, 4)
    train, test = np.flatnonzero(folds == 1), np.flatnonzero(folds == 0)[:20]
    context = logs.context
    assert context is not None

    def features(rows: np.ndarray, a: np.ndarray, p: np.ndarray) -> np.ndarray:
        return np.hstack([context[rows], np.eye(logs.n_actions)[a], np.eye(logs.len_list)[p]])

    model = LogisticRegression(C=0.5, solver=SOLVER, max_iter=200).fit(
        features(train, logs.action[train], logs.position[train]), logs.reward[train]
    )
    for a in (0, 3):
        for p in (0, 2):
            want = model.predict_proba(
                features(test, np.full(test.size, a), np.full(test.size, p))
            )[:, 1]
            np.testing.assert_allclose(q_hat[test, a, p], want, rtol=1e-9)


def test_reward_model_learns_which_actions_get_clicked() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    action = rng.integers(0, 3, n)
    rate = np.array([0.5, 0.2, 0.05])[action]
    logs = BanditLogs(
        reward=(rng.random(n) < rate).astype(float),
        action=action,
        position=np.zeros(n, dtype=int),
        pscore=np.full(n, 1 / 3),
        n_actions=3,
        len_list=1,
    )
    q_hat = fit_reward_model(logs)
    np.testing.assert_allclose(q_hat[:, :, 0].mean(axis=0), [0.5, 0.2, 0.05], atol=0.03)


# --- the Open Bandit Dataset reader ------------------------------------------------------------


def test_load_obd_reads_the_random_log_with_its_uniform_propensities() -> None:
    log = load_obd("random", "all")
    logs = log.logs
    assert (logs.n_rounds, logs.n_actions, logs.len_list) == (10_000, 80, 3)
    np.testing.assert_allclose(logs.pscore, 1 / 80)
    assert int(logs.reward.sum()) == 38
    assert (np.diff(log.timestamps.astype("int64")) >= 0).all()
    assert log.head(0.7).n_rounds == 7000 and log.tail(0.3).n_rounds == 3000
    assert logs.pair_features is not None and logs.pair_features.shape == (10_000, 80, 1)


def test_load_obd_rejects_unknown_campaigns() -> None:
    with pytest.raises(ValueError, match="campaign one of"):
        load_obd("random", "kids")


# --- bad input ------------------------------------------------------------------------------


def _good(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "reward": [0.0, 1.0, 0.0, 1.0],
        "action": [0, 1, 2, 1],
        "position": [0, 1, 0, 1],
        "pscore": [0.5, 0.5, 0.25, 0.5],
        "n_actions": 3,
        "len_list": 2,
    }
    kwargs.update(overrides)
    return kwargs


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"reward": [], "action": [], "position": [], "pscore": []}, "the logs are empty"),
        ({"action": [0, 1, 2]}, r"mismatched lengths: `action` has 3 rows, `reward` 4"),
        ({"position": [0, 1]}, r"mismatched lengths: `position` has 2 rows"),
        ({"pscore": None}, r"logs without propensities: `pscore` is missing"),
        ({"pscore": [0.5, float("nan"), 0.5, 0.5]}, r"logs without propensities.*got nan at row 1"),
        ({"pscore": [0.5, 0.5, 0.0, 0.5]}, r"logs without propensities.*got 0.0 at row 2"),
        ({"pscore": [0.5, 1.5, 0.5, 0.5]}, r"logs without propensities.*got 1.5 at row 1"),
        ({"pscore": [0.5, 0.5]}, r"`pscore` must have shape \(4,\)"),
        ({"action": [0, 3, 1, 1]}, r"`action` out of range: got 3 at row 1; must lie in \[0, 3\)"),
        ({"action": [0, -1, 1, 1]}, r"`action` out of range: got -1"),
        ({"position": [0, 2, 0, 1]}, r"`position` out of range: got 2 at row 1"),
        ({"action": [0, 1.5, 1, 1]}, r"`action` must hold integers"),
        ({"reward": [0.0, float("nan"), 0.0, 1.0]}, r"`reward` must be finite"),
        ({"n_actions": 0}, r"`n_actions` must be an integer >= 1"),
        ({"context": np.ones((3, 2))}, r"`context` must be finite with shape \(4, d\)"),
        ({"slate_pscore": [0.1] * 4}, r"`slate_pscore` needs `slate_id`"),
    ],
)
def test_bad_logs_are_rejected_with_a_clear_message(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        BanditLogs(**_good(**overrides))


def test_logs_without_propensities_are_rejected_at_evaluate() -> None:
    feedback = {k: v for k, v in _good().items() if k != "pscore"}
    with pytest.raises(ValueError, match="logs without propensities"):
        evaluate(feedback, np.full((4, 3, 2), 1 / 3))


@pytest.mark.parametrize(
    ("dist", "match"),
    [
        (np.full((4, 3, 2), 0.3), r"must sum to 1 over actions.*round 0, position 0 sums to 0.9"),
        (np.full((4, 3, 1), 1 / 3), r"must have shape \(n_rounds, n_actions, len_list\)"),
        (np.full((3, 3, 2), 1 / 3), r"= \(4, 3, 2\); got \(3, 3, 2\)"),
        (np.full((4, 3, 2), np.nan), r"must hold probabilities in \[0, 1\]"),
    ],
)
def test_bad_candidate_action_dist_is_rejected(dist: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        evaluate(BanditLogs(**_good()), dist)


def test_other_bad_arguments_are_rejected() -> None:
    logs = BanditLogs(**_good())
    dist = np.full((4, 3, 2), 1 / 3)
    with pytest.raises(ValueError, match=r"`estimators` must name some of"):
        evaluate(logs, dist, estimators=["IPS", "MAGIC"])
    with pytest.raises(ValueError, match="SIPS: the logs need `slate_id`"):
        sips(logs, np.full(4, 0.1))
    with pytest.raises(ValueError, match="SIPS needs `candidate_slate_pscore`"):
        evaluate(logs, dist, estimators=["SIPS"])
    with pytest.raises(ValueError, match=r"`estimated_rewards` must have shape"):
        dm(logs, dist, np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"`n_folds` must be an integer in \[2, 4\]"):
        fit_reward_model(logs, n_folds=5)
    with pytest.raises(ValueError, match="needs 0/1 rewards"):
        fit_reward_model(BanditLogs(**_good(reward=[0.0, 0.5, 1.0, 0.0])))
    with pytest.raises(ValueError, match=r"`n_bootstrap` must be an integer >= 1"):
        evaluate(logs, dist, estimators=["IPS"], n_bootstrap=0)
    with pytest.raises(ValueError, match="SNIPS: the candidate gives probability 0"):
        only_unlogged = np.zeros((4, 3, 2))
        only_unlogged[:, 2, :] = 1.0
        only_unlogged[2, :, 0] = [1.0, 0.0, 0.0]
        snips(logs, only_unlogged)


def test_sips_rejects_slate_propensities_that_vary_within_a_slate(
    synthetic: SyntheticSlateLog,
) -> None:
    bad = synthetic.candidate_slate_pscore.copy()
    bad[1] = bad[0] / 2 if bad[0] > 0 else 0.5
    with pytest.raises(ValueError, match="same on every row of a slate"):
        sips(synthetic.logs, bad)


@pytest.mark.parametrize("module", [policy.ope, policy._ope_reward, policy.item_ctr])
def test_docstring_examples_run(module: types.ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
