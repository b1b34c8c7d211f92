"""The rollout gate: promotes only a candidate whose paired-difference interval clears zero."""

from __future__ import annotations

import numpy as np
import pytest

from policy.gate import paired_gate


def test_a_clearly_better_candidate_is_promoted() -> None:
    rng = np.random.default_rng(1)
    serving = rng.random(400)
    result = paired_gate(serving + 0.05 + rng.normal(0, 0.02, 400), serving, seed=3)
    assert result.promote
    assert 0.0 < result.low < result.difference < result.high
    assert result.difference == pytest.approx(0.05, abs=0.01)
    assert result.n == 400 and result.n_bootstrap == 1000
    assert "promote" in result.describe("reward")


def test_an_equal_candidate_is_refused_even_when_its_mean_is_a_little_higher() -> None:
    rng = np.random.default_rng(2)
    serving = rng.random(300)
    candidate = serving + rng.normal(0.002, 0.2, 300)
    result = paired_gate(candidate, serving, seed=0)
    assert not result.promote
    assert result.low < 0.0 < result.high
    assert "refuse" in result.describe()


def test_pairing_finds_a_small_shift_that_unpaired_intervals_would_hide() -> None:
    rng = np.random.default_rng(5)
    serving = rng.random(200)  # values spread over [0, 1]
    result = paired_gate(serving + 0.01, serving, seed=0)  # the same units, shifted by 0.01
    assert result.promote and result.low == pytest.approx(0.01)


def test_same_seed_same_verdict_and_interval() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.random(100), rng.random(100)
    assert paired_gate(a, b, seed=4) == paired_gate(a, b, seed=4)
    assert paired_gate(a, b, seed=4).low != paired_gate(a, b, seed=5).low


@pytest.mark.parametrize(
    ("candidate", "serving", "kwargs", "message"),
    [
        ([1.0, 2.0], [1.0], {}, "must pair unit by unit; got 2 and 1"),
        ([1.0, float("nan")], [1.0, 2.0], {}, "`candidate` must be finite; got nan at unit 1"),
        ([[1.0]], [[1.0]], {}, r"must have shape \(n_units,\)"),
        ([1.0], [0.0], {}, "1 paired units are too few"),
        ([1.0, 2.0], [0.0, 1.0], {"n_bootstrap": 10}, "`n_bootstrap` must be an integer >= 100"),
        ([1.0, 2.0], [0.0, 1.0], {"level": 1.5}, r"`level` must lie in \(0, 1\)"),
        (["a", "b"], [0.0, 1.0], {}, "`candidate` must be numeric"),
    ],
)
def test_bad_evidence_is_refused_with_a_reason(
    candidate: object, serving: object, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        paired_gate(candidate, serving, **kwargs)  # type: ignore[arg-type]
