"""Activities in SQL: immutable revisions by content hash, loading, removal, occurrences.

An activity is a mutable head (:class:`~assistant.store.models.ActivityRecord`: current revision,
status, reserved budget) over immutable revisions. Storing the same content again is a no-op;
changed content becomes revision ``n + 1`` and the old revision stays as it was, because
decisions and claims point at the revision that was shown. Nothing here commits.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from assistant.domain import (
    Activity,
    ActivityStatus,
    ActivityType,
    Audience,
    Scope,
    Tier,
)
from assistant.errors import UnknownEntityError, ValidationError
from assistant.schedule import Schedule, aware
from assistant.store._sql import id_in
from assistant.store.models import ActivityRecord, ActivityRevisionRecord, OccurrenceRecord
from assistant.store.products import UpsertOutcome, unknown_ids_error

__all__ = [
    "DEFAULT_HORIZON",
    "ActivityUpsert",
    "activity_content",
    "activity_from_domain",
    "activity_to_domain",
    "content_hash",
    "get_activity",
    "load_activities",
    "materialize_occurrences",
    "remove_activities",
    "upsert_activity",
]

logger = logging.getLogger(__name__)

DEFAULT_HORIZON = timedelta(days=14)
"""How far ahead occurrences are materialized."""


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _minutes(duration: timedelta | None) -> int | None:
    if duration is None:
        return None
    minutes, rest = divmod(duration, timedelta(minutes=1))
    if rest:
        raise ValidationError(f"duration {duration} is not a whole number of minutes")
    return int(minutes)


def activity_content(activity: Activity) -> dict[str, Any]:
    """Everything that makes a revision, as canonical JSON-ready values (id and revision aside).

    ``value_known`` appears only when false, so revisions stored before it existed keep their
    hashes and re-importing them makes no new revision.
    """
    schedule = activity.schedule
    unknown = {} if activity.value_known else {"value_known": False}
    return unknown | {
        "type": activity.type.value,
        "title": activity.title,
        "title_zh": activity.title_zh,
        "terms": activity.terms,
        "status": activity.status.value,
        "scope": activity.scope.to_json(),
        "audience": str(activity.audience),
        "starts_at": _iso(schedule.starts_at),
        "ends_at": _iso(schedule.ends_at),
        "rrule": schedule.rrule,
        "duration_minutes": _minutes(schedule.duration),
        "tz": schedule.tz,
        "percent": activity.percent,
        "amount": activity.amount,
        "max_discount": activity.max_discount,
        "min_spend": activity.min_spend,
        "tiers": [[t.threshold, t.discount] for t in activity.tiers],
        "min_quantity": activity.min_quantity,
        "budget": activity.budget,
        "per_user_limit": activity.per_user_limit,
        "quantity_limit": activity.quantity_limit,
    }


def content_hash(activity: Activity) -> str:
    """SHA-256 of :func:`activity_content`; equal hashes mean the same revision."""
    text = json.dumps(activity_content(activity), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def activity_from_domain(
    activity: Activity, *, revision: int, created_at: datetime
) -> ActivityRevisionRecord:
    """A new (unsaved) revision record holding ``activity``'s content as revision ``revision``."""
    schedule = activity.schedule
    return ActivityRevisionRecord(
        activity_id=activity.id,
        revision=revision,
        type=activity.type.value,
        title=activity.title,
        title_zh=activity.title_zh,
        terms=activity.terms,
        status=activity.status.value,
        scope=activity.scope.to_json(),
        audience=str(activity.audience),
        starts_at=schedule.starts_at,
        ends_at=schedule.ends_at,
        rrule=schedule.rrule,
        duration_minutes=_minutes(schedule.duration),
        tz=schedule.tz,
        percent=activity.percent,
        amount=activity.amount,
        max_discount=activity.max_discount,
        min_spend=activity.min_spend,
        tiers=[[t.threshold, t.discount] for t in activity.tiers],
        min_quantity=activity.min_quantity,
        budget=activity.budget,
        per_user_limit=activity.per_user_limit,
        quantity_limit=activity.quantity_limit,
        value_known=activity.value_known,
        content_hash=content_hash(activity),
        created_at=aware(created_at, "created_at"),
    )


