"""Coupon turns: the shopper's coupons, and why a coupon or deal does not apply."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.conversation.facts import CouponFact, IneligibleFact
from assistant.conversation.snapshot import CatalogSnapshot
from assistant.deals import DealContext, eligibility, quote_cart
from assistant.domain import Activity, CartLine, Group, IneligibleReason, Product
from assistant.store.models import ClaimRecord

__all__ = ["explain", "held_coupons"]


def _title(activity: Activity | None, activity_id: str, language: str) -> str:
    if activity is None:
        return activity_id
    if language == "zh" and activity.title_zh:
        return activity.title_zh
    return activity.title or activity.id


def held_coupons(
    session: Session, user_id: str, snapshot: CatalogSnapshot, *, language: str, now: datetime
) -> tuple[CouponFact, ...]:
    """The shopper's claims that are still reserved and valid, newest first."""
    rows = session.scalars(
        select(ClaimRecord)
        .where(
            ClaimRecord.user_id == user_id,
            ClaimRecord.status == "reserved",
            ClaimRecord.valid_until > now,
        )
        .order_by(ClaimRecord.created_at.desc(), ClaimRecord.id)
        .limit(20)
    )
    return tuple(
        CouponFact(
            claim_id=r.id,
            activity_id=r.activity_id,
            title=_title(snapshot.activity_by_id.get(r.activity_id), r.activity_id, language),
            code=r.code,
            amount=r.amount,
            valid_until=r.valid_until,
            status=r.status,
        )
        for r in rows
    )


def explain(
    coupon_ids: Iterable[str],
    snapshot: CatalogSnapshot,
    ctx: DealContext,
    *,
    cart: Sequence[CartLine],
    products: Mapping[str, Product],
    language: str,
) -> tuple[IneligibleFact, ...]:
    """Why each coupon does not apply to ``cart`` for this shopper now (the engine's reasons).

    With a cart, the deal engine prices it with exactly these coupons and reports every one it
    cannot apply; without one, only the cart-independent checks run (schedule, audience,
    limits, budget). Coupons that do apply are left out.
    """
    activities = [
        snapshot.activity_by_id[i]
        for i in dict.fromkeys(coupon_ids)
        if i in snapshot.activity_by_id
    ]
    if not activities:
        return ()
    reasons: dict[str, IneligibleReason] = {}
    bases: dict[str, int] = {}
    if cart:
        quote = quote_cart(products, cart, activities, ctx)
        reasons = dict(quote.ineligible)
        for activity in activities:
            bases[activity.id] = sum(
                line.total
                for line in quote.lines
                if activity.scope.covers(products[line.product_id])
            )
    else:
        for activity in activities:
            reason = eligibility(activity, ctx)
            if reason is not None:
                reasons[activity.id] = reason
    out = []
    for activity in activities:
        reason = reasons.get(activity.id)
        if reason is None:
            continue
        min_spend = activity.min_spend if activity.group is Group.COUPON else None
        missing = None
        if reason is IneligibleReason.MIN_SPEND_NOT_MET and min_spend is not None:
            missing = max(min_spend - bases.get(activity.id, 0), 0)
        window_start = activity.schedule.next_start(ctx.now)
        out.append(
            IneligibleFact(
                activity_id=activity.id,
                title=_title(activity, activity.id, language),
                reason=str(reason),
                min_spend=min_spend,
                missing=missing,
                starts_at=window_start if reason is IneligibleReason.NOT_STARTED else None,
                ended_at=activity.schedule.ends_at if reason is IneligibleReason.EXPIRED else None,
            )
        )
    return tuple(out)
