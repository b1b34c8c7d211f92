"""Every slate policy, contextual or not: logged propensities, reproducibility, snapshots, errors.

`POLICIES` lists every `Policy` implementation (the contextual ones already taught a little), so
a new policy added there is tested for free: its propensities obey the sum rules, sampled
selection frequencies match its logged marginals, a seeded generator reproduces its slates, and
bad input raises with the reason. Contextual policies (`ContextualPolicy`) also get the snapshot
round trip, `fold`'s new version and their feature checks.
"""

from __future__ import annotations

import doctest
import json
from collections import Counter
from typing import Any, TypeVar

import numpy as np
import pytest

import policy.linear
from policy.base import ContextualPolicy, Policy, Slate
from policy.epsilon_greedy import EpsilonGreedy, Greedy, UniformRandom
from policy.linear import LinearThompson, LinUCB, LogisticThompson, policy_from_snapshot

Z = 4.5  # |z| bound per check: with a few hundred checks, a false alarm is ~1e-3 likely
D = 4
SCORES = np.array([0.3, 0.9, -1.0, 0.5, 0.9, 0.1])
FEATURES = np.random.default_rng(0).normal(size=(6, D))
L = TypeVar("L", LinUCB, LinearThompson, LogisticThompson)


def _taught(pol: L) -> L:
    """The policy after one batch in which feature 0 pays: a non-trivial posterior."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, D))
    return pol.fold(x, rng.integers(0, 3, 40), (x[:, 0] > 0).astype(float))


POLICIES: list[Policy] = [
    EpsilonGreedy(epsilon=0.3, top=5),
    Greedy(top=5),
    UniformRandom(),
    _taught(LinUCB(D, alpha=0.5, epsilon=0.2, top=5)),
    _taught(LinUCB(D, alpha=1.0, epsilon=0.0)),
    _taught(LinearThompson(D, scale=0.7, epsilon=0.1, top=5, propensity_samples=256)),
    _taught(LinearThompson(D, scale=0.0, epsilon=0.3, propensity_samples=64)),
    _taught(LogisticThompson(D, scale=1.0, epsilon=0.1, top=5, propensity_samples=256)),
]
IDS = [f"{p.name}-{p.version}" for p in POLICIES]
CONTEXTUAL = [p for p in POLICIES if isinstance(p, ContextualPolicy)]
CONTEXTUAL_IDS = [f"{p.name}-{p.version}" for p in CONTEXTUAL]


def choose(pol: Policy, scores: Any, k: Any, rng: Any, features: Any = FEATURES) -> Slate:
    """`select` with the features when the policy takes them."""
    if isinstance(pol, ContextualPolicy):
        return pol.select(scores, k, rng, features=features)
    return pol.select(scores, k, rng)


def marginals(pol: Policy, scores: np.ndarray, k: int, features: np.ndarray = FEATURES) -> Any:
    """P(candidate at position), shape (k, n): exact, or a large-sample estimate for Thompson."""
    if isinstance(pol, LinearThompson):
        return pol.position_probabilities(
            scores, k, features=features, rng=np.random.default_rng(2), samples=200_000
        )
    if isinstance(pol, LinUCB):
        return pol.position_probabilities(scores, k, features=features)
    return pol.position_probabilities(scores, k)  # type: ignore[attr-defined]


def is_estimated(pol: Policy) -> bool:
    return isinstance(pol, LinearThompson) and pol.scale > 0


def sd_bound(n: int, p: float) -> float:
    return Z * float(np.sqrt(n * p * (1 - p))) + 1e-9


# --- every Policy -----------------------------------------------------------------------------


@pytest.mark.parametrize("pol", POLICIES, ids=IDS)
def test_propensity_sum_rules(pol: Policy) -> None:
    """Rows of the marginal table sum to 1, columns to at most 1; a slate's conditionals
    multiply to its slate propensity; every logged probability is in (0, 1]."""
    table = marginals(pol, SCORES, 3)
    np.testing.assert_allclose(table.sum(axis=1), 1.0, atol=1e-9)
    assert (table.sum(axis=0) <= 1.0 + 1e-9).all()
    rng = np.random.default_rng(3)
    for _ in range(200):
        slate = choose(pol, SCORES, 3, rng)
        assert len(slate) == 3
        assert all(0.0 < p <= 1.0 + 1e-12 for p in (*slate.propensities, *slate.conditional))
        assert slate.slate_propensity == pytest.approx(float(np.prod(slate.conditional)))
        assert slate.slate_propensity <= min(slate.propensities) + 1e-12
        if not is_estimated(pol):
            for j, c in enumerate(slate.indices):
                assert slate.propensities[j] == pytest.approx(table[j, c], abs=1e-12)


@pytest.mark.parametrize("pol", POLICIES, ids=IDS)
def test_selection_frequencies_match_logged_marginals(pol: Policy) -> None:
    """Empirical P(candidate at position) and P(slate) against what the logs claim."""
    n_draws, k = 6_000, 3
    rng = np.random.default_rng(4)
    table = marginals(pol, SCORES, k)
    counts = np.zeros_like(table)
    logged: dict[tuple[int, int], list[float]] = {}
    slate_counts: Counter[tuple[int, ...]] = Counter()
    slate_logged: dict[tuple[int, ...], list[float]] = {}
    for _ in range(n_draws):
        slate = choose(pol, SCORES, k, rng)
        for j, (c, p) in enumerate(zip(slate.indices, slate.propensities, strict=True)):
            counts[j, c] += 1
            logged.setdefault((j, c), []).append(p)
        slate_counts[slate.indices] += 1
        slate_logged.setdefault(slate.indices, []).append(slate.slate_propensity)
    # Monte Carlo logs: per-log error sqrt(p(1-p)/S), plus at most 1/(S+1) from the draw that
    # chose the slate; averaged over many logs only that bias remains.
    slack = 2.0 / (pol.propensity_samples + 1) if is_estimated(pol) else 1e-12  # type: ignore[attr-defined]
    for (j, c), p in np.ndenumerate(table):
        assert abs(counts[j, c] - n_draws * p) <= sd_bound(n_draws, p) + 0.002 * n_draws, (j, c)
        if (j, c) in logged:
            mean_logged = float(np.mean(logged[(j, c)]))
            assert abs(mean_logged - p) <= slack + 0.01 * is_estimated(pol), (j, c, mean_logged)
    for key, count in slate_counts.items():
        p = float(np.mean(slate_logged[key]))
        assert abs(count - n_draws * p) <= sd_bound(n_draws, p) + 0.004 * n_draws, key


@pytest.mark.parametrize("pol", POLICIES, ids=IDS)
def test_a_seeded_generator_reproduces_the_slates(pol: Policy) -> None:
    def run(seed: int) -> list[Slate]:
        rng = np.random.default_rng(seed)
        return [choose(pol, SCORES, 3, rng) for _ in range(30)]

    assert run(5) == run(5)
    if pol.name not in {"greedy"} and getattr(pol, "epsilon", 1.0) > 0:
        assert run(5) != run(6)


@pytest.mark.parametrize("pol", POLICIES, ids=IDS)
def test_exploration_stays_among_the_top_candidates_passed_in(pol: Policy) -> None:
    rng = np.random.default_rng(6)
    scores = rng.normal(size=40)
    features = rng.normal(size=(40, D))
    top = getattr(pol, "top", None) or 40
    eligible = set(np.argsort(-scores, kind="stable")[:top].tolist())
    shown: set[int] = set()
    for _ in range(1500):
        shown.update(choose(pol, scores, 3, rng, features).indices)
    assert shown <= eligible
    if pol.name == "uniform_random" or getattr(pol, "epsilon", 0.0) > 0:
        assert shown == eligible  # full support: every eligible candidate gets shown


@pytest.mark.parametrize("pol", POLICIES, ids=IDS)
@pytest.mark.parametrize(
    ("scores", "k", "message"),
    [
        (np.array([]), 3, r"`scores` must hold at least one candidate; got none"),
        (np.array([0.1, np.nan, 0.2]), 1, r"`scores` must be finite; got nan at index 1"),
        (np.zeros((2, 3)), 1, r"`scores` must have shape \(n,\); got \(2, 3\)"),
        (np.zeros(3), 0, r"`k` must be >= 1; got 0"),
    ],
)
def test_bad_select_input_raises_with_the_reason(
    pol: Policy, scores: np.ndarray, k: int, message: str
) -> None:
    features = np.zeros((max(scores.shape[0], 1), D))
    with pytest.raises(ValueError, match=f"{type(pol).__name__}: {message}"):
        choose(pol, scores, k, np.random.default_rng(7), features)


# --- contextual policies ------------------------------------------------------------------


@pytest.mark.parametrize("pol", CONTEXTUAL, ids=CONTEXTUAL_IDS)
def test_snapshot_round_trip_through_json_gives_identical_choices(pol: ContextualPolicy) -> None:
    snapshot = json.loads(json.dumps(pol.to_snapshot()))
    again = type(pol).from_snapshot(snapshot)  # type: ignore[attr-defined]
    assert again.version == pol.version and again.name == pol.name
    assert policy_from_snapshot(snapshot).version == pol.version
    a, b = np.random.default_rng(8), np.random.default_rng(8)
    for _ in range(20):
        assert again.select(SCORES, 3, a, features=FEATURES) == pol.select(
            SCORES, 3, b, features=FEATURES
        )


@pytest.mark.parametrize("pol", CONTEXTUAL, ids=CONTEXTUAL_IDS)
def test_a_tampered_or_foreign_snapshot_is_refused(pol: ContextualPolicy) -> None:
    cls: Any = type(pol)
    snapshot = pol.to_snapshot()
    edited = {**snapshot, "params": {**snapshot["params"], "epsilon": 0.5}}
    with pytest.raises(ValueError, match=r"does not match its contents"):
        cls.from_snapshot(edited)
    other = LinearThompson if isinstance(pol, LinUCB) else LinUCB
    with pytest.raises(ValueError, match=rf"snapshot is for policy '{pol.name}'"):
        other.from_snapshot(snapshot)
    with pytest.raises(ValueError, match=r"snapshot has no `gram` field"):
        cls.from_snapshot({k: v for k, v in snapshot.items() if k != "gram"})
    with pytest.raises(ValueError, match=r"`target` must be <f8 of shape \[4\]"):
        cls.from_snapshot({**snapshot, "target": {**snapshot["target"], "shape": [5]}})
    with pytest.raises(ValueError, match=r"unknown policy 'nope'"):
        policy_from_snapshot({**snapshot, "policy": "nope"})


@pytest.mark.parametrize("pol", CONTEXTUAL, ids=CONTEXTUAL_IDS)
def test_fold_returns_a_new_version_and_leaves_the_serving_policy_alone(
    pol: ContextualPolicy,
) -> None:
    before = pol.to_snapshot()
    x = np.ones((2, D))
    new = pol.fold(x, [0, 1], [1.0, 0.0])
    assert new is not pol and new.version != pol.version
    assert pol.to_snapshot() == before  # the old policy still serves unchanged
    assert new.n_observations == pol.n_observations + 2  # type: ignore[attr-defined]
    assert pol.fold(np.zeros((0, D)), [], []) is pol  # an empty batch changes nothing
    assert pol.fold(x, [0, 1], [1.0, 0.0]).version == new.version  # deterministic


@pytest.mark.parametrize("family", [LinUCB, LinearThompson, LogisticThompson])
def test_learning_moves_the_slate_to_the_rewarded_candidates(family: Any) -> None:
    """Feedback that pays for feature 0 makes the policy show feature-0 candidates first."""
    rng = np.random.default_rng(9)
    pol = family(3, epsilon=0.05)
    features = np.eye(3)[[1, 2, 1, 2, 2, 0]]  # only row 5 has feature 0
    scores = np.zeros(6)
    first = Counter(pol.select(scores, 2, rng, features=features).indices[0] for _ in range(300))
    assert first[5] < 200
    for _ in range(5):
        shown = rng.integers(0, 3, 200)
        x = np.eye(3)[shown]
        pol = pol.fold(x, np.zeros(200, dtype=int), (shown == 0).astype(float))
    first = Counter(pol.select(scores, 2, rng, features=features).indices[0] for _ in range(300))
    assert first[5] > 270
    assert pol.mean[0] > pol.mean[1] + 0.5 and pol.mean[0] > pol.mean[2] + 0.5


def test_logistic_thompson_recovers_a_position_biased_click_model() -> None:
    """Clicks drawn as e_j sigma(x^T theta): the posterior mode lands on theta and narrows."""
    rng = np.random.default_rng(14)
    theta = np.array([-1.0, 2.0, -0.5])
    exam = (1.0, 0.6, 0.5)
    pol = LogisticThompson(3, examination=exam)
    for _ in range(10):
        x = np.column_stack([np.ones(600), rng.normal(size=(600, 2))])
        pos = rng.integers(0, 3, 600)
        p_click = np.asarray(exam)[pos] / (1.0 + np.exp(-x @ theta))
        pol = pol.fold(x, pos, (rng.random(600) < p_click).astype(float))
    np.testing.assert_allclose(pol.mean, theta, atol=0.15)
    spread = np.sqrt(np.diag(np.linalg.inv(pol.gram)))  # type: ignore[arg-type]
    assert (spread < 0.1).all()
    with pytest.raises(
        ValueError, match=r"`rewards` must be click indicators in \[0, 1\]; got 2.0"
    ):
        pol.fold(np.ones((1, 3)), [0], [2.0])
    with pytest.raises(ValueError, match=r"`examination` holds probabilities, each in \(0, 1\]"):
        LogisticThompson(3, examination=(1.0, 1.5))


def test_thompson_without_spread_has_the_exact_epsilon_greedy_propensities() -> None:
    """scale=0: the ranking is deterministic, so the Monte Carlo estimates are exact."""
    pol = _taught(LinearThompson(D, scale=0.0, epsilon=0.25, top=5))
    ucb = _taught(LinUCB(D, alpha=0.0, epsilon=0.25, top=5))
    assert ucb.mean.tolist() == pol.mean.tolist()
    rng = np.random.default_rng(10)
    exact = ucb.position_probabilities(SCORES, 3, features=FEATURES)
    eligible = np.argsort(-SCORES, kind="stable")[:5]
    ranking = eligible[np.argsort(-ucb.indices(FEATURES[eligible]), kind="stable")].tolist()
    for _ in range(100):
        slate = pol.select(SCORES, 3, rng, features=FEATURES)
        want = [exact[j, c] for j, c in enumerate(slate.indices)]
        np.testing.assert_allclose(slate.propensities, want, atol=1e-12)
        best = [next(r for r in ranking if r not in slate.indices[:j]) for j in range(3)]
        conds = [0.75 * (c == best[j]) + 0.25 / (5 - j) for j, c in enumerate(slate.indices)]
        np.testing.assert_allclose(slate.conditional, conds, atol=1e-12)


def test_linucb_ranks_by_the_optimistic_index() -> None:
    pol = _taught(LinUCB(D, alpha=0.8, epsilon=0.0))
    index = pol.indices(FEATURES)
    slate = pol.select(SCORES, 3, np.random.default_rng(11), features=FEATURES)
    assert slate.indices == tuple(np.argsort(-index, kind="stable")[:3].tolist())
    assert slate.propensities == (1.0, 1.0, 1.0)


@pytest.mark.parametrize("family", [LinUCB, LinearThompson])
def test_k_larger_than_the_candidates_raises_unless_short_slates_are_allowed(
    family: Any,
) -> None:
    pol = family(D, top=4)
    rng = np.random.default_rng(12)
    with pytest.raises(ValueError, match=r"`k`=7 is larger than the 3 eligible candidates"):
        pol.select(np.zeros(3), 7, rng, features=np.zeros((3, D)))
    with pytest.raises(ValueError, match=r"`k`=5 is larger than the 4 eligible candidates"):
        pol.select(np.zeros(8), 5, rng, features=np.zeros((8, D)))
    short = pol.select(np.zeros(2), 3, rng, features=np.zeros((2, D)), allow_short=True)
    assert sorted(short.indices) == [0, 1]
    assert len(short.propensities) == 2 and short.slate_propensity > 0


@pytest.mark.parametrize("family", [LinUCB, LinearThompson, LogisticThompson])
@pytest.mark.parametrize(
    ("features", "message"),
    [
        (None, r"`features` is required: pass the per-candidate context, shape \(n, 4\)"),
        (np.zeros((3, 5)), r"`features` has 5 columns but the model was built for n_features=4"),
        (np.zeros((2, 4)), r"`features` has 2 rows but there are 3 candidates"),
        (np.zeros(4), r"`features` must have shape \(n, d\); got \(4,\)"),
        (
            np.array([[0.0] * 4, [0.0, np.nan, 0.0, 0.0], [0.0] * 4]),
            r"`features` must be finite; got nan at row 1, column 1",
        ),
    ],
)
def test_bad_features_raise_with_the_reason(family: Any, features: Any, message: str) -> None:
    with pytest.raises(ValueError, match=f"{family.__name__}: {message}"):
        family(D).select(np.zeros(3), 2, np.random.default_rng(13), features=features)


@pytest.mark.parametrize("family", [LinUCB, LinearThompson, LogisticThompson])
@pytest.mark.parametrize(
    ("positions", "rewards", "message"),
    [
        ([0, -1], [1.0, 0.0], r"`positions` must be integers >= 0; got -1.0 at index 1"),
        ([0, 1.5], [1.0, 0.0], r"`positions` must be integers >= 0; got 1.5 at index 1"),
        ([0, 1], [1.0, np.nan], r"`rewards` must be finite; got nan at index 1"),
        ([0], [1.0, 0.0], r"got 1 positions for 2 rewards"),
        ([0, 3], [1.0, 0.0], r"position 3 has no examination weight"),
    ],
)
def test_bad_feedback_raises_with_the_reason(
    family: Any, positions: Any, rewards: Any, message: str
) -> None:
    pol = family(D, examination=(1.0, 0.7, 0.5))
    with pytest.raises(ValueError, match=f"{family.__name__}: {message}"):
        pol.fold(np.zeros((2, D)), positions, rewards)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: LinUCB(0), r"LinUCB: `n_features` must be an integer >= 1; got 0"),
        (lambda: LinUCB(3, epsilon=1.5), r"LinUCB: `epsilon` must lie in \[0, 1\]; got 1.5"),
        (lambda: LinUCB(3, alpha=-1.0), r"LinUCB: `alpha` must be finite and >= 0; got -1.0"),
        (lambda: LinUCB(3, ridge=0.0), r"LinUCB: `ridge` must be finite and > 0; got 0.0"),
        (lambda: LinUCB(3, top=0), r"LinUCB: `top` must be >= 1; got 0"),
        (
            lambda: LinearThompson(3, propensity_samples=0),
            r"LinearThompson: `propensity_samples` must be an integer >= 1; got 0",
        ),
        (
            lambda: LinearThompson(3, scale=float("nan")),
            r"LinearThompson: `scale` must be finite and >= 0; got nan",
        ),
        (
            lambda: LinUCB(2, gram=np.array([[1.0, 0.0], [0.0, -1.0]])),
            r"LinUCB: `gram` must be symmetric positive definite",
        ),
        (
            lambda: LinUCB(2, gram=np.array([[1.0, 0.5], [0.0, 1.0]])),
            r"LinUCB: `gram` must be symmetric positive definite; it is not symmetric",
        ),
    ],
)
def test_bad_parameters_raise_with_the_reason(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_contextual_policies_are_still_plain_policies() -> None:
    """The pipeline's `Policy` seam accepts them; `EpsilonGreedy` is not contextual."""
    assert all(isinstance(p, Policy) for p in CONTEXTUAL)
    assert not isinstance(EpsilonGreedy(), ContextualPolicy)


def test_module_docstring_example_runs() -> None:
    result = doctest.testmod(policy.linear)
    assert result.failed == 0 and result.attempted > 0
