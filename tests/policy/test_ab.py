"""A/B tests: sticky, balanced bucketing and a readout whose intervals cover the truth."""

from __future__ import annotations

import doctest
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import policy.ab
from policy.ab import (
    ArmCounts,
    Bucketer,
    ab_readout,
    hash_unit,
    minimum_detectable_effect,
    newcombe_interval,
    wilson_interval,
)

ROOT = Path(__file__).resolve().parents[2]
USERS = [f"user-{i}" for i in range(60_000)]
Z = 4.5  # |z| bound per share check


def test_docstring_examples_run() -> None:
    result = doctest.testmod(policy.ab)
    assert result.attempted >= 5
    assert result.failed == 0


# --- bucketing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "weights",
    [{"A": 0.5, "B": 0.5}, {"control": 0.9, "candidate": 0.1}, {"A": 1, "B": 1, "C": 2}],
    ids=["50-50", "90-10", "25-25-50"],
)
def test_bucketing_is_balanced_to_the_weights(weights: dict[str, float]) -> None:
    bucketer = Bucketer(weights, salt="balance-test")
    arms = [bucketer.assign(u) for u in USERS]
    total = sum(weights.values())
    for name, w in weights.items():
        p = w / total
        share = arms.count(name) / len(USERS)
        assert abs(share - p) <= Z * np.sqrt(p * (1 - p) / len(USERS)), (name, share, p)


def test_bucketing_is_sticky_across_calls_and_instances() -> None:
    a = Bucketer({"A": 0.5, "B": 0.5}, salt="sticky")
    b = Bucketer({"A": 0.5, "B": 0.5}, salt="sticky")
    assert [a.assign(u) for u in USERS[:5_000]] == [b.assign(u) for u in USERS[:5_000]]
    assert [a.assign(u) for u in USERS[:5_000]] == [a.assign(u) for u in USERS[:5_000]]


