"""Insights computed from SQL at request time: outcome rates by policy, exploration, coupon pacing.

Nothing here is cached or precomputed: every function runs its queries when called, so a feedback
event recorded a moment ago is counted by the next call. Results are frozen dataclasses of
integers (minor units for money) and aware UTC datetimes; the Gradio Insights tab turns them into
plots.

Definitions (each per policy version and time bucket of the *impression*, so late feedback on
an old impression changes that impression's bucket):

* **impressions**: recommendations shown (one row of ``impressions``, one slate position).
* **click / claim / purchase rate**: the share of impressions that received at least one
  feedback event of that type (``feedback_events``). Counting impressions rather than events
  keeps a rate within [0, 1] when a shopper clicks the same card twice.
* **exploration rate**: the share of impressions whose logged propensity is below 1, i.e. the
  position was filled with randomness (a greedy, deterministic pick logs propensity 1). Values
  within :data:`PROPENSITY_EPSILON` of 1 count as 1, so float rounding is not exploration.
* **coupon spend**: the amounts of a coupon's claims that were not released (the budget each
  claim reserved), in minor units, cumulated over time; **pacing** is the linear plan
  ``budget * elapsed / (ends_at - starts_at)`` over the activity's current window (no plan for
  an open-ended recurrence).

Buckets are an hour when the data span at most :data:`HOURLY_MAX_SPAN`, otherwise a day (UTC).

Example:
    >>> with shop.sessions() as session:  # doctest: +SKIP
    ...     report = outcome_rates(session)
    ...     [(t.policy_version, t.impressions, t.click_rate) for t in report.totals()]
    [('eps-greedy-v1', 30, 0.1)]
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, case, func, literal_column, select
from sqlalchemy.orm import Session

from assistant.domain import ActivityType
from assistant.errors import ValidationError
from assistant.schedule import aware
from assistant.store.models import (
    ActivityRecord,
    ActivityRevisionRecord,
    ClaimRecord,
    DecisionRecord,
    FeedbackRecord,
    ImpressionRecord,
    PolicyEvaluationRecord,
)
from assistant.store.policies import latest_policy_evaluation

__all__ = [
    "HOURLY_MAX_SPAN",
    "PROPENSITY_EPSILON",
    "Bucket",
    "CouponPacing",
    "OutcomeRates",
    "RateRow",
    "SpendPoint",
    "choose_bucket",
    "coupon_pacing",
    "latest_evaluation",
    "outcome_rates",
    "planned_spend",
]

logger = logging.getLogger(__name__)

Bucket = Literal["hour", "day"]

HOURLY_MAX_SPAN = timedelta(days=3)
"""Data spanning at most this long is bucketed by hour, longer spans by day."""

PROPENSITY_EPSILON = 1e-9
"""A logged propensity above ``1 - PROPENSITY_EPSILON`` counts as a deterministic pick."""

_STEP: dict[Bucket, timedelta] = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
_SQLITE_FORMAT: dict[Bucket, str] = {"hour": "%Y-%m-%d %H:00:00", "day": "%Y-%m-%d 00:00:00"}
_COUPON_TYPES = (ActivityType.COUPON.value, ActivityType.NEW_USER.value)


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@dataclass(frozen=True, slots=True)
class RateRow:
    """Impressions of one policy version in one bucket and what shoppers did with them.

    Attributes:
        policy_version: The serving policy's version logged with the decision.
        bucket: Start (UTC) of the bucket; ``None`` in :meth:`OutcomeRates.totals`.
        impressions: Impressions shown.
        clicked: Impressions with at least one ``click``.
        claimed: Impressions with at least one ``claim``.
        purchased: Impressions with at least one ``purchase``.
        explored: Impressions whose logged propensity is below 1.
    """

    policy_version: str
    bucket: datetime | None
    impressions: int
    clicked: int
    claimed: int
    purchased: int
    explored: int

    @property
    def click_rate(self) -> float:
        """``clicked / impressions`` (0 without impressions)."""
        return _share(self.clicked, self.impressions)

    @property
    def claim_rate(self) -> float:
        """``claimed / impressions``."""
        return _share(self.claimed, self.impressions)

    @property
    def purchase_rate(self) -> float:
        """``purchased / impressions``."""
        return _share(self.purchased, self.impressions)

    @property
    def exploration_rate(self) -> float:
        """``explored / impressions``: the share of positions filled with randomness."""
        return _share(self.explored, self.impressions)


@dataclass(frozen=True, slots=True)
class OutcomeRates:
    """Rates per policy version and bucket, ordered by policy version then bucket."""

    bucket: Bucket
    rows: tuple[RateRow, ...]

    def totals(self) -> tuple[RateRow, ...]:
        """One row per policy version over every bucket (``bucket`` is ``None``)."""
        sums: dict[str, list[int]] = {}
        for row in self.rows:
            acc = sums.setdefault(row.policy_version, [0, 0, 0, 0, 0])
            for i, value in enumerate(
                (row.impressions, row.clicked, row.claimed, row.purchased, row.explored)
            ):
                acc[i] += value
        return tuple(RateRow(policy, None, *acc) for policy, acc in sorted(sums.items()))


def choose_bucket(first: datetime | None, last: datetime | None) -> Bucket:
    """``"hour"`` when ``last - first`` is at most :data:`HOURLY_MAX_SPAN`, else ``"day"``."""
    if first is None or last is None or last - first <= HOURLY_MAX_SPAN:
        return "hour"
    return "day"


def _bucket_expr(session: Session, column: Any, bucket: Bucket) -> ColumnElement[Any]:
    """The start of ``column``'s bucket, in SQL; the unit is a literal from a closed set."""
    if session.get_bind().dialect.name == "postgresql":
        # AT TIME ZONE 'UTC' first, so the session's TimeZone setting cannot shift the bucket.
        return func.date_trunc(
            literal_column(f"'{bucket}'"), func.timezone(literal_column("'UTC'"), column)
        )
    return func.strftime(literal_column(f"'{_SQLITE_FORMAT[bucket]}'"), column)


