"""Business constraints: budget pacing on simulated days, caps, the holdout, safe exploration."""

from __future__ import annotations

import doctest
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import policy.constraints
from policy.constraints import (
    DIURNAL_TRAFFIC,
    BudgetPacer,
    ControlArm,
    DemandRate,
    FrequencyCap,
    LoggedOutcome,
    PacingCurve,
    PromotionArm,
    RewardOption,
    filter_explorable,
    reward,
)
from policy.epsilon_greedy import EpsilonGreedy

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(policy.constraints, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8
    assert result.failed == 0


# --- pacing on simulated days ----------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    budget: int
    targets: np.ndarray  # curve's cumulative spend at the end of hours 1..24
    spent_at_hour_end: np.ndarray  # shape (24,)
    max_spent: int  # highest spend seen at any moment
    offers: int
    opportunities: int


def simulate_day(
    seed: int,
    *,
    traffic: Sequence[float] = DIURNAL_TRAFFIC,
    curve: PacingCurve | None = None,
    opportunities_per_day: int = 40_000,
    claim_rate: float = 0.5,
    claim_rate_believed: float | None = None,
    face_values: Sequence[int] = (300, 500, 800),
    demand_over_budget: float = 2.5,
) -> Day:
    """One day of Poisson coupon opportunities with a diurnal rate, paced by a `BudgetPacer`.

    Each opportunity is a shopper who could be offered a coupon of a random face value; an
    offered coupon is claimed with `claim_rate`, which spends its face value at once. The pacer
    only sees what a server sees: the clock, the spend so far and a `DemandRate` estimate fed
    with every opportunity's expected cost (face value x the claim rate it believes), running
    since the last hour of the day before.
    """
    rng = np.random.default_rng(seed)
    shape = np.asarray(traffic, dtype=float) / sum(traffic)
    budget = int(opportunities_per_day * claim_rate * np.mean(face_values) / demand_over_budget)
    pacer = BudgetPacer(budget, curve or PacingCurve.from_traffic(traffic))
    yesterday = -1.0 + np.sort(rng.random(rng.poisson(opportunities_per_day * shape[23])))
    today = [
        h + np.sort(rng.random(c)) for h, c in enumerate(rng.poisson(opportunities_per_day * shape))
    ]
    times = np.concatenate([yesterday, *today]).tolist()
    values = rng.choice(face_values, size=len(times)).tolist()
    claims = (rng.random(len(times)) < claim_rate).tolist()
    believed = claim_rate if claim_rate_believed is None else claim_rate_believed
    demand = DemandRate(start=-1.0)
    spent = max_spent = offers = seen = 0
    at_hour_end: list[int] = []
    for t, value, claims_it in zip(times, values, claims, strict=True):
        demand = demand.observe(t, believed * value)
        if t < 0.0:
            continue
        while t >= len(at_hour_end) + 1:
            at_hour_end.append(spent)
        seen += 1
        decision = pacer.decide(
            hour=t, spent=spent, demand_per_hour=demand.rate(t), cost=value, rng=rng
        )
        if decision.offer:
            offers += 1
            if claims_it:
                spent += value
                max_spent = max(max_spent, spent)
    at_hour_end += [spent] * (24 - len(at_hour_end))
    targets = np.array([pacer.target(h) for h in range(1, 25)])
    return Day(budget, targets, np.array(at_hour_end), max_spent, offers, seen)


@pytest.fixture(scope="module")
def traffic_days() -> list[Day]:
    return [simulate_day(seed) for seed in range(5)]


def test_pacing_follows_the_traffic_curve_within_ten_percent_every_hour(
    traffic_days: list[Day],
) -> None:
    for day in traffic_days:
        deviation = day.spent_at_hour_end / day.targets - 1.0
        worst = int(np.argmax(np.abs(deviation)))
        assert np.all(np.abs(deviation) <= 0.10), (
            f"hour {worst + 1}: spent {day.spent_at_hour_end[worst]} vs curve "
            f"{day.targets[worst]:.0f} ({deviation[worst]:+.1%})"
        )


def test_pacing_never_overspends_and_spends_nearly_all_the_budget(
    traffic_days: list[Day],
) -> None:
    for day in traffic_days:
        assert day.max_spent <= day.budget
        assert day.spent_at_hour_end[-1] >= 0.99 * day.budget
        # Demand was 2.5x the budget, so the pacer must have throttled a good share of it.
        assert day.offers < 0.6 * day.opportunities


def test_pacing_follows_a_linear_curve_when_demand_allows_it() -> None:
    # Traffic never falls below the linear curve's hourly rate / 2.5 at night.
    flat = [t + 1.5 for t in DIURNAL_TRAFFIC]
    for seed in (11, 12):
        day = simulate_day(seed, traffic=flat, curve=PacingCurve.linear())
        deviation = day.spent_at_hour_end / day.targets - 1.0
        assert np.all(np.abs(deviation) <= 0.10), deviation.round(3)
        assert day.max_spent <= day.budget


def test_pacing_tolerates_a_misjudged_claim_rate() -> None:
    # The server believes 35% claim where 50% do: demand is underestimated by 30%.
    day = simulate_day(21, claim_rate_believed=0.35)
    deviation = day.spent_at_hour_end / day.targets - 1.0
    assert np.all(np.abs(deviation) <= 0.10), deviation.round(3)
    assert day.max_spent <= day.budget


def test_pacer_stops_offering_when_the_budget_cannot_cover_the_coupon() -> None:
    pacer = BudgetPacer(10_000, PacingCurve.linear())
    rng = np.random.default_rng(0)
    late = pacer.decide(hour=23.99, spent=9_600, demand_per_hour=1e9, cost=500, rng=rng)
    assert (late.offer, late.probability, late.reason) == (False, 0.0, "budget_exhausted")
    fits = pacer.decide(hour=23.99, spent=9_500, demand_per_hour=100.0, cost=500, rng=rng)
    assert fits.offer and fits.reason == "offer"
    assert pacer.decide(hour=24.0, spent=0, demand_per_hour=1.0, cost=1, rng=rng).reason == (
        "day_over"
    )


def test_pacer_probability_tracks_the_gap_to_the_curve() -> None:
    pacer = BudgetPacer(240_000, PacingCurve.linear(), lookahead_hours=0.5)
    # On the curve at noon: half an hour's share (5,000) over half an hour's demand (20,000).
    assert pacer.offer_probability(hour=12.0, spent=120_000, demand_per_hour=40_000) == (
        pytest.approx(0.25)
    )
    behind = pacer.offer_probability(hour=12.0, spent=110_000, demand_per_hour=40_000)
    assert behind == pytest.approx(0.75)
    assert pacer.offer_probability(hour=12.0, spent=126_000, demand_per_hour=40_000) == 0.0
    assert pacer.offer_probability(hour=12.0, spent=0, demand_per_hour=40_000) == 1.0
    assert pacer.offer_probability(hour=12.0, spent=120_000, demand_per_hour=0.0) == 1.0


def test_default_curve_follows_diurnal_traffic() -> None:
    curve = BudgetPacer(1).curve
    assert curve == PacingCurve.from_traffic(DIURNAL_TRAFFIC)
    assert curve.cumulative(0.0) == 0.0 and curve.cumulative(24.0) == 1.0
    # The evening peak 20:00-21:00 carries over ten times the share of 03:00-04:00.
    assert curve.hourly[20] == pytest.approx(3.1 / 0.3 * curve.hourly[3])
    assert curve.cumulative(20.5) == pytest.approx(
        (sum(DIURNAL_TRAFFIC[:20]) + 0.5 * DIURNAL_TRAFFIC[20]) / sum(DIURNAL_TRAFFIC)
    )
    assert PacingCurve.linear().cumulative(6.0) == pytest.approx(0.25)


def test_demand_rate_estimates_a_poisson_rate() -> None:
    rng = np.random.default_rng(3)
    times = np.sort(rng.random(rng.poisson(2_000))) * 2.0  # 1,000 events per hour
    est = DemandRate(start=0.0)
    for t in times.tolist():
        est = est.observe(t, 3.0)
    assert est.rate(2.0) == pytest.approx(3_000, rel=0.15)
    assert DemandRate(start=5.0).rate(5.0) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"daily_budget": 0}, r"daily_budget.*>= 1"),
        ({"daily_budget": 10.5}, r"daily_budget.*integer amount in minor units"),
        ({"daily_budget": 100, "lookahead_hours": 0}, r"lookahead_hours.*\(0, 24\]"),
        ({"daily_budget": 100, "curve": [1.0] * 24}, r"curve.*must be a PacingCurve"),
    ],
)
def test_pacer_rejects_bad_configuration(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        BudgetPacer(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hour": 25.0}, r"hour.*\[0, 24\]"),
        ({"hour": float("nan")}, r"hour.*finite"),
        ({"spent": -1}, r"spent.*>= 0"),
        ({"spent": 10.0}, r"spent.*integer amount"),
        ({"demand_per_hour": -5.0}, r"demand_per_hour.*>= 0"),
        ({"cost": True}, r"cost.*integer amount"),
    ],
)
def test_pacer_rejects_bad_decision_input(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"hour": 1.0, "spent": 0, "demand_per_hour": 10.0, "cost": 5}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        BudgetPacer(1_000).offer_probability(**args)  # type: ignore[arg-type]


