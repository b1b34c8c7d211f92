"""What the deal engine needs from SQL about claims: a shopper's uses and holds, budgets left."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, literal_column, select, union_all
from sqlalchemy.orm import Session

from assistant.schedule import aware
from assistant.store._sql import id_in
from assistant.store.models import ActivityRecord, ActivityRevisionRecord, ClaimRecord
from assistant.store.products import unknown_ids_error

__all__ = ["budget_left", "turn_deal_state", "user_deal_state"]


def user_deal_state(
    session: Session, user_id: str, *, now: datetime | None = None
) -> tuple[dict[str, int], frozenset[str]]:
    """A shopper's claim history, as the deal engine takes it.

    Args:
        session: An open session.
        user_id: The shopper.
        now: When given, a reserved claim past its ``valid_until`` no longer counts as held.

    Returns:
        ``(uses, held)``: ``uses`` counts the shopper's claims that were not released, per
        activity id (for ``per_user_limit``); ``held`` is the activities for which the shopper
        holds a reserved, not yet redeemed claim.
    """
    uses_query = (
        select(ClaimRecord.activity_id, func.count())
        .where(ClaimRecord.user_id == user_id, ClaimRecord.status != "released")
        .group_by(ClaimRecord.activity_id)
    )
    uses = {activity_id: int(count) for activity_id, count in session.execute(uses_query)}
    held_query = select(ClaimRecord.activity_id).where(
        ClaimRecord.user_id == user_id, ClaimRecord.status == "reserved"
    )
    if now is not None:
        held_query = held_query.where(ClaimRecord.valid_until > aware(now, "now"))
    held = frozenset(session.scalars(held_query.distinct()))
    return uses, held


def _turn_deal_state_query() -> Any:
    # Table columns rather than ORM attributes, and built once with bind parameters: the
    # statement runs at every turn, and Session.execute then skips the ORM's compilation and
    # SQLAlchemy the rebuilding of the statement and its cache key.
    claims = cast(Table, ClaimRecord.__table__).c
    activities = cast(Table, ActivityRecord.__table__).c
    user: Any = bindparam("user_id")
    uses = (
        select(literal_column("'use'"), claims.activity_id, func.count())
        .where(claims.user_id == user, claims.status != "released")
        .group_by(claims.activity_id)
    )
    held = (
        select(literal_column("'held'"), claims.activity_id, func.count())
        .where(
            claims.user_id == user,
            claims.status == "reserved",
            claims.valid_until > bindparam("now"),
        )
        .group_by(claims.activity_id)
    )
    reserved = select(
        literal_column("'reserved'"), activities.id, activities.budget_reserved
    ).where(activities.budget_reserved > 0)
    return union_all(uses, held, reserved)


_TURN_DEAL_STATE = _turn_deal_state_query()


def turn_deal_state(
    session: Session, user_id: str, *, now: datetime
) -> tuple[dict[str, int], frozenset[str], dict[str, int]]:
    """:func:`user_deal_state` and every activity's reserved budget, in one round trip.

    A turn needs all three; one ``UNION ALL`` instead of three statements saves two round
    trips to the database per turn (measured on the load test's PostgreSQL).

    Returns:
        ``(uses, held, reserved)``: ``uses`` and ``held`` as :func:`user_deal_state` with
        ``now``; ``reserved`` is ``budget_reserved`` (minor units) per activity that has
        reserved any.
    """
    now = aware(now, "now")
    found: dict[str, dict[str, int]] = {"use": {}, "held": {}, "reserved": {}}
    params = {"user_id": user_id, "now": now}
    for row_kind, activity_id, n in session.execute(_TURN_DEAL_STATE, params):
        found[row_kind][activity_id] = int(n)
    return found["use"], frozenset(found["held"]), found["reserved"]


def budget_left(session: Session, activity_ids: Iterable[str]) -> dict[str, int]:
    """Remaining budget (minor units, never below 0) of each given activity that has a budget.

    The budget is the current revision's; the reserved total is the activity's running
    ``budget_reserved``. Activities without a budget are left out of the result.

    Raises:
        UnknownEntityError: some ids are not activities; all of them are listed.
    """
    wanted = set(activity_ids)
    if not wanted:
        return {}
    query = (
        select(ActivityRecord.id, ActivityRevisionRecord.budget, ActivityRecord.budget_reserved)
        .join(
            ActivityRevisionRecord,
            and_(
                ActivityRevisionRecord.activity_id == ActivityRecord.id,
                ActivityRevisionRecord.revision == ActivityRecord.current_revision,
            ),
        )
        .where(id_in(session, ActivityRecord.id, sorted(wanted)))
    )
    rows = session.execute(query).all()
    if missing := wanted - {row[0] for row in rows}:
        raise unknown_ids_error("activity", missing)
    return {
        activity_id: max(0, budget - reserved)
        for activity_id, budget, reserved in rows
        if budget is not None
    }
