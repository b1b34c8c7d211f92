"""Slate policies: sampled slates match their logged, exact propensities.

Every `Policy` implementation is checked against a brute-force enumeration of its model (the
probability of each ordered slate built position by position) and by Monte Carlo with binomial
bounds, so a new policy added to `CASES` is tested for free.
"""

from __future__ import annotations

import doctest
import itertools
from collections import Counter
from dataclasses import FrozenInstanceError

import numpy as np
import pytest

import policy.epsilon_greedy
from policy import EpsilonGreedy, Greedy, Policy, Slate, UniformRandom

Z = 4.5  # |z| bound per check: with a few hundred checks, a false alarm is ~1e-3 likely

# (policy, its epsilon, its top): the parameters of the reference model below.
CASES: list[tuple[Policy, float, int | None]] = [
    (EpsilonGreedy(), 0.1, 100),
    (EpsilonGreedy(epsilon=0.3, top=4), 0.3, 4),
    (EpsilonGreedy(epsilon=1.0, top=5), 1.0, 5),
    (EpsilonGreedy(epsilon=0.0, top=5), 0.0, 5),
    (Greedy(top=5), 0.0, 5),
    (UniformRandom(), 1.0, None),
    (UniformRandom(top=4), 1.0, 4),
]
IDS = [f"{p.name}-{p.version}" for p, _, _ in CASES]

# Small case with a tie (rows 1 and 4) and a candidate just outside top=4 or top=5.
SCORES = np.array([0.3, 0.9, -1.0, 0.5, 0.9, 0.1])


def reference(
    scores: np.ndarray, k: int, epsilon: float, top: int | None
) -> dict[tuple[int, ...], tuple[float, ...]]:
    """Every ordered slate the model can produce, with its conditionals, by brute force."""
    ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    eligible = ranked[: len(scores) if top is None else top]
    out: dict[tuple[int, ...], tuple[float, ...]] = {}

    def grow(prefix: tuple[int, ...], conds: tuple[float, ...]) -> None:
        left = [c for c in eligible if c not in prefix]
        if len(prefix) == min(k, len(eligible)):
            out[prefix] = conds
            return
        for c in left:
            p = (1 - epsilon) * (c == left[0]) + epsilon / len(left)
            if p > 0:
                grow((*prefix, c), (*conds, p))

    grow((), ())
    return out


def reference_marginals(scores: np.ndarray, k: int, epsilon: float, top: int | None) -> np.ndarray:
    slates = reference(scores, k, epsilon, top)
    kk = len(next(iter(slates)))
    out = np.zeros((kk, len(scores)))
    for slate, conds in slates.items():
        for j, c in enumerate(slate):
            out[j, c] += float(np.prod(conds))
    return out


def within(count: int, n: int, p: float) -> bool:
    """`count` of `n` draws is within Z binomial sd of n * p."""
    return bool(abs(count - n * p) <= Z * np.sqrt(n * p * (1 - p)) + 1e-9)


# --- properties every Policy has ----------------------------------------------------------


@pytest.mark.parametrize(("pol", "epsilon", "top"), CASES, ids=IDS)
def test_is_a_policy_with_name_and_version(pol: Policy, epsilon: float, top: int | None) -> None:
    assert isinstance(pol, Policy)
    assert isinstance(pol.name, str) and pol.name
    assert isinstance(pol.version, str) and pol.version


@pytest.mark.parametrize(("pol", "epsilon", "top"), CASES, ids=IDS)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_logged_probabilities_equal_brute_force_enumeration(
    pol: Policy, epsilon: float, top: int | None, k: int
) -> None:
    slates = reference(SCORES, k, epsilon, top)
    assert sum(float(np.prod(c)) for c in slates.values()) == pytest.approx(1.0, abs=1e-12)
    rng = np.random.default_rng(1)
    for _ in range(300):
        slate = pol.select(SCORES, k, rng)
        assert slate.indices in slates
        np.testing.assert_allclose(slate.conditional, slates[slate.indices], rtol=1e-12)
        assert slate.slate_propensity == pytest.approx(float(np.prod(slate.conditional)))
    marginals = pol.position_probabilities(SCORES, k)  # type: ignore[attr-defined]
    np.testing.assert_allclose(marginals, reference_marginals(SCORES, k, epsilon, top), atol=1e-12)