def test_pacing_inputs_reject_bad_values() -> None:
    with pytest.raises(ValueError, match=r"24 weights.*got 23"):
        PacingCurve((1.0,) * 23)
    with pytest.raises(ValueError, match=r">= 0 with a positive sum"):
        PacingCurve((0.0,) * 24)
    with pytest.raises(ValueError, match=r"rng.*numpy.random.Generator"):
        BudgetPacer(100).decide(hour=1.0, spent=0, demand_per_hour=1.0, cost=1, rng=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"time order"):
        DemandRate(start=0.0).observe(2.0, 1.0).observe(1.0, 1.0)
    with pytest.raises(ValueError, match=r"half_life_hours.*> 0"):
        DemandRate(start=0.0, half_life_hours=0.0)


# --- frequency caps --------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.integers(min_value=0, max_value=40 * 60), min_size=1, max_size=60),
    cap_n=st.integers(min_value=1, max_value=4),
    window_h=st.integers(min_value=1, max_value=30),
)
def test_capped_serving_never_exceeds_n_in_any_window(
    gaps: list[int], cap_n: int, window_h: int
) -> None:
    cap = FrequencyCap(max_impressions=cap_n, window=timedelta(hours=window_h))
    shown: list[datetime] = []
    now = NOW
    for gap in gaps:
        now += timedelta(minutes=gap)
        if cap.allows(shown, now):
            shown.append(now)
    assert shown, "the first opportunity is always allowed"
    for end in shown:
        in_window = [t for t in shown if end - cap.window < t <= end]
        assert len(in_window) <= cap_n


