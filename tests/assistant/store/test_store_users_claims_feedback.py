"""Users on first contact, the deal state from claims, budgets left, idempotent feedback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from assistant.domain import Activity, ActivityType, Scope
from assistant.errors import UnknownEntityError, ValidationError
from assistant.schedule import Schedule
from assistant.store import (
    ActivityRecord,
    ClaimRecord,
    DecisionRecord,
    FeedbackEvent,
    FeedbackRecord,
    ImpressionRecord,
    budget_left,
    get_or_create_user,
    record_feedback,
    session_factory,
    upsert_activity,
    user_deal_state,
)

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
WINDOW = Schedule.once(datetime(2026, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC))


def _coupon(activity_id: str, budget: int | None) -> Activity:
    return Activity(
        id=activity_id,
        type=ActivityType.COUPON,
        scope=Scope(all=True),
        schedule=WINDOW,
        amount=1000,
        budget=budget,
        per_user_limit=2,
    )


def _claim(session: Session, claim_id: str, user: str, activity: str, status: str) -> None:
    session.add(
        ClaimRecord(
            id=claim_id,
            user_id=user,
            activity_id=activity,
            revision=1,
            code=f"CODE-{claim_id}",
            amount=1000,
            idempotency_key=f"key-{claim_id}",
            status=status,
            created_at=NOW,
            valid_until=NOW + timedelta(days=7),
        )
    )


def test_unknown_user_is_created_new_and_not_a_member(db_engine: Engine) -> None:
    with session_factory(db_engine).begin() as session:
        user = get_or_create_user(session, "U1", locale="zh", now=NOW)
        assert (user.member, user.new_user, user.segments, user.created_at) == (
            False,
            True,
            [],
            NOW,
        )
    with session_factory(db_engine).begin() as session:
        again = get_or_create_user(session, "U1", locale="en")
        assert (again.locale, again.created_at) == ("zh", NOW)
        again.member = True
    with session_factory(db_engine)() as session:
        shopper = get_or_create_user(session, "U1").to_shopper()
        assert (shopper.id, shopper.member, shopper.new_user) == ("U1", True, True)


def test_bad_user_id_is_refused(db_engine: Engine) -> None:
    with (
        session_factory(db_engine)() as session,
        pytest.raises(ValidationError, match="user id '' must be 1-128 letters"),
    ):
        get_or_create_user(session, "")


def test_deal_state_counts_uses_and_holds(db_engine: Engine) -> None:
    with session_factory(db_engine).begin() as session:
        for user in ("U1", "U2"):
            get_or_create_user(session, user, now=NOW)
        upsert_activity(session, _coupon("A4", budget=100000), now=NOW)
        upsert_activity(session, _coupon("A7", budget=None), now=NOW)
        _claim(session, "c1", "U1", "A4", "redeemed")
        _claim(session, "c2", "U1", "A4", "reserved")
        _claim(session, "c3", "U1", "A7", "released")
        _claim(session, "c4", "U2", "A7", "reserved")
        head = session.get(ActivityRecord, "A4")
        assert head is not None
        head.budget_reserved = 99500
    with session_factory(db_engine)() as session:
        assert user_deal_state(session, "U1") == ({"A4": 2}, frozenset({"A4"}))
        assert user_deal_state(session, "U2") == ({"A7": 1}, frozenset({"A7"}))
        assert user_deal_state(session, "U2", now=NOW + timedelta(days=8)) == ({"A7": 1}, set())
        assert user_deal_state(session, "nobody") == ({}, frozenset())
        assert budget_left(session, ["A4", "A7"]) == {"A4": 500}
        with pytest.raises(UnknownEntityError, match="A404"):
            budget_left(session, ["A4", "A404"])


def _impression(session: Session) -> None:
    get_or_create_user(session, "U1", now=NOW)
    session.add(
        DecisionRecord(
            id="d1",
            turn_id="t1",
            user_id="U1",
            created_at=NOW,
            candidate_ids=["P1", "A4"],
            scores=[0.9, 0.4],
            propensities=[0.8, 0.2],
            chosen_ids=["P1"],
            positions=[0],
            ranker_version="r1",
            policy_version="p1",
            params_version="v1",
        )
    )
    session.flush()
    session.add(
        ImpressionRecord(
            id="i1",
            decision_id="d1",
            position=0,
            kind="product",
            item_id="P1",
            propensity=0.8,
            created_at=NOW,
        )
    )


def test_feedback_is_recorded_once_per_event_id(db_engine: Engine) -> None:
    click = FeedbackEvent(event_id="e1", impression_id="i1", type="click", created_at=NOW)
    with session_factory(db_engine).begin() as session:
        _impression(session)
    with session_factory(db_engine).begin() as session:
        assert record_feedback(session, click) is True
    with session_factory(db_engine).begin() as session:
        assert record_feedback(session, click) is False
        purchase = FeedbackEvent("e1", "i1", "purchase", order_id="o1", value=6000)
        assert record_feedback(session, purchase) is False
    with session_factory(db_engine)() as session:
        assert session.scalar(select(func.count()).select_from(FeedbackRecord)) == 1
        stored = session.get(FeedbackRecord, "e1")
        assert stored is not None and (stored.type, stored.created_at) == ("click", NOW)


def test_feedback_on_unknown_impression_or_of_unknown_type_is_refused(db_engine: Engine) -> None:
    with pytest.raises(ValidationError, match="unknown feedback type 'like'"):
        FeedbackEvent("e2", "i1", "like")
    with (
        session_factory(db_engine)() as session,
        pytest.raises(UnknownEntityError, match="unknown impression id 'i404'"),
    ):
        record_feedback(session, FeedbackEvent("e2", "i404", "click"))