def activity_to_domain(record: ActivityRevisionRecord) -> Activity:
    """The immutable domain value of a stored revision."""
    scope = record.scope
    duration = record.duration_minutes
    return Activity(
        id=record.activity_id,
        revision=record.revision,
        type=ActivityType(record.type),
        title=record.title,
        title_zh=record.title_zh,
        terms=record.terms,
        status=ActivityStatus(record.status),
        scope=Scope(
            all=bool(scope.get("all", False)),
            categories=tuple(scope.get("categories", ())),
            brands=tuple(scope.get("brands", ())),
            products=tuple(scope.get("products", ())),
        ),
        audience=Audience.parse(record.audience),
        schedule=Schedule(
            starts_at=record.starts_at,
            ends_at=record.ends_at,
            rrule=record.rrule,
            duration=None if duration is None else timedelta(minutes=duration),
            tz=record.tz,
        ),
        percent=record.percent,
        amount=record.amount,
        max_discount=record.max_discount,
        min_spend=record.min_spend,
        tiers=tuple(Tier(threshold, discount) for threshold, discount in record.tiers),
        min_quantity=record.min_quantity,
        budget=record.budget,
        per_user_limit=record.per_user_limit,
        quantity_limit=record.quantity_limit,
        value_known=record.value_known,
    )


@dataclass(frozen=True, slots=True)
class ActivityUpsert:
    """What :func:`upsert_activity` did: the outcome, the current revision, whether it is new."""

    outcome: UpsertOutcome
    revision: int
    new_revision: bool


def upsert_activity(session: Session, activity: Activity, *, now: datetime) -> ActivityUpsert:
    """Store ``activity`` as a new revision when its content changed; otherwise do nothing.

    A removed activity that is stored again is restored (``UPDATED``, and a new revision only
    if its content changed). ``activity.revision`` is ignored: the store numbers revisions.

    Returns:
        What happened, the activity's current revision afterwards, and whether a revision was
        written.
    """
    now = aware(now, "now")
    digest = content_hash(activity)
    head = session.get(ActivityRecord, activity.id)
    if head is None:
        head = ActivityRecord(
            id=activity.id,
            current_revision=1,
            status=activity.status.value,
            budget_reserved=0,
            created_at=now,
            updated_at=now,
        )
        session.add(head)
        session.flush()
        session.add(activity_from_domain(activity, revision=1, created_at=now))
        session.flush()
        return ActivityUpsert(UpsertOutcome.INSERTED, 1, new_revision=True)
    current = session.get(ActivityRevisionRecord, (activity.id, head.current_revision))
    if current is not None and current.content_hash == digest:
        if head.removed_at is None:
            return ActivityUpsert(
                UpsertOutcome.UNCHANGED, head.current_revision, new_revision=False
            )
        head.removed_at = None
        head.updated_at = now
        session.flush()
        return ActivityUpsert(UpsertOutcome.UPDATED, head.current_revision, new_revision=False)
    revision = head.current_revision + 1
    session.add(activity_from_domain(activity, revision=revision, created_at=now))
    session.flush()
    head.current_revision = revision
    head.status = activity.status.value
    head.removed_at = None
    head.updated_at = now
    session.flush()
    logger.info("activity %s is now at revision %d", activity.id, revision)
    return ActivityUpsert(UpsertOutcome.UPDATED, revision, new_revision=True)


def _current_revisions(
    session: Session, *, include_removed: bool = False
) -> list[ActivityRevisionRecord]:
    query = (
        select(ActivityRevisionRecord)
        .join(
            ActivityRecord,
            and_(
                ActivityRecord.id == ActivityRevisionRecord.activity_id,
                ActivityRecord.current_revision == ActivityRevisionRecord.revision,
            ),
        )
        .order_by(ActivityRecord.id)
    )
    if not include_removed:
        query = query.where(ActivityRecord.removed_at.is_(None))
    return list(session.scalars(query))