def test_cap_counts_a_sliding_window() -> None:
    cap = FrequencyCap(max_impressions=2, window=timedelta(hours=24))
    exposures = [NOW - timedelta(hours=24), NOW - timedelta(hours=2)]
    assert cap.count(exposures, NOW) == 1  # exactly 24 h ago has left the window
    assert cap.remaining(exposures, NOW) == 1 and cap.allows(exposures, NOW)
    exposures.append(NOW - timedelta(minutes=1))
    assert not cap.allows(exposures, NOW)
    # A clock running ahead on another worker never buys an extra impression.
    assert not cap.allows([NOW + timedelta(minutes=5), NOW - timedelta(hours=1)], NOW)
    mask = cap.allowed(["a1", "a2", "a3", None], {"a1": exposures, "a3": exposures[:1]}, NOW)
    assert mask.tolist() == [False, True, True, True]


def test_cap_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"max_impressions.*integer >= 1"):
        FrequencyCap(max_impressions=0)
    with pytest.raises(ValueError, match=r"window.*positive timedelta"):
        FrequencyCap(window=timedelta(0))
    with pytest.raises(ValueError, match=r"exposure.*timezone-aware"):
        FrequencyCap().allows([datetime(2026, 11, 28, 11)], NOW)
    with pytest.raises(ValueError, match=r"now.*timezone-aware"):
        FrequencyCap().allows([], datetime(2026, 11, 28, 11))


