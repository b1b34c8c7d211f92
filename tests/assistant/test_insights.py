"""Insights from SQL at request time, on SQLite and PostgreSQL: outcome rates per policy and
bucket that move as feedback is recorded, the exploration share, coupon spend against pacing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from assistant.claims import Claim, claim_coupon
from assistant.domain import Activity, ActivityType, Scope
from assistant.errors import ValidationError
from assistant.insights import (
    choose_bucket,
    coupon_pacing,
    latest_evaluation,
    outcome_rates,
    planned_spend,
)
from assistant.schedule import Schedule
from assistant.store import (
    ClaimRecord,
    DecisionRecord,
    FeedbackEvent,
    ImpressionRecord,
    get_or_create_user,
    record_feedback,
    session_factory,
    upsert_activity,
)
from assistant.store.policies import record_policy_evaluation

NOW = datetime(2030, 6, 15, 12, tzinfo=UTC)


def _slate(
    session: Session,
    decision_id: str,
    policy: str,
    at: datetime,
    propensities: list[float],
) -> list[str]:
    """One decision of ``policy`` at ``at`` showing one impression per propensity."""
    get_or_create_user(session, "U1", now=at)
    session.add(
        DecisionRecord(
            id=decision_id,
            turn_id=f"t-{decision_id}",
            user_id="U1",
            created_at=at,
            candidate_ids=[f"P{i}" for i in range(len(propensities))],
            scores=[1.0] * len(propensities),
            propensities=propensities,
            chosen_ids=[f"P{i}" for i in range(len(propensities))],
            positions=list(range(len(propensities))),
            ranker_version="r1",
            policy_version=policy,
            params_version="-",
        )
    )
    session.flush()
    ids = []
    for position, p in enumerate(propensities):
        impression_id = f"{decision_id}-{position}"
        session.add(
            ImpressionRecord(
                id=impression_id,
                decision_id=decision_id,
                position=position,
                kind="product",
                item_id=f"P{position}",
                propensity=p,
                created_at=at,
            )
        )
        ids.append(impression_id)
    session.flush()
    return ids


def _feedback(engine: Engine, event_id: str, impression_id: str, kind: str) -> bool:
    with session_factory(engine).begin() as session:
        return record_feedback(
            session, FeedbackEvent(event_id, impression_id, kind, created_at=NOW)
        )


def test_rates_per_policy_and_hour_change_when_feedback_is_recorded(db_engine: Engine) -> None:
    with session_factory(db_engine).begin() as session:
        greedy = _slate(session, "d1", "greedy-v1", NOW - timedelta(hours=2), [1.0, 1.0, 1.0])
        _slate(session, "d2", "greedy-v1", NOW - timedelta(minutes=5), [1.0, 1.0])
        eps = _slate(session, "d3", "eps-v2", NOW - timedelta(hours=2, minutes=30), [0.9, 0.05])

    with session_factory(db_engine)() as session:
        before = outcome_rates(session)
    assert before.bucket == "hour"
    assert [(r.policy_version, r.bucket, r.impressions, r.clicked) for r in before.rows] == [
        ("eps-v2", NOW - timedelta(hours=3), 2, 0),
        ("greedy-v1", NOW - timedelta(hours=2), 3, 0),
        ("greedy-v1", NOW - timedelta(hours=1), 2, 0),
    ]

    assert _feedback(db_engine, "e1", greedy[0], "click")
    assert _feedback(db_engine, "e2", greedy[0], "click")  # a second click on the same card
    assert _feedback(db_engine, "e3", greedy[1], "click")
    assert _feedback(db_engine, "e4", greedy[1], "purchase")
    assert _feedback(db_engine, "e5", eps[1], "claim")
    assert not _feedback(db_engine, "e5", eps[1], "claim")  # a retried event counts once

    with session_factory(db_engine)() as session:
        after = outcome_rates(session)
    rows = {(r.policy_version, r.bucket): r for r in after.rows}
    first_hour = rows[("greedy-v1", NOW - timedelta(hours=2))]
    assert (first_hour.clicked, first_hour.purchased, first_hour.claimed) == (2, 1, 0)
    assert first_hour.click_rate == pytest.approx(2 / 3)
    assert first_hour.purchase_rate == pytest.approx(1 / 3)
    assert rows[("greedy-v1", NOW - timedelta(hours=1))].click_rate == 0
    assert rows[("eps-v2", NOW - timedelta(hours=3))].claim_rate == pytest.approx(1 / 2)
    totals = {t.policy_version: t for t in after.totals()}
    assert (totals["greedy-v1"].impressions, totals["greedy-v1"].clicked) == (5, 2)
    assert totals["greedy-v1"].click_rate == pytest.approx(2 / 5)
    assert totals["eps-v2"].claim_rate == pytest.approx(1 / 2)


def test_exploration_share_counts_positions_logged_with_propensity_below_one(
    db_engine: Engine,
) -> None:
    with session_factory(db_engine).begin() as session:
        _slate(session, "d1", "eps-v2", NOW, [1.0, 0.999, 0.3, 1.0 - 1e-12])
        _slate(session, "d2", "greedy-v1", NOW, [1.0, 1.0])
    with session_factory(db_engine)() as session:
        totals = {t.policy_version: t for t in outcome_rates(session).totals()}
    assert totals["eps-v2"].explored == 2  # 1 - 1e-12 is float rounding, not randomness
    assert totals["eps-v2"].exploration_rate == pytest.approx(0.5)
    assert totals["greedy-v1"].exploration_rate == 0


def test_days_when_the_span_is_long_and_a_time_window_filters(db_engine: Engine) -> None:
    with session_factory(db_engine).begin() as session:
        _slate(session, "d1", "p", NOW - timedelta(days=6, hours=1), [1.0])
        _slate(session, "d2", "p", NOW - timedelta(days=6, hours=5), [0.5])
        _slate(session, "d3", "p", NOW, [1.0, 1.0])
    with session_factory(db_engine)() as session:
        daily = outcome_rates(session)
        recent = outcome_rates(session, since=NOW - timedelta(days=1))
        hourly = outcome_rates(session, bucket="hour")
    day = NOW.replace(hour=0)
    assert daily.bucket == "day"
    assert [(r.bucket, r.impressions, r.explored) for r in daily.rows] == [
        (day - timedelta(days=6), 2, 1),
        (day, 2, 0),
    ]
    assert recent.bucket == "hour"
    assert [(r.bucket, r.impressions) for r in recent.rows] == [(NOW, 2)]
    assert len(hourly.rows) == 3


def test_no_impressions_no_rows(db_engine: Engine) -> None:
    with session_factory(db_engine)() as session:
        empty = outcome_rates(session)
        assert latest_evaluation(session) is None
    assert (empty.rows, empty.totals()) == ((), ())


def test_bad_windows_and_buckets_are_refused(db_engine: Engine) -> None:
    with session_factory(db_engine)() as session:
        with pytest.raises(ValidationError, match="until .* is not after since"):
            outcome_rates(session, since=NOW, until=NOW - timedelta(hours=1))
        with pytest.raises(ValidationError, match="since 2030-06-15T12:00:00 has no time zone"):
            outcome_rates(session, since=NOW.replace(tzinfo=None))
        with pytest.raises(ValidationError, match="unknown bucket 'week'; use 'hour' or 'day'"):
            outcome_rates(session, bucket="week")  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="limit 0 must be at least 1"):
            coupon_pacing(session, NOW, limit=0)


def test_choose_bucket_and_linear_plan() -> None:
    assert choose_bucket(NOW, NOW + timedelta(days=3)) == "hour"
    assert choose_bucket(NOW, NOW + timedelta(days=3, seconds=1)) == "day"
    assert choose_bucket(None, None) == "hour"
    start, end = NOW, NOW + timedelta(days=10)
    assert planned_spend(10_000, start, end, NOW - timedelta(days=1)) == 0
    assert planned_spend(10_000, start, end, NOW + timedelta(days=4)) == 4_000
    assert planned_spend(10_000, start, end, NOW + timedelta(days=20)) == 10_000
    assert (
        planned_spend(100, start, start + timedelta(seconds=3), start + timedelta(seconds=1)) == 33
    )
    with pytest.raises(ValidationError, match="open-ended window has no linear plan"):
        planned_spend(100, start, None, NOW)


def _claim(engine: Engine, user_id: str, activity_id: str, at: datetime) -> Claim:
    return claim_coupon(
        session_factory(engine),
        user_id=user_id,
        activity_id=activity_id,
        idempotency_key=f"{activity_id}-{user_id}-{at.isoformat()}",
        now=at,
        shipping_fee=600,
    )


def _coupon(
    activity_id: str, budget: int | None, schedule: Schedule, amount: int = 500
) -> Activity:
    return Activity(
        activity_id,
        ActivityType.COUPON,
        Scope(all=True),
        schedule,
        title=f"{activity_id} coupon",
        amount=amount,
        budget=budget,
    )


def test_coupon_spend_against_a_linear_pacing_plan(db_engine: Engine) -> None:
    start = NOW.replace(hour=0) - timedelta(days=4)
    ten_days = Schedule.once(start, start + timedelta(days=10))
    weekly = Schedule.recurring(start, "FREQ=WEEKLY", timedelta(days=7))
    with session_factory(db_engine).begin() as session:
        upsert_activity(session, _coupon("C-PACED", 10_000, ten_days), now=start)
        upsert_activity(session, _coupon("C-OPEN", 5_000, weekly, amount=250), now=start)
        upsert_activity(session, _coupon("C-NOBUDGET", None, ten_days), now=start)
        upsert_activity(
            session,
            Activity("PCT", ActivityType.PERCENT_OFF, Scope(all=True), ten_days, percent=5),
            now=start,
        )
    for n, day in enumerate((0, 0, 1, 3)):  # 4 claims of 5.00 over days 0, 0, 1 and 3
        _claim(db_engine, f"U{n}", "C-PACED", start + timedelta(days=day, hours=2))
    _claim(db_engine, "U9", "C-OPEN", start + timedelta(hours=1))
    _claim(db_engine, "U8", "C-PACED", NOW + timedelta(hours=1))  # after `now`: not counted

    with session_factory(db_engine)() as session:
        paced = coupon_pacing(session, NOW, bucket="day")
        hourly = coupon_pacing(session, NOW, limit=1)
        only_open = coupon_pacing(session, NOW, activity_ids=["C-OPEN"])
    assert [p.activity_id for p in paced] == ["C-PACED", "C-OPEN"]  # biggest spender first
    first = paced[0]
    assert (first.budget, first.spent, first.claims) == (10_000, 2_000, 4)
    assert first.planned_now == 4_500  # 4.5 of 10 days
    assert first.pace == pytest.approx(2_000 / 4_500)
    assert [(p.at - start, p.spent, p.planned) for p in first.points] == [
        (timedelta(days=1), 1_000, 1_000),
        (timedelta(days=2), 1_500, 2_000),
        (timedelta(days=4), 2_000, 4_000),
    ]
    assert paced[1].planned_now is None and paced[1].pace is None
    assert [(p.spent, p.planned) for p in paced[1].points] == [(250, None)]
    assert [p.activity_id for p in only_open] == ["C-OPEN"]
    # Claims spanning 3 days: hourly points, each read off the plan at the bucket's end.
    assert [p.activity_id for p in hourly] == ["C-PACED"]
    assert [(p.at - start, p.spent, p.planned) for p in hourly[0].points] == [
        (timedelta(hours=3), 1_000, 125),
        (timedelta(days=1, hours=3), 1_500, 1_125),
        (timedelta(days=3, hours=3), 2_000, 3_125),
    ]


def test_released_claims_are_not_spend(db_engine: Engine) -> None:
    start = NOW - timedelta(days=1)
    with session_factory(db_engine).begin() as session:
        upsert_activity(
            session, _coupon("C1", 10_000, Schedule.once(start, NOW + timedelta(days=1))), now=start
        )
    kept = _claim(db_engine, "U1", "C1", start + timedelta(hours=1))
    released = _claim(db_engine, "U2", "C1", start + timedelta(hours=2))
    with session_factory(db_engine).begin() as session:
        record = session.get(ClaimRecord, released.claim_id)
        assert record is not None
        record.status = "released"
    with session_factory(db_engine)() as session:
        (paced,) = coupon_pacing(session, NOW)
    assert (paced.spent, paced.claims) == (kept.amount, 1)
    assert paced.planned_now == 5_000


def test_the_latest_policy_evaluation_is_shown(db_engine: Engine) -> None:
    report = {"logged": 0.17, "estimates": [{"name": "IPS", "value": 0.2, "low": 0.1, "high": 0.3}]}
    with session_factory(db_engine).begin() as session:
        for i, at in enumerate((NOW - timedelta(hours=2), NOW)):
            record_policy_evaluation(
                session,
                candidate_version=f"linucb:{i}",
                serving_version="epsilon_greedy:1",
                n_decisions=100,
                reward="click",
                report=report,
                promoted=bool(i),
                now=at,
            )
    with session_factory(db_engine)() as session:
        latest = latest_evaluation(session)
        assert latest is not None
        assert (latest.candidate_version, latest.promoted) == ("linucb:1", True)