@pytest.mark.parametrize(("pol", "epsilon", "top"), CASES, ids=IDS)
def test_distinct_sampled_slates_sum_to_one(pol: Policy, epsilon: float, top: int | None) -> None:
    """Without the reference: every reachable slate of a tiny case is seen; their sum is 1."""
    scores = np.array([0.2, 0.8, 0.5, 0.1])
    rng = np.random.default_rng(2)
    seen: dict[tuple[int, ...], Slate] = {}
    for _ in range(20_000):
        slate = pol.select(scores, 2, rng)
        seen.setdefault(slate.indices, slate)
    assert len(seen) == len(reference(scores, 2, epsilon, top))
    assert sum(s.slate_propensity for s in seen.values()) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(("pol", "epsilon", "top"), CASES, ids=IDS)
def test_monte_carlo_frequencies_match_propensities(
    pol: Policy, epsilon: float, top: int | None
) -> None:
    """Per-position candidate frequencies and whole-slate frequencies within binomial bounds."""
    n_draws, k = 40_000, 3
    rng = np.random.default_rng(3)
    marginals = pol.position_probabilities(SCORES, k)  # type: ignore[attr-defined]
    counts = np.zeros_like(marginals)
    slate_counts: Counter[tuple[int, ...]] = Counter()
    slate_probs: dict[tuple[int, ...], float] = {}
    for _ in range(n_draws):
        slate = pol.select(SCORES, k, rng)
        for j, (c, p) in enumerate(zip(slate.indices, slate.propensities, strict=True)):
            counts[j, c] += 1
            assert p == marginals[j, c]
        slate_counts[slate.indices] += 1
        slate_probs[slate.indices] = slate.slate_propensity
    for (j, c), p in np.ndenumerate(marginals):
        assert within(int(counts[j, c]), n_draws, p), (j, c, counts[j, c], n_draws * p)
    for key, count in slate_counts.items():
        assert within(count, n_draws, slate_probs[key]), (key, count, slate_probs[key])


@pytest.mark.parametrize(("pol", "epsilon", "top"), CASES, ids=IDS)
def test_only_top_candidates_are_ever_chosen(pol: Policy, epsilon: float, top: int | None) -> None:
    rng = np.random.default_rng(4)
    scores = rng.normal(size=200)
    eligible = set(np.argsort(-scores, kind="stable")[: top or 200].tolist())
    shown: set[int] = set()
    for _ in range(3000):
        slate = pol.select(scores, 3, rng)
        assert len(slate) == 3 and len(set(slate.indices)) == 3
        assert all(0 < p <= 1 for p in (*slate.propensities, *slate.conditional))
        shown.update(slate.indices)
    assert shown <= eligible
    marginals = pol.position_probabilities(scores, 3)  # type: ignore[attr-defined]
    assert set(np.flatnonzero(marginals.sum(axis=0)).tolist()) <= eligible
    np.testing.assert_allclose(marginals.sum(axis=1), 1.0, atol=1e-12)
    assert (marginals.sum(axis=0) <= 1.0 + 1e-12).all()


@pytest.mark.parametrize(("pol", "epsilon", "top"), CASES, ids=IDS)
def test_fixed_seed_reproduces_the_slates(pol: Policy, epsilon: float, top: int | None) -> None:
    def run(seed: int) -> list[Slate]:
        rng = np.random.default_rng(seed)
        return [pol.select(SCORES, 3, rng) for _ in range(50)]

    assert run(5) == run(5)
    if epsilon > 0:
        assert run(5) != run(6)


@pytest.mark.parametrize(("pol", "epsilon", "top"), CASES, ids=IDS)
def test_k_beyond_the_eligible_candidates_gives_a_shorter_slate(
    pol: Policy, epsilon: float, top: int | None
) -> None:
    rng = np.random.default_rng(7)
    slate = pol.select(SCORES, 50, rng)
    assert len(slate) == min(len(SCORES), top or len(SCORES))
    assert slate.slate_propensity == pytest.approx(float(np.prod(slate.conditional)))
    one = pol.select(np.array([2.5]), 3, rng)
    assert one.indices == (0,) and one.propensities == (1.0,) and one.slate_propensity == 1.0