# --- no-promotion control arm ----------------------------------------------------------------


def test_control_arm_is_sticky_and_about_the_configured_share() -> None:
    arm = ControlArm(share=0.05, salt="holdout-test")
    users = [f"user-{i}" for i in range(40_000)]
    first = [arm.arm(u, wants_deals=False) for u in users]
    again = [ControlArm(share=0.05, salt="holdout-test").arm(u, wants_deals=False) for u in users]
    assert first == again
    share = sum(a is PromotionArm.CONTROL for a in first) / len(users)
    assert abs(share - 0.05) <= 4.5 * np.sqrt(0.05 * 0.95 / len(users))
    # A new salt redraws the holdout: about 5% of the old one stays in.
    other = ControlArm(share=0.05, salt="holdout-test-2")
    held = [u for u, a in zip(users, first, strict=True) if a is PromotionArm.CONTROL]
    overlap = sum(other.held_out(u) for u in held) / len(held)
    assert overlap < 0.15


def test_control_arm_never_applies_when_the_shopper_asks_for_deals() -> None:
    arm = ControlArm(share=0.5, salt="holdout-test")
    held = [u for u in (f"user-{i}" for i in range(2_000)) if arm.held_out(u)]
    assert len(held) > 800
    for u in held:
        assert arm.arm(u, wants_deals=True) is PromotionArm.CONTROL_ASKED_FOR_DEALS
        assert not arm.suppress_promotion(u, wants_deals=True)
        assert arm.suppress_promotion(u, wants_deals=False)
    assert ControlArm(share=0.0).arm("anyone", wants_deals=False) is PromotionArm.PROMOTED


def test_control_arm_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"share.*\[0, 0.5\]"):
        ControlArm(share=0.9)
    with pytest.raises(ValueError, match=r"salt.*non-empty"):
        ControlArm(salt="")
    with pytest.raises(ValueError, match=r"wants_deals.*True or False"):
        ControlArm().arm("u1", wants_deals=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"user_id.*non-empty"):
        ControlArm().arm("", wants_deals=False)


# --- exploration inside the hard filters -----------------------------------------------------


def test_expired_and_filtered_rows_are_never_explorable() -> None:
    ends = [None, NOW, NOW - timedelta(days=1), NOW + timedelta(seconds=1), None, None]
    ex = filter_explorable(
        [0.9, 0.95, 0.8, 0.1, 0.7, 0.99],
        ends,
        NOW,
        in_filters=np.array([True, True, True, True, True, False]),
    )
    assert ex.rows == (0, 3, 4)
    assert ex.expired == (1, 2) and ex.filtered == (5,)
    # Even a policy that only explores never shows a dropped row.
    explorer = EpsilonGreedy(epsilon=1.0, top=100)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(300):
        seen |= set(ex.original(explorer.select(ex.scores, 3, rng).indices))
    assert seen == {0, 3, 4}


