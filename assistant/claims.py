"""Claiming a coupon: the deal engine decides, the store reserves the budget atomically.

One claim is one transaction. It first takes the activity's write lock (``SELECT ... FOR UPDATE``
on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so concurrent claimers of one activity are
serialised: the budget can never be overspent and a per-user limit never exceeded. The same
idempotency key returns the same claim, however often and however concurrently it is sent.

Example:
    >>> claim = claim_coupon(sessions, user_id="u1", activity_id="A4",  # doctest: +SKIP
    ...                      idempotency_key="k-1", now=now, shipping_fee=600)
    >>> claim.code  # doctest: +SKIP
    'SA-7K2M9QX4TD'
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from assistant.deals import DealContext, claim_check, full_value
from assistant.domain import Activity, IneligibleReason
from assistant.errors import ClaimRefused, InputError, UnknownEntityError, ValidationError
from assistant.money import Currency
from assistant.schedule import aware, utc_text
from assistant.store import (
    SQLITE_BEGIN_OPTION,
    ActivityRecord,
    ClaimRecord,
    budget_left,
    get_activity,
    get_or_create_user,
    user_deal_state,
)
from assistant.store.engine import retry_when_locked

__all__ = ["CLAIM_REFUSAL_CODES", "Claim", "claim_coupon"]

logger = logging.getLogger(__name__)

CLAIM_REFUSAL_CODES: dict[IneligibleReason, str] = {
    IneligibleReason.BUDGET_EXHAUSTED: "budget_exhausted",
    IneligibleReason.PER_USER_LIMIT: "per_user_limit",
    IneligibleReason.EXPIRED: "expired",
}
"""The HTTP contract's refusal codes; every other reason is ``not_eligible``."""

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are read aloud
_MAX_KEY = 200


@dataclass(frozen=True, slots=True)
class Claim:
    """A claimed coupon: its code, the amount its budget reserves and until when it is valid."""

    claim_id: str
    user_id: str
    activity_id: str
    revision: int
    code: str
    amount: int
    valid_until: datetime
    created_at: datetime
    replayed: bool = False
    """True when an earlier request with the same idempotency key made this claim."""

    def to_json(self, currency: Currency) -> dict[str, Any]:
        """The ``POST /v1/claims`` response body."""
        return {
            "claim_id": self.claim_id,
            "code": self.code,
            "activity_id": self.activity_id,
            "revision": self.revision,
            "valid_until": utc_text(self.valid_until),
            "amount": currency.format(self.amount),
        }


def _claim(record: ClaimRecord, *, replayed: bool) -> Claim:
    return Claim(
        claim_id=record.id,
        user_id=record.user_id,
        activity_id=record.activity_id,
        revision=record.revision,
        code=record.code,
        amount=record.amount,
        valid_until=record.valid_until,
        created_at=record.created_at,
        replayed=replayed,
    )


def _new_code() -> str:
    return "SA-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


def _replay(session: Session, key: str, user_id: str, activity_id: str) -> Claim | None:
    found = session.scalar(select(ClaimRecord).where(ClaimRecord.idempotency_key == key))
    if found is None:
        return None
    if (found.user_id, found.activity_id) != (user_id, activity_id):
        raise InputError(
            f"idempotency key {key!r} was already used for another claim; use a new key"
        )
    return _claim(found, replayed=True)


def _refuse(activity: Activity, reason: IneligibleReason) -> ClaimRefused:
    code = CLAIM_REFUSAL_CODES.get(reason, "not_eligible")
    messages = {
        IneligibleReason.BUDGET_EXHAUSTED: "its budget is used up",
        IneligibleReason.PER_USER_LIMIT: "you have claimed it as often as allowed",
        IneligibleReason.EXPIRED: "it has ended",
        IneligibleReason.NOT_STARTED: "it has not started yet",
        IneligibleReason.AUDIENCE: "it is for another group of shoppers",
        IneligibleReason.SOLD_OUT: "it is sold out",
    }
    why = messages.get(reason, str(reason))
    return ClaimRefused(code, f"coupon {activity.id} cannot be claimed: {why} ({reason})")


def claim_coupon(
    sessions: sessionmaker[Session],
    *,
    user_id: str,
    activity_id: str,
    idempotency_key: str,
    now: datetime,
    shipping_fee: int,
) -> Claim:
    """Claim a coupon for a shopper, reserving its full value from the activity's budget.

    Args:
        sessions: The store's session factory.
        user_id: The shopper; unknown ids are created as new, non-member users.
        activity_id: A ``coupon`` or ``new_user`` activity.
        idempotency_key: The client's key; the same key returns the same claim.
        now: The time of the claim (aware).
        shipping_fee: The shop's shipping fee in minor units (for the engine's context).

    Raises:
        ClaimRefused: the engine refuses; ``reason`` is ``budget_exhausted``,
            ``per_user_limit``, ``expired`` or ``not_eligible``.
        UnknownEntityError: no such activity.
        InputError: an empty or overlong key, or a key already used for another claim.
        StoreError: SQLite's write lock stayed busy for a minute (a burst of writers).
    """
    now = aware(now, "now")
    key = idempotency_key.strip()
    if not key or len(key) > _MAX_KEY:
        raise ValidationError(f"idempotency_key must be 1-{_MAX_KEY} characters")
    try:
        return retry_when_locked(
            partial(_claim_once, sessions, user_id, activity_id, key, now, shipping_fee),
            what="claiming a coupon",
        )
    except IntegrityError:
        # A concurrent request with the same key committed first (keys are unique in SQL).
        with sessions() as session:
            replayed = _replay(session, key, user_id, activity_id)
        if replayed is None:
            raise
        return replayed


def _claim_once(
    sessions: sessionmaker[Session],
    user_id: str,
    activity_id: str,
    key: str,
    now: datetime,
    shipping_fee: int,
) -> Claim:
    with sessions() as session, session.begin():
        session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        head = session.get(ActivityRecord, activity_id, with_for_update=True)
        if head is None or head.removed_at is not None:
            raise UnknownEntityError(f"unknown activity {activity_id!r}")
        # Checked under the lock: a concurrent claim with this key has committed by now.
        if (replayed := _replay(session, key, user_id, activity_id)) is not None:
            return replayed
        activity = get_activity(session, activity_id)
        if not activity.type.claimable:
            raise ClaimRefused(
                "not_eligible",
                f"activity {activity_id} is a {activity.type}: it applies by itself, with no claim",
            )
        user = get_or_create_user(session, user_id, now=now)
        uses, held = user_deal_state(session, user_id, now=now)
        ctx = DealContext(
            now=now,
            shopper=user.to_shopper(),
            shipping_fee=shipping_fee,
            uses=uses,
            held=held,
            budget_left=budget_left(session, [activity_id]),
        )
        reason = claim_check(activity, ctx)
        if reason is not None:
            logger.info("claim refused: activity=%s reason=%s", activity_id, reason)
            raise _refuse(activity, reason)
        window = activity.schedule.window_at(now)
        assert window is not None  # claim_check refuses anything not live now
        amount = full_value(activity) or 0
        record = ClaimRecord(
            id=f"clm_{uuid.uuid4().hex}",
            user_id=user_id,
            activity_id=activity_id,
            revision=activity.revision,
            code=_new_code(),
            amount=amount,
            idempotency_key=key,
            status="reserved",
            created_at=now,
            valid_until=window[1],
        )
        session.add(record)
        head.budget_reserved += amount
        session.flush()
        logger.info(
            "claim made: activity=%s revision=%s amount=%s", activity_id, activity.revision, amount
        )
        return _claim(record, replayed=False)