@pytest.mark.parametrize(("pol", "epsilon", "top"), CASES, ids=IDS)
def test_policy_and_slate_are_immutable(pol: Policy, epsilon: float, top: int | None) -> None:
    slate = pol.select(SCORES, 2, np.random.default_rng(8))
    with pytest.raises(FrozenInstanceError):
        slate.indices = (0, 1)  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        pol.top = 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(("pol", "epsilon", "top"), CASES, ids=IDS)
@pytest.mark.parametrize(
    ("scores", "k", "rng", "message"),
    [
        (np.array([]), 3, None, r"`scores` must hold at least one candidate; got none"),
        (np.zeros((2, 3)), 3, None, r"`scores` must have shape \(n,\); got \(2, 3\)"),
        (np.array([0.1, np.nan]), 3, None, r"`scores` must be finite; got nan at index 1"),
        (np.array([np.inf, 0.1]), 3, None, r"`scores` must be finite; got inf at index 0"),
        (["a", "b"], 3, None, r"`scores` must be numeric"),
        (np.zeros(3), 0, None, r"`k` must be >= 1; got 0"),
        (np.zeros(3), 2.0, None, r"`k` must be an integer >= 1; got 2.0"),
        (np.zeros(3), True, None, r"`k` must be an integer >= 1; got True"),
        (np.zeros(3), 2, 7, r"`rng` must be a numpy.random.Generator .*; got int"),
    ],
)
def test_bad_select_arguments_raise_with_the_reason(
    pol: Policy,
    epsilon: float,
    top: int | None,
    scores: object,
    k: object,
    rng: object,
    message: str,
) -> None:
    gen = np.random.default_rng(9) if rng is None else rng
    with pytest.raises(ValueError, match=f"{type(pol).__name__}: {message}"):
        pol.select(scores, k, gen)  # type: ignore[arg-type]


# --- epsilon-greedy specifics ---------------------------------------------------------------


def test_epsilon_zero_is_greedy_with_propensity_one() -> None:
    rng = np.random.default_rng(10)
    scores = rng.normal(size=300)
    want = tuple(np.argsort(-scores, kind="stable")[:3].tolist())
    for pol in (EpsilonGreedy(epsilon=0.0), Greedy()):
        slate = pol.select(scores, 3, rng)
        assert slate.indices == want
        assert slate.propensities == slate.conditional == (1.0, 1.0, 1.0)
        assert slate.slate_propensity == 1.0


def test_ties_go_to_the_lower_row_inside_and_at_the_top_cut() -> None:
    rng = np.random.default_rng(11)
    assert Greedy().select(np.array([1.0, 2.0, 2.0, 1.0]), 4, rng).indices == (1, 2, 0, 3)
    shown = {
        i for _ in range(2000) for i in EpsilonGreedy(0.5, top=2).select(np.ones(4), 2, rng).indices
    }
    assert shown == {0, 1}


def test_large_candidate_sets_rank_like_a_stable_sort() -> None:
    """The partition path for n > 1000 keeps the lower-row tie rule at the cut."""
    rng = np.random.default_rng(12)
    scores = rng.integers(0, 40, size=5000).astype(np.float64)  # many ties everywhere
    want = np.argsort(-scores, kind="stable")[:100]
    assert Greedy(top=100).select(scores, 100, rng).indices == tuple(want.tolist())
    marginals = EpsilonGreedy(0.2, top=100).position_probabilities(scores, 3)
    assert set(np.flatnonzero(marginals.sum(axis=0)).tolist()) == set(want.tolist())
    np.testing.assert_allclose(
        marginals[:, want[0]], EpsilonGreedy(0.2).position_probabilities(scores[want], 3)[:, 0]
    )


@pytest.mark.parametrize("epsilon", [0.05, 0.1, 0.5, 0.9])
@pytest.mark.parametrize(("m", "k"), [(1, 1), (2, 2), (3, 3), (5, 2), (6, 4), (7, 7)])
def test_dynamic_programme_equals_enumeration(epsilon: float, m: int, k: int) -> None:
    scores = np.random.default_rng(m * 10 + k).normal(size=m + 2)
    got = EpsilonGreedy(epsilon, top=m).position_probabilities(scores, k)
    np.testing.assert_allclose(got, reference_marginals(scores, k, epsilon, m), atol=1e-12)