def test_ending_flash_sales_are_lifted_into_the_exploration_pool() -> None:
    n = 30
    scores = np.linspace(1.0, 0.0, n)  # row 0 best
    ends: list[datetime | None] = [None] * n
    flash = np.zeros(n, dtype=bool)
    for row, minutes in ((25, 30), (28, 90), (29, 300)):  # 300 min is outside the 2 h window
        ends[row] = NOW + timedelta(minutes=minutes)
        flash[row] = True
    ends[27] = NOW + timedelta(minutes=10)  # ends soon but is no flash sale: no lift
    ex = filter_explorable(scores, ends, NOW, flash=flash, pool_size=10)
    assert ex.boosted == (25, 28)
    pol = EpsilonGreedy(epsilon=0.2, top=10)
    probs = pol.position_probabilities(ex.scores, 3)
    shown = probs.sum(axis=0)
    pos = {row: j for j, row in enumerate(ex.rows)}
    for row in (25, 28):
        assert shown[pos[row]] >= 3 * 0.2 / 10 - 1e-12  # explored at every position
    assert shown[pos[29]] == 0.0 and shown[pos[27]] == 0.0
    # The greedy slate is unchanged: the lift only reaches the bottom of the pool.
    greedy = EpsilonGreedy(epsilon=0.0, top=10).select(ex.scores, 3, np.random.default_rng(0))
    assert ex.original(greedy.indices) == (0, 1, 2)
    # Without the lift the same flash sales would never be explored.
    plain = pol.position_probabilities(scores, 3).sum(axis=0)
    assert plain[25] == 0.0 and plain[28] == 0.0


def test_flash_lift_respects_max_boosted_and_keeps_high_scores() -> None:
    scores = [0.5, 0.4, 0.3, 0.2, 0.9]
    ends = [NOW + timedelta(minutes=m) for m in (50, 40, 30, 20, 10)]
    flash = np.ones(5, dtype=bool)
    ex = filter_explorable(scores, ends, NOW, flash=flash, pool_size=3, max_boosted=2)
    # Soonest two: rows 4 (already the best, kept as is) and 3 (lifted).
    assert ex.boosted == (3,)
    assert ex.scores[4] == 0.9
    top3 = set(np.argsort(-ex.scores, kind="stable")[:3].tolist())
    assert {3, 4} <= {ex.rows[i] for i in top3}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scores": [1.0, float("nan")]}, r"scores.*finite.*index 1"),
        ({"valid_until": [None]}, r"valid_until.*one entry per score \(2\)"),
        ({"now": datetime(2026, 11, 28)}, r"now.*timezone-aware"),
        ({"valid_until": [None, datetime(2026, 11, 29)]}, r"valid_until\[1\].*timezone-aware"),
        ({"in_filters": [1, 0]}, r"in_filters.*boolean array of shape \(2,\)"),
        ({"flash": np.array([True])}, r"flash.*boolean array of shape \(2,\)"),
        ({"pool_size": 1}, r"pool_size.*>= 2"),
        ({"max_boosted": -1}, r"max_boosted.*>= 0"),
        ({"flash_window": timedelta(0)}, r"flash_window.*positive"),
    ],
)
def test_filter_explorable_rejects_bad_input(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"scores": [1.0, 0.5], "valid_until": [None, None], "now": NOW}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        filter_explorable(**args)  # type: ignore[arg-type]


# --- rewards ---------------------------------------------------------------------------------


def test_reward_options() -> None:
    bought = LoggedOutcome(
        clicked=True, claimed=True, purchased=True, revenue=12_000, discount=1_500
    )
    clicked = LoggedOutcome(clicked=True)
    assert [reward(o, bought) for o in RewardOption] == [1, 1, 1, 10_500]
    assert [reward(o.value, clicked) for o in RewardOption] == [1, 0, 0, 0]
    assert reward("margin", LoggedOutcome()) == 0


def test_reward_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"option.*click, claim, purchase, margin.*'revenue'"):
        reward("revenue", LoggedOutcome())
    with pytest.raises(ValueError, match=r"outcome.*LoggedOutcome"):
        reward(RewardOption.CLICK, {"clicked": True})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"discount.*cannot exceed.*revenue"):
        LoggedOutcome(purchased=True, revenue=100, discount=101)
    with pytest.raises(ValueError, match=r"must be 0 without a purchase"):
        LoggedOutcome(revenue=100)
    with pytest.raises(ValueError, match=r"revenue.*integer amount in minor units"):
        LoggedOutcome(purchased=True, revenue=99.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"clicked.*True or False"):
        LoggedOutcome(clicked=1)  # type: ignore[arg-type]
