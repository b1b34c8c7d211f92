"""simulate_sessions: the logging policy's propensities are exact, sessions follow the world."""

from __future__ import annotations

import doctest
import itertools

import numpy as np
import pytest

from policy.world import (
    ItemBatch,
    SessionLog,
    ShopperLatents,
    UserChoiceModel,
    _plackett_luce,
    _waves,
    draw_intents,
    plackett_luce_propensities,
    simulate_sessions,
)

Z = 4.5  # |z| bound per frequency check (a few hundred checks: false alarms ~1e-3)


def _enumerate(
    scores: np.ndarray, valid: np.ndarray, k: int, temperature: float, eps: float
) -> dict[tuple[int, ...], float]:
    """Every ordered slate of k distinct valid columns with its probability, by definition.

    Plackett-Luce: P(pi) = prod_j w(pi_j) / sum_{l not in pi_<j} w(l), w = exp(score / T); with
    epsilon, each factor is mixed with 1 / (number of remaining candidates).
    """
    cols = [int(c) for c in np.flatnonzero(valid)]
    w = np.exp(scores / temperature)
    out: dict[tuple[int, ...], float] = {}
    for slate in itertools.permutations(cols, min(k, len(cols))):
        p, left = 1.0, set(cols)
        for c in slate:
            p *= (1 - eps) * w[c] / sum(w[i] for i in left) + eps / len(left)
            left.remove(c)
        out[slate] = p
    return out


def _marginal(table: dict[tuple[int, ...], float], prefix: tuple[int, ...]) -> float:
    return sum(p for slate, p in table.items() if slate[: len(prefix)] == prefix)