def test_every_eligible_candidate_keeps_epsilon_over_m_at_every_position() -> None:
    scores = np.random.default_rng(13).normal(size=300)
    marginals = EpsilonGreedy(0.1, top=100).position_probabilities(scores, 3)
    eligible = np.argsort(-scores, kind="stable")[:100]
    assert (marginals[:, eligible] >= 0.1 / 100).all()
    assert marginals[0, eligible[0]] == pytest.approx(0.9 + 0.1 / 100)


def test_default_serving_case_monte_carlo() -> None:
    """200k draws at the served shape's k = 3 (m = 8 so every cell has counts)."""
    pol, n_draws = EpsilonGreedy(epsilon=0.2, top=8), 200_000
    scores = np.random.default_rng(14).normal(size=12)
    marginals = pol.position_probabilities(scores, 3)
    rng = np.random.default_rng(15)
    counts = np.zeros_like(marginals)
    for _ in range(n_draws):
        slate = pol.select(scores, 3, rng)
        counts[np.arange(3), slate.indices] += 1
    for (j, c), p in np.ndenumerate(marginals):
        assert within(int(counts[j, c]), n_draws, p), (j, c, counts[j, c], n_draws * p)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epsilon": -0.1}, r"EpsilonGreedy: `epsilon` must lie in \[0, 1\]; got -0.1"),
        ({"epsilon": 1.5}, r"EpsilonGreedy: `epsilon` must lie in \[0, 1\]; got 1.5"),
        ({"epsilon": float("nan")}, r"EpsilonGreedy: `epsilon` must lie in \[0, 1\]; got nan"),
        ({"epsilon": True}, r"EpsilonGreedy: `epsilon` must be a number in \[0, 1\]; got True"),
        ({"epsilon": "0.1"}, r"EpsilonGreedy: `epsilon` must be a number in \[0, 1\]; got '0.1'"),
        ({"top": 0}, r"EpsilonGreedy: `top` must be >= 1; got 0"),
        ({"top": 2.5}, r"EpsilonGreedy: `top` must be an integer >= 1; got 2.5"),
    ],
)
def test_bad_epsilon_greedy_parameters_raise(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EpsilonGreedy(**kwargs)  # type: ignore[arg-type]


def test_bad_baseline_parameters_raise() -> None:
    with pytest.raises(ValueError, match=r"Greedy: `top` must be >= 1; got -3"):
        Greedy(top=-3)
    with pytest.raises(ValueError, match=r"UniformRandom: `top` must be an integer >= 1; got '5'"):
        UniformRandom(top="5")  # type: ignore[arg-type]


def test_slate_rejects_inconsistent_fields() -> None:
    with pytest.raises(ValueError, match="must have one length; got 2, 1 and 2"):
        Slate(indices=(0, 1), propensities=(1.0,), conditional=(1.0, 1.0), slate_propensity=1.0)
    with pytest.raises(ValueError, match=r"`indices` must be distinct; got \(3, 3\)"):
        Slate(indices=(3, 3), propensities=(1.0, 1.0), conditional=(1.0, 1.0), slate_propensity=1)


def test_version_names_the_parameters() -> None:
    assert EpsilonGreedy().version == "1:epsilon=0.1:top=100"
    assert EpsilonGreedy(0.2, top=50).version != EpsilonGreedy(0.1, top=50).version
    assert Greedy().version == "1:top=100"
    assert UniformRandom().version == "1:top=all"


def test_docstring_examples_run() -> None:
    result = doctest.testmod(policy.epsilon_greedy, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_reference_enumeration_is_consistent() -> None:
    """Guard the oracle itself: its slate count is the number of ordered k-permutations."""
    assert len(reference(SCORES, 3, 0.5, None)) == len(list(itertools.permutations(range(6), 3)))
    assert reference(SCORES, 2, 0.0, 4) == {(1, 4): (1.0, 1.0)}