def test_bucketing_is_the_same_in_another_process_with_another_hash_seed() -> None:
    users = USERS[:300]
    here = [Bucketer({"A": 0.3, "B": 0.7}, salt="cross-process").assign(u) for u in users]
    code = (
        "from policy.ab import Bucketer\n"
        f"users = {users!r}\n"
        "b = Bucketer({'A': 0.3, 'B': 0.7}, salt='cross-process')\n"
        "print(','.join(b.assign(u) for u in users))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().split(",") == here


def test_hash_unit_is_pinned() -> None:
    # SHA-256 is the same everywhere: these values must never change, or every user of every
    # running experiment would switch arms.
    assert (
        hash_unit("exp-1", "user-1") == 0x9444D72E36332285 / 2**64
    )  # sha256(b"5:exp-1:user-1")[:8]
    assert Bucketer({"A": 0.5, "B": 0.5}, salt="exp-1").assign("user-1") == "B"


def test_different_salts_split_users_independently() -> None:
    first = Bucketer({"A": 0.5, "B": 0.5}, salt="experiment-1")
    second = Bucketer({"A": 0.5, "B": 0.5}, salt="experiment-2")
    both = sum(first.assign(u) == "A" and second.assign(u) == "A" for u in USERS)
    p = 0.25
    assert abs(both / len(USERS) - p) <= Z * np.sqrt(p * (1 - p) / len(USERS))


@pytest.mark.parametrize(
    ("weights", "salt", "match"),
    [
        ({"A": 1.0}, "s", r"at least two arm names"),
        ({"A": 1.0, "B": 0.0}, "s", r"arm 'B' must be positive and finite.*drop the arm"),
        ({"A": 1.0, "B": float("nan")}, "s", r"arm 'B' must be positive and finite"),
        ({"A": 1.0, "": 1.0}, "s", r"arm names must be non-empty strings"),
        ({"A": 1.0, "B": "1"}, "s", r"weight of arm 'B' must be a number"),
        ({"A": 1.0, "B": 1.0}, "", r"salt.*non-empty string"),
    ],
)
def test_bucketer_rejects_bad_configuration(
    weights: dict[str, object], salt: str, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        Bucketer(weights, salt=salt)  # type: ignore[arg-type]


def test_assign_rejects_an_empty_user_id() -> None:
    with pytest.raises(ValueError, match=r"user_id.*non-empty string"):
        Bucketer({"A": 1, "B": 1}, salt="s").assign("")


# --- readout ---------------------------------------------------------------------------------


def test_intervals_cover_known_truths_in_simulation() -> None:
    rng = np.random.default_rng(7)
    reps, n_a, n_b, p_a, p_b = 4_000, 3_000, 2_000, 0.04, 0.05
    s_a = rng.binomial(n_a, p_a, reps)
    s_b = rng.binomial(n_b, p_b, reps)
    low_a, high_a = wilson_interval(s_a, n_a)
    low_d, high_d = newcombe_interval(s_a, n_a, s_b, n_b)
    cover_a = np.mean((low_a <= p_a) & (p_a <= high_a))
    cover_d = np.mean((low_d <= p_b - p_a) & (p_b - p_a <= high_d))
    band = Z * np.sqrt(0.95 * 0.05 / reps)  # about +-1.55 points
    assert abs(cover_a - 0.95) <= band, cover_a
    assert abs(cover_d - 0.95) <= band, cover_d


def test_verdict_false_alarms_at_about_five_percent_and_power_matches_the_mde() -> None:
    rng = np.random.default_rng(8)
    reps, n, p = 3_000, 5_000, 0.1
    # Under no difference: "better" in about 5% of experiments.
    a = rng.binomial(n, p, reps)
    b = rng.binomial(n, p, reps)
    low, high = newcombe_interval(a, n, b, n)
    alarms = np.mean((low > 0) | (high < 0))
    assert abs(alarms - 0.05) <= Z * np.sqrt(0.05 * 0.95 / reps), alarms
    # At a true difference equal to the MDE: detected in about 80% of experiments.
    mde = minimum_detectable_effect(p, n, n)
    b = rng.binomial(n, p + mde, reps)
    low, _ = newcombe_interval(a, n, b, n)
    power = np.mean(low > 0)
    assert abs(power - 0.8) <= 0.04, (mde, power)


def test_readout_says_which_arm_is_better_in_plain_words() -> None:
    better = ab_readout([ArmCounts("A", 300, 10_000), ArmCounts("B", 390, 10_000)])
    (cmp,) = better.comparisons
    assert cmp.verdict == "B better"
    assert cmp.difference == pytest.approx(0.009)
    assert 0 < cmp.low < 0.009 < cmp.high
    assert [a.rate for a in better.arms] == [0.03, 0.039]
    worse = ab_readout([ArmCounts("A", 390, 10_000), ArmCounts("B", 300, 10_000)])
    assert worse.comparisons[0].verdict == "A better"
    tie = ab_readout([ArmCounts("A", 300, 10_000), ArmCounts("B", 310, 10_000)])
    assert tie.comparisons[0].verdict == "no detectable difference"
    md = tie.to_markdown()
    assert "no detectable difference" in md and "| A | 300 | 10000 | 3.0000% |" in md
    assert f"{100 * tie.comparisons[0].mde:.3f} pp" in md


def test_mde_shrinks_with_the_square_root_of_the_sample() -> None:
    small = minimum_detectable_effect(0.05, 1_000, 1_000)
    large = minimum_detectable_effect(0.05, 4_000, 4_000)
    assert large == pytest.approx(small / 2)
    # (1.96 + 0.8416) * sqrt(0.05 * 0.95 * 2 / 1000)
    assert small == pytest.approx(0.027306, rel=1e-4)
    assert minimum_detectable_effect(0.0, 100, 100) > 0  # no successes yet is no zero MDE


def test_several_arms_compare_against_the_control_with_bonferroni() -> None:
    arms = [ArmCounts("A", 500, 10_000), ArmCounts("B", 520, 10_000), ArmCounts("C", 620, 10_000)]
    readout = ab_readout(arms, control="A")
    assert [(c.arm, c.control) for c in readout.comparisons] == [("B", "A"), ("C", "A")]
    assert all(c.confidence == pytest.approx(0.975) for c in readout.comparisons)
    assert [c.verdict for c in readout.comparisons] == ["no detectable difference", "C better"]
    # Wider than the unadjusted two-arm interval.
    single = ab_readout([arms[0], arms[2]]).comparisons[0]
    assert readout.comparisons[1].high - readout.comparisons[1].low > single.high - single.low


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: ArmCounts("A", 5, 0), r"trials.*>= 1.*wait for data"),
        (lambda: ArmCounts("A", 11, 10), r"successes.*\[0, trials=10\]"),
        (lambda: ArmCounts("A", 1.5, 10), r"successes.*integer count"),  # type: ignore[arg-type]
        (lambda: ArmCounts("", 1, 10), r"name.*non-empty"),
        (lambda: ab_readout([ArmCounts("A", 1, 10)]), r"at least two ArmCounts"),
        (
            lambda: ab_readout([ArmCounts("A", 1, 10), ArmCounts("A", 2, 10)]),
            r"names must be distinct",
        ),
        (
            lambda: ab_readout([ArmCounts("A", 1, 10), ArmCounts("B", 2, 10)], control="Z"),
            r"control.*'Z' is not one of the arms",
        ),
        (
            lambda: ab_readout([ArmCounts("A", 1, 10), ArmCounts("B", 2, 10)], confidence=95),
            r"confidence.*\(0, 1\)",
        ),
        (lambda: wilson_interval(5, 0), r"trials >= 1"),
        (lambda: minimum_detectable_effect(0.1, 0, 10), r"sample sizes must be >= 1"),
        (lambda: minimum_detectable_effect(0.1, 10, 10, power=1.0), r"power.*\(0, 1\)"),
    ],
)
def test_readout_rejects_bad_input(build: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build()  # type: ignore[operator]
