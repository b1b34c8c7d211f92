"""Activity revisions (immutable, by content), domain round trip, occurrences."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from assistant.domain import Activity, ActivityStatus, ActivityType, Audience, Scope, Tier
from assistant.errors import StoreError, UnknownEntityError
from assistant.schedule import Schedule
from assistant.store import (
    ActivityRecord,
    ActivityRevisionRecord,
    OccurrenceRecord,
    UpsertOutcome,
    activity_from_domain,
    activity_to_domain,
    get_activity,
    load_activities,
    materialize_occurrences,
    remove_activities,
    session_factory,
    upsert_activity,
)

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
THRESHOLD = Activity(
    id="A3",
    type=ActivityType.THRESHOLD,
    scope=Scope(all=True),
    schedule=Schedule.once(datetime(2026, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC)),
    title="Spend 50 save 5",
    title_zh="满50减5",
    tiers=(Tier(5000, 500), Tier(10000, 1500)),
)
FLASH = Activity(
    id="A2",
    type=ActivityType.FLASH_SALE,
    scope=Scope(products=("P1",)),
    percent=30,
    schedule=Schedule.recurring(
        datetime.fromisoformat("2026-01-01T20:00:00+08:00"),
        "FREQ=DAILY",
        timedelta(minutes=180),
        ends_at=datetime(2031, 1, 1, tzinfo=UTC),
        tz="Asia/Shanghai",
    ),
)


def _occurrences(engine: Engine) -> list[tuple[str, int, datetime, datetime]]:
    with session_factory(engine)() as session:
        rows = session.execute(
            select(
                OccurrenceRecord.activity_id,
                OccurrenceRecord.revision,
                OccurrenceRecord.starts_at,
                OccurrenceRecord.ends_at,
            ).order_by(OccurrenceRecord.activity_id, OccurrenceRecord.starts_at)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_domain_round_trip_keeps_every_term() -> None:
    coupon = Activity(
        id="A4",
        type=ActivityType.COUPON,
        scope=Scope(brands=("Stride",)),
        schedule=THRESHOLD.schedule,
        audience=Audience.parse("segment:runners"),
        status=ActivityStatus.PAUSED,
        amount=1000,
        min_spend=8000,
        budget=100000,
        per_user_limit=1,
        terms="one per shopper",
    )
    for activity in (THRESHOLD, FLASH, coupon):
        record = activity_from_domain(activity, revision=1, created_at=NOW)
        assert activity_to_domain(record) == activity


def test_same_content_keeps_the_revision_changed_content_makes_a_new_one(
    db_engine: Engine,
) -> None:
    with session_factory(db_engine).begin() as session:
        first = upsert_activity(session, THRESHOLD, now=NOW)
        again = upsert_activity(session, replace(THRESHOLD, revision=7), now=NOW)
    assert (first.outcome, first.revision, first.new_revision) == (UpsertOutcome.INSERTED, 1, True)
    assert (again.outcome, again.revision, again.new_revision) == (
        UpsertOutcome.UNCHANGED,
        1,
        False,
    )
    changed = replace(THRESHOLD, tiers=(Tier(5000, 600),))
    with session_factory(db_engine).begin() as session:
        second = upsert_activity(session, changed, now=NOW + timedelta(hours=1))
    assert (second.outcome, second.revision) == (UpsertOutcome.UPDATED, 2)
    with session_factory(db_engine)() as session:
        assert session.scalar(select(func.count()).select_from(ActivityRevisionRecord)) == 2
        old = get_activity(session, "A3", revision=1)
        assert old.tiers == THRESHOLD.tiers and old.revision == 1
        current = load_activities(session)
        assert [(a.id, a.revision, a.tiers) for a in current] == [("A3", 2, (Tier(5000, 600),))]
        head = session.get(ActivityRecord, "A3")
        assert head is not None and head.current_revision == 2


def test_revisions_refuse_updates(db_engine: Engine) -> None:
    with session_factory(db_engine).begin() as session:
        upsert_activity(session, THRESHOLD, now=NOW)
    with session_factory(db_engine)() as session:
        record = session.get(ActivityRevisionRecord, ("A3", 1))
        assert record is not None
        record.title = "edited in place"
        with pytest.raises(StoreError, match="activity revisions are immutable"):
            session.flush()


def test_daily_flash_sale_occurrences_over_14_days_are_idempotent(db_engine: Engine) -> None:
    with session_factory(db_engine).begin() as session:
        upsert_activity(session, FLASH, now=NOW)
        upsert_activity(session, THRESHOLD, now=NOW)
        assert materialize_occurrences(session, NOW) == 15
    rows = _occurrences(db_engine)
    flash = [r for r in rows if r[0] == "A2"]
    # 20:00 in Shanghai is 12:00 UTC: today's sale started at NOW, then one a day for 14 days.
    assert [r[2] for r in flash] == [NOW + timedelta(days=d) for d in range(14)]
    assert all(end - start == timedelta(hours=3) and rev == 1 for _, rev, start, end in flash)
    assert [r for r in rows if r[0] == "A3"] == [
        ("A3", 1, datetime(2026, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC))
    ]
    with session_factory(db_engine).begin() as session:
        assert materialize_occurrences(session, NOW) == 0
    assert _occurrences(db_engine) == rows
    with session_factory(db_engine).begin() as session:  # a day later, one more day is added
        assert materialize_occurrences(session, NOW + timedelta(days=1)) == 1
    assert len(_occurrences(db_engine)) == len(rows) + 1


def test_edits_and_removal_refresh_future_occurrences(db_engine: Engine) -> None:
    with session_factory(db_engine).begin() as session:
        upsert_activity(session, FLASH, now=NOW)
        materialize_occurrences(session, NOW)
        upsert_activity(session, replace(FLASH, percent=40), now=NOW)
        materialize_occurrences(session, NOW)
    assert {r[1] for r in _occurrences(db_engine)} == {2}
    with session_factory(db_engine).begin() as session:
        with pytest.raises(UnknownEntityError, match=r"unknown activity id\(s\): A404"):
            remove_activities(session, ["A2", "A404"], now=NOW)
        assert remove_activities(session, ["A2"], now=NOW + timedelta(hours=4)) == 1
        assert load_activities(session) == []
        assert [a.id for a in load_activities(session, include_removed=True)] == ["A2"]
    # Only the occurrence that had finished (12:00-15:00) is kept as history.
    assert [(r[2], r[3]) for r in _occurrences(db_engine)] == [(NOW, NOW + timedelta(hours=3))]


def test_paused_activities_have_no_occurrences(db_engine: Engine) -> None:
    with session_factory(db_engine).begin() as session:
        upsert_activity(session, replace(THRESHOLD, status=ActivityStatus.PAUSED), now=NOW)
        assert materialize_occurrences(session, NOW) == 0