def load_activities(session: Session, *, include_removed: bool = False) -> list[Activity]:
    """Every activity at its current revision, ordered by id; removed ones only on request."""
    return [
        activity_to_domain(r) for r in _current_revisions(session, include_removed=include_removed)
    ]


def get_activity(session: Session, activity_id: str, revision: int | None = None) -> Activity:
    """One activity at ``revision`` (default: its current one), removed or not.

    Raises:
        UnknownEntityError: no such activity or revision.
    """
    head = session.get(ActivityRecord, activity_id)
    if head is None:
        raise unknown_ids_error("activity", [activity_id])
    record = session.get(ActivityRevisionRecord, (activity_id, revision or head.current_revision))
    if record is None:
        raise UnknownEntityError(f"activity {activity_id} has no revision {revision}")
    return activity_to_domain(record)


def remove_activities(session: Session, ids: Iterable[str], *, now: datetime | None = None) -> int:
    """Mark activities removed and drop their unfinished occurrences.

    Raises:
        UnknownEntityError: some ids do not exist; nothing is changed.

    Returns:
        How many activities were newly removed.
    """
    now = aware(now, "now") if now is not None else datetime.now(UTC)
    wanted = sorted(set(ids))
    heads = list(
        session.scalars(select(ActivityRecord).where(id_in(session, ActivityRecord.id, wanted)))
    )
    if missing := set(wanted) - {h.id for h in heads}:
        raise unknown_ids_error("activity", missing)
    changed = 0
    for head in heads:
        if head.removed_at is None:
            head.removed_at = now
            head.updated_at = now
            changed += 1
    session.flush()
    materialize_occurrences(session, now)
    logger.info("removed %d activit(y/ies)", changed)
    return changed


def materialize_occurrences(
    session: Session, now: datetime, horizon: timedelta = DEFAULT_HORIZON
) -> int:
    """Bring the occurrence table in line with the schedules over ``[now, now + horizon)``.

    Every active, non-removed activity gets one row per occurrence overlapping the horizon, at
    its current revision. Occurrences in the horizon that no schedule produces any more (an
    edited, paused or removed activity) are deleted; finished ones are kept as history. Running
    it again with the same ``now`` changes nothing.

    Returns:
        How many rows were inserted, updated or deleted (0 when already up to date).
    """
    now = aware(now, "now")
    end = now + horizon
    wanted: dict[tuple[str, datetime], tuple[int, datetime]] = {}
    for record in _current_revisions(session):
        if record.status != ActivityStatus.ACTIVE.value:
            continue
        activity = activity_to_domain(record)
        for start, stop in activity.schedule.windows(now, end):
            wanted[(record.activity_id, start)] = (record.revision, stop)
    existing = session.scalars(
        select(OccurrenceRecord).where(
            OccurrenceRecord.ends_at > now, OccurrenceRecord.starts_at < end
        )
    )
    changes = 0
    for occurrence in existing:
        key = (occurrence.activity_id, occurrence.starts_at)
        target = wanted.pop(key, None)
        if target is None:
            session.delete(occurrence)
            changes += 1
        elif (occurrence.revision, occurrence.ends_at) != target:
            occurrence.revision, occurrence.ends_at = target
            changes += 1
    for (activity_id, start), (revision, stop) in wanted.items():
        # A finished occurrence whose window an edit extended again is updated, not duplicated.
        finished = session.get(OccurrenceRecord, (activity_id, start))
        if finished is None:
            session.add(
                OccurrenceRecord(
                    activity_id=activity_id, starts_at=start, revision=revision, ends_at=stop
                )
            )
        else:
            finished.revision, finished.ends_at = revision, stop
        changes += 1
    session.flush()
    if changes:
        logger.info("occurrences: %d change(s) over %s from %s", changes, horizon, now.isoformat())
    return changes