def _bucket_value(value: Any) -> datetime:
    """A bucket start as the driver returned it (text on SQLite), as aware UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a bucket timestamp from the database, got {value!r}")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _window(
    column: Any, since: datetime | None, until: datetime | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if since is not None:
        where.append(column >= aware(since, "since"))
    if until is not None:
        where.append(column < aware(until, "until"))
    if since is not None and until is not None and until <= since:
        raise ValidationError(
            f"until {until.isoformat()} is not after since {since.isoformat()}; swap them"
        )
    return where


def outcome_rates(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    bucket: Bucket | None = None,
) -> OutcomeRates:
    """Impressions and click / claim / purchase / exploration rates per policy and bucket.

    Args:
        session: An open session.
        since: Only impressions shown at or after this moment (aware).
        until: Only impressions shown before this moment (aware).
        bucket: ``"hour"`` or ``"day"``; by default chosen by :func:`choose_bucket` from the
            span of the impressions selected.

    Raises:
        ValidationError: a naive ``since``/``until``, ``until`` not after ``since``, or an
            unknown bucket.
    """
    where = _window(ImpressionRecord.created_at, since, until)
    if bucket is None:
        first, last = session.execute(
            select(func.min(ImpressionRecord.created_at), func.max(ImpressionRecord.created_at))
            .select_from(ImpressionRecord)
            .where(*where)
        ).one()
        # min()/max() lose the column type on SQLite: parse what comes back.
        bucket = choose_bucket(
            None if first is None else _bucket_value(first),
            None if last is None else _bucket_value(last),
        )
    if bucket not in _STEP:
        raise ValidationError(f"unknown bucket {bucket!r}; use 'hour' or 'day'")

    def flag(kind: str) -> Any:
        return func.max(case((FeedbackRecord.type == kind, 1), else_=0)).label(kind)

    reactions = (
        select(FeedbackRecord.impression_id, flag("click"), flag("claim"), flag("purchase"))
        .group_by(FeedbackRecord.impression_id)
        .subquery()
    )
    start = _bucket_expr(session, ImpressionRecord.created_at, bucket).label("bucket")
    explored = case((ImpressionRecord.propensity < 1 - PROPENSITY_EPSILON, 1), else_=0)
    query = (
        select(
            DecisionRecord.policy_version,
            start,
            func.count(),
            func.coalesce(func.sum(reactions.c.click), 0),
            func.coalesce(func.sum(reactions.c.claim), 0),
            func.coalesce(func.sum(reactions.c.purchase), 0),
            func.coalesce(func.sum(explored), 0),
        )
        .select_from(ImpressionRecord)
        .join(DecisionRecord, DecisionRecord.id == ImpressionRecord.decision_id)
        .outerjoin(reactions, reactions.c.impression_id == ImpressionRecord.id)
        .where(*where)
        .group_by(DecisionRecord.policy_version, start)
        .order_by(DecisionRecord.policy_version, start)
    )
    rows = tuple(
        RateRow(
            policy_version=policy,
            bucket=_bucket_value(moment),
            impressions=int(shown),
            clicked=int(clicks),
            claimed=int(claims),
            purchased=int(purchases),
            explored=int(randomized),
        )
        for policy, moment, shown, clicks, claims, purchases, randomized in session.execute(query)
    )
    return OutcomeRates(bucket, rows)


@dataclass(frozen=True, slots=True)
class SpendPoint:
    """A coupon's spend at the end of one bucket against its linear plan.

    Attributes:
        at: The end of the bucket (UTC), or the moment asked for if earlier.
        spent: Claimed amounts (not released) up to ``at``, minor units.
        planned: The linear plan at ``at``; ``None`` when the window has no end.
    """

    at: datetime
    spent: int
    planned: int | None


@dataclass(frozen=True, slots=True)
class CouponPacing:
    """One coupon activity's spend against a linear pacing plan over its budget and window.

    Attributes:
        activity_id: The activity.
        revision: Its current revision (whose budget and window are used).
        title: Its title.
        budget: Its budget, minor units.
        spent: Amounts of its claims that were not released, minor units.
        claims: How many such claims.
        starts_at: Start of its window (UTC).
        ends_at: End of its window (UTC), ``None`` for an open-ended recurrence.
        planned_now: :func:`planned_spend` at the moment asked for.
        points: Spend over time, one point per bucket with claims.
    """

    activity_id: str
    revision: int
    title: str
    budget: int
    spent: int
    claims: int
    starts_at: datetime
    ends_at: datetime | None
    planned_now: int | None
    points: tuple[SpendPoint, ...]

    @property
    def pace(self) -> float | None:
        """``spent / planned_now``: above 1 spends ahead of plan; ``None`` without a plan."""
        if self.planned_now is None or self.planned_now == 0:
            return None
        return self.spent / self.planned_now


def planned_spend(budget: int, starts_at: datetime, ends_at: datetime | None, at: datetime) -> int:
    """The linear plan: ``budget * (at - starts_at) / (ends_at - starts_at)``, clamped, floored.

    Exact in integers (microseconds), so a plan never drifts by a cent.

    >>> from datetime import UTC, datetime
    >>> day = datetime(2030, 1, 1, tzinfo=UTC)
    >>> planned_spend(10000, day, day.replace(day=11), day.replace(day=4))
    3000

    Raises:
        ValidationError: no end (an open-ended window has no linear plan), or a naive time.
    """
    if ends_at is None:
        raise ValidationError("an open-ended window has no linear plan; give the window an end")
    starts_at, ends_at, at = aware(starts_at), aware(ends_at), aware(at, "at")
    total = (ends_at - starts_at) // timedelta(microseconds=1)
    elapsed = (min(max(at, starts_at), ends_at) - starts_at) // timedelta(microseconds=1)
    return budget * elapsed // total if total > 0 else budget


def _plan(record: ActivityRevisionRecord, at: datetime) -> int | None:
    if record.budget is None or record.ends_at is None:
        return None
    return planned_spend(record.budget, record.starts_at, record.ends_at, at)


def coupon_pacing(
    session: Session,
    now: datetime,
    *,
    limit: int = 10,
    bucket: Bucket | None = None,
    activity_ids: list[str] | None = None,
) -> list[CouponPacing]:
    """Spend against pacing for coupon activities (``coupon``, ``new_user``) with a budget.

    Args:
        session: An open session.
        now: The moment the plan is read at (aware); later claims are not counted.
        limit: At most this many activities, the largest spenders first (then by id).
        bucket: Time bucket of the spend curve; by default chosen from the claims' span.
        activity_ids: Only these activities (still coupons with a budget, not removed).

    Raises:
        ValidationError: a naive ``now`` or a ``limit`` below 1.
    """
    now = aware(now, "now")
    if limit < 1:
        raise ValidationError(f"limit {limit} must be at least 1")
    live_claim = and_(ClaimRecord.status != "released", ClaimRecord.created_at <= now)
    spent = (
        select(
            ClaimRecord.activity_id.label("activity_id"),
            func.sum(ClaimRecord.amount).label("spent"),
            func.count().label("claims"),
        )
        .where(live_claim)
        .group_by(ClaimRecord.activity_id)
        .subquery()
    )
    spent_total = func.coalesce(spent.c.spent, 0)
    query = (
        select(ActivityRevisionRecord, spent_total, func.coalesce(spent.c.claims, 0))
        .join(
            ActivityRecord,
            and_(
                ActivityRecord.id == ActivityRevisionRecord.activity_id,
                ActivityRecord.current_revision == ActivityRevisionRecord.revision,
            ),
        )
        .outerjoin(spent, spent.c.activity_id == ActivityRevisionRecord.activity_id)
        .where(
            ActivityRecord.removed_at.is_(None),
            ActivityRevisionRecord.type.in_(_COUPON_TYPES),
            ActivityRevisionRecord.budget.is_not(None),
        )
        .order_by(spent_total.desc(), ActivityRevisionRecord.activity_id)
        .limit(limit)
    )
    if activity_ids is not None:
        query = query.where(ActivityRevisionRecord.activity_id.in_(activity_ids))
    chosen = [(record, int(total), int(count)) for record, total, count in session.execute(query)]
    if not chosen:
        return []
    ids = [record.activity_id for record, _, _ in chosen]
    if bucket is None:
        first, last = session.execute(
            select(func.min(ClaimRecord.created_at), func.max(ClaimRecord.created_at)).where(
                live_claim, ClaimRecord.activity_id.in_(ids)
            )
        ).one()
        bucket = choose_bucket(
            None if first is None else _bucket_value(first),
            None if last is None else _bucket_value(last),
        )
    if bucket not in _STEP:
        raise ValidationError(f"unknown bucket {bucket!r}; use 'hour' or 'day'")
    start = _bucket_expr(session, ClaimRecord.created_at, bucket).label("bucket")
    per_bucket: dict[str, list[tuple[datetime, int]]] = {}
    for activity_id, moment, amount in session.execute(
        select(ClaimRecord.activity_id, start, func.sum(ClaimRecord.amount))
        .where(live_claim, ClaimRecord.activity_id.in_(ids))
        .group_by(ClaimRecord.activity_id, start)
        .order_by(ClaimRecord.activity_id, start)
    ):
        per_bucket.setdefault(activity_id, []).append((_bucket_value(moment), int(amount)))

    out: list[CouponPacing] = []
    for record, total, count in chosen:
        assert record.budget is not None  # filtered in SQL
        ends_at = record.ends_at
        points: list[SpendPoint] = []
        running = 0
        for moment, amount in per_bucket.get(record.activity_id, []):
            running += amount
            at = min(moment + _STEP[bucket], now)
            points.append(SpendPoint(at, running, _plan(record, at)))
        out.append(
            CouponPacing(
                activity_id=record.activity_id,
                revision=record.revision,
                title=record.title,
                budget=record.budget,
                spent=total,
                claims=count,
                starts_at=record.starts_at,
                ends_at=ends_at,
                planned_now=_plan(record, now),
                points=tuple(points),
            )
        )
    return out


def latest_evaluation(session: Session) -> PolicyEvaluationRecord | None:
    """The latest off-policy evaluation of a candidate policy (``shopassist policy evaluate`` or
    ``promote``), or ``None`` before the first."""
    return latest_policy_evaluation(session)