def _one_turn(
    catalog: ItemBatch,
    population: ShopperLatents,
    cand_row: list[int],
    score_row: list[float],
    m: int,
    seed: int,
    **kwargs: float,
) -> SessionLog:
    rng = np.random.default_rng(seed)
    users = rng.integers(0, len(population), m)
    return simulate_sessions(
        UserChoiceModel(),
        population,
        catalog,
        users,
        draw_intents(population, users, rng),
        np.tile(cand_row, (m, 1)),
        np.tile(score_row, (m, 1)),
        rng,
        max_turns=1,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_propensities_equal_brute_force_enumeration(
    catalog: ItemBatch, population: ShopperLatents, eps: float
) -> None:
    cand = [17, -1, 3, 250, 99, -1, 42]  # five candidates and two padding columns
    score = [0.3, 9.9, -1.2, 0.8, 2.0, 0.0, 0.1]
    valid = np.array(cand) >= 0
    t = 0.7
    table = _enumerate(np.array(score), valid, 3, t, eps)
    assert sum(table.values()) == pytest.approx(1.0)
    log = _one_turn(catalog, population, cand, score, 4000, 1, temperature=t, epsilon=eps)
    first = [_marginal(table, (c,)) if valid[c] else 0.0 for c in range(len(cand))]
    np.testing.assert_allclose(log.first_position, np.tile(first, (len(log), 1)), atol=1e-12)
    for row in range(50):
        slate = tuple(int(c) for c in log.chosen_column[row])
        for j in range(3):
            brute = _marginal(table, slate[: j + 1]) / _marginal(table, slate[:j])
            assert log.propensity[row, j] == pytest.approx(brute, rel=1e-12)
        # The product of the per-position propensities is the slate's probability.
        assert log.slate_propensity[row] == pytest.approx(table[slate], rel=1e-12)
        assert [cand[c] for c in slate] == log.chosen[row].tolist()


def test_sampled_slates_follow_the_logged_probabilities(
    catalog: ItemBatch, population: ShopperLatents
) -> None:
    cand, score = [5, 6, 7, 8, 9], [1.0, 0.5, 0.0, -0.5, 0.2]
    table = _enumerate(np.array(score), np.ones(5, dtype=bool), 3, 1.0, 0.1)
    m = 60_000
    log = _one_turn(catalog, population, cand, score, m, 2, epsilon=0.1)
    assert len(log) == m
    slates, counts = np.unique(log.chosen_column, axis=0, return_counts=True)
    seen = {tuple(int(c) for c in s): int(n) for s, n in zip(slates, counts, strict=True)}
    assert set(seen) <= set(table)
    for slate, p in table.items():
        n = seen.get(slate, 0)
        assert abs(n - m * p) <= Z * np.sqrt(m * p * (1 - p)) + 1, (slate, n, m * p)
    np.testing.assert_allclose(log.slate_propensity, [table[tuple(s)] for s in log.chosen_column])


def test_infinite_temperature_is_uniform(catalog: ItemBatch, population: ShopperLatents) -> None:
    cand = list(range(10, 22)) + [-1, -1]
    score = list(np.linspace(-5, 5, 14))
    log = _one_turn(catalog, population, cand, score, 200, 3, temperature=np.inf)
    np.testing.assert_allclose(log.first_position[:, :12], 1 / 12)
    np.testing.assert_allclose(log.first_position[:, 12:], 0.0)
    np.testing.assert_allclose(log.propensity, np.tile([1 / 12, 1 / 11, 1 / 10], (200, 1)))
    near = _one_turn(catalog, population, cand, score, 200, 3, temperature=1e9)
    np.testing.assert_allclose(near.propensity, log.propensity, rtol=1e-6)


def test_fewer_candidates_than_slots_pad_the_slate(
    catalog: ItemBatch, population: ShopperLatents
) -> None:
    log = _one_turn(catalog, population, [-1, 4, -1, 8], [0.0, 1.0, 0.0, 0.0], 100, 4)
    assert (log.chosen[:, 2] == -1).all() and (log.chosen_column[:, 2] == -1).all()
    assert (log.propensity[:, 2] == 1.0).all()
    assert set(log.chosen[:, :2].ravel()) == {4, 8}
    np.testing.assert_allclose(log.slate_propensity[log.chosen[:, 0] == 4], np.e / (np.e + 1))
    assert not log.outcomes.click[:, 2].any() and (log.probabilities.click[:, 2] == 0).all()


def _sessions(catalog: ItemBatch, population: ShopperLatents, seed: int, **kw: float) -> SessionLog:
    rng = np.random.default_rng(seed)
    s, n = 3000, 30
    users = rng.integers(0, len(population), s)
    cand = np.argsort(rng.random((s, len(catalog))), axis=1)[:, :n]
    cand[:, -3:] = -1
    scores = catalog.popularity[cand] + rng.normal(0, 0.3, cand.shape)
    return simulate_sessions(
        UserChoiceModel(),
        population,
        catalog,
        users,
        draw_intents(population, users, rng),
        cand,
        scores,
        rng,
        epsilon=0.05,
        match_weight=2.0,
        **kw,  # type: ignore[arg-type]
    )


def _rows(log: SessionLog) -> list[np.ndarray]:
    out = [
        log.session,
        log.turn,
        log.user,
        log.candidates,
        log.scores,
        log.first_position,
        log.chosen,
        log.propensity,
        log.match,
        log.session_turns,
        log.session_truncated,
    ]
    out += [getattr(log.outcomes, name) for name in ("click", "claim", "purchase", "value")]
    return out


def test_a_seed_fixes_every_decision(catalog: ItemBatch, population: ShopperLatents) -> None:
    a, b = _sessions(catalog, population, 5), _sessions(catalog, population, 5)
    for x, y in zip(_rows(a), _rows(b), strict=True):
        np.testing.assert_array_equal(x, y)
    c = _sessions(catalog, population, 6)
    assert len(c) != len(a) or not np.array_equal(c.chosen, a.chosen)


def test_logged_propensities_recompute_from_the_logged_scores(
    catalog: ItemBatch, population: ShopperLatents
) -> None:
    log = _sessions(catalog, population, 7, score_decimals=3, temperature=0.8)
    assert np.array_equal(log.scores, np.round(log.scores, 3))
    first, prop = plackett_luce_propensities(
        log.scores, log.candidates >= 0, log.chosen_column, temperature=0.8, epsilon=0.05
    )
    np.testing.assert_allclose(first, log.first_position, rtol=1e-12, atol=0)
    np.testing.assert_allclose(prop, log.propensity, rtol=1e-12)
    assert (prop >= 0.05 / 27 - 1e-15).all()  # epsilon bounds every propensity from below


def test_sessions_follow_the_dynamics(catalog: ItemBatch, population: ShopperLatents) -> None:
    log = _sessions(catalog, population, 8, clarify_rate=0.2, max_turns=6)
    s = log.session_turns.size
    assert ((log.session_turns >= 1) & (log.session_turns <= 6)).all()
    # Wave by wave (turn, then session); a session's decisions are its turns that were not
    # questions.
    key = log.turn * 10**6 + log.session
    assert (np.diff(key) > 0).all()
    shown = np.bincount(log.session, minlength=s)
    np.testing.assert_array_equal(shown + log.session_clarified, log.session_turns)
    assert (log.session_clarified <= 2).all()  # f reaches 1 after two answers
    assert not log.session_truncated[log.session_turns < 6].any()
    # Chosen cards are distinct candidates of their session, with their true match.
    assert all(len(set(r)) == 3 for r in log.chosen.tolist())
    pairs = zip(log.chosen.tolist(), log.candidates.tolist(), strict=True)
    assert all(set(c) <= set(r) for c, r in pairs)
    # Events follow the funnel and the true probabilities.
    assert log.outcomes.click.mean() > 0.02
    assert (log.outcomes.purchase <= log.outcomes.add_to_cart).all()
    z = (log.outcomes.click.sum() - log.probabilities.click.sum()) / np.sqrt(
        (log.probabilities.click * (1 - log.probabilities.click)).sum()
    )
    assert abs(z) < Z


def test_sessions_that_only_ask_log_no_decision(
    catalog: ItemBatch, population: ShopperLatents
) -> None:
    log = _sessions(catalog, population, 9, clarify_rate=1.0, max_turns=1)
    assert len(log) == 0 and log.chosen.shape == (0, 3) and log.candidates.shape == (0, 30)
    assert log.outcomes.click.dtype == np.bool_ and log.slate_propensity.shape == (0,)
    assert (log.session_clarified == 1).all() and (log.session_turns == 1).all()


def test_bad_input_is_refused_with_its_reason(
    catalog: ItemBatch, population: ShopperLatents
) -> None:
    model, rng = UserChoiceModel(), np.random.default_rng(0)
    users, intents = np.array([0, 1]), np.array([0, 1])
    good = np.array([[1, 2, 3], [4, 5, -1]])
    scores = np.zeros((2, 3))

    def run(cand: object = good, sc: object = scores, **kw: float) -> None:
        simulate_sessions(model, population, catalog, users, intents, cand, sc, rng, **kw)  # type: ignore[arg-type]

    with pytest.raises(ValueError, match="session 1 lists a candidate twice"):
        run(np.array([[1, 2, 3], [4, 4, -1]]))
    with pytest.raises(ValueError, match="session 0 has no candidate"):
        run(np.array([[-1, -1, -1], [4, 5, -1]]))
    with pytest.raises(ValueError, match="`candidates` must lie in"):
        run(np.array([[1, 2, 400], [4, 5, -1]]))
    with pytest.raises(ValueError, match=r"`scores` must have shape \(2, 3\)"):
        run(sc=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="`scores` must be finite"):
        run(sc=np.array([[0.0, np.nan, 0.0], [0.0, 0.0, 0.0]]))
    run(sc=np.array([[0.0, 0.0, 0.0], [0.0, 0.0, np.nan]]))  # padding scores are ignored
    with pytest.raises(ValueError, match="`temperature` must be > 0"):
        run(temperature=0.0)
    with pytest.raises(ValueError, match=r"`epsilon` must lie in \[0, 1\]"):
        run(epsilon=1.5)
    with pytest.raises(ValueError, match="`slate_size` and `max_turns` must be >= 1"):
        run(max_turns=0)


@pytest.mark.parametrize("module", [_waves, _plackett_luce])
def test_docstring_examples_run(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.failed == 0 and result.attempted > 0
