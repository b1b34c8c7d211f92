"""Activity management for shop staff: create, edit, schedule and end, and the eligibility preview.

Every change goes through :func:`assistant.store.upsert_activity`, so an edit is a new immutable
revision (decisions and claims keep pointing at the revision that was shown) and saving unchanged
content makes none. Activity fields are validated with the catalog importer's own row model
(:class:`assistant.catalog.ActivityRow`: the same rules as a catalog file), then with the domain's
term checks. Nothing here commits: callers pass a session inside a transaction.

"End" keeps the store's semantics: the activity stays in the catalog (unlike
:func:`assistant.store.remove_activities`, which hides it from loads and exports) as a new
revision with status ``ended`` and its window closed at the moment it ended, so the deal engine
reports it ``expired`` and its future occurrences are dropped.

The eligibility preview answers "who would see this activity now, and at what final price?"
for a revision that may not be saved yet: per user, the deal engine's reason code (DESIGN "Deal
model") and the one-unit final price of in-scope products with every live activity, this
revision included (replacing any stored revision of the same id), and without it.

Example:
    >>> with shop.sessions.begin() as session:  # doctest: +SKIP
    ...     draft = activity_from_fields({"id": "SPRING", "type": "percent_off",
    ...         "percent": 15, "scope": {"categories": ["shoes"]},
    ...         "window": ["2030-03-01T00:00:00Z", "2030-04-01T00:00:00Z"]}, shop.settings)
    ...     preview = eligibility_preview(session, draft, sample_users(session, 100), now,
    ...                                   shipping_fee=shop.settings.shipping_fee_minor)
    ...     preview.eligible_count
    57
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pydantic
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.catalog.schemas import ActivityRow
from assistant.config import Settings
from assistant.deals import DealContext, eligibility, quote_item
from assistant.domain import Activity, ActivityStatus, IneligibleReason, Product
from assistant.errors import UnknownEntityError, ValidationError
from assistant.pricing import could_apply_to_one_unit
from assistant.schedule import Schedule, aware
from assistant.store import (
    ActivityRecord,
    ActivityUpsert,
    ProductRecord,
    UserRecord,
    budget_left,
    get_activity,
    load_activities,
    materialize_occurrences,
    upsert_activity,
    user_deal_state,
)

__all__ = [
    "MAX_PREVIEW_USERS",
    "EligibilityPreview",
    "PreviewPrice",
    "UserPreview",
    "activity_from_fields",
    "create_activity",
    "edit_activity",
    "eligibility_preview",
    "end_activity",
    "sample_users",
    "schedule_activity",
]

logger = logging.getLogger(__name__)

MAX_PREVIEW_USERS = 1000
"""The most users one preview prices (each costs a few quotes)."""


def _describe(exc: pydantic.ValidationError) -> str:
    """Pydantic's errors as ``field: reason``, one per problem."""
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] == "missing":
            message = "missing"
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def activity_from_fields(fields: Mapping[str, Any], settings: Settings) -> Activity:
    """Validate an activity given as a catalog row (the form's fields) and build its revision.

    Args:
        fields: The fields of one activity row, as in a catalog JSONL file: ``id``, ``type``,
            ``scope``, ``window`` or ``schedule``, money as decimal strings in the shop
            currency, etc. (see :mod:`assistant.catalog.schemas`).
        settings: The shop's settings (currency and shop time zone).

    Raises:
        ValidationError: every problem found, each as ``field: reason``.
    """
    try:
        row = ActivityRow.model_validate(dict(fields))
        return row.to_domain(settings.shop_currency, settings.shop_tz)
    except pydantic.ValidationError as exc:
        name = fields.get("id") or "(no id)"
        raise ValidationError(f"activity {name}: {_describe(exc)}") from None


def create_activity(session: Session, activity: Activity, *, now: datetime) -> ActivityUpsert:
    """Store a new activity as revision 1.

    Raises:
        ValidationError: an activity with this id exists already (removed ones too); edit it.
    """
    if session.get(ActivityRecord, activity.id) is not None:
        raise ValidationError(
            f"activity {activity.id} exists already; edit it (a new revision) or pick another id"
        )
    made = upsert_activity(session, activity, now=now)
    materialize_occurrences(session, now)
    logger.info("activity %s created", activity.id)
    return made


def edit_activity(session: Session, activity: Activity, *, now: datetime) -> ActivityUpsert:
    """Store changed terms of an existing activity as a new immutable revision.

    Saving the current content again changes nothing (``new_revision`` is false). A removed
    activity that is edited is restored.

    Raises:
        UnknownEntityError: no activity with this id; create it instead.
        ValidationError: the type changed (claims and decisions of earlier revisions would
            change meaning): end this activity and create a new one.
    """
    head = session.get(ActivityRecord, activity.id)
    if head is None:
        raise UnknownEntityError(f"no activity {activity.id} to edit; create it instead")
    current = get_activity(session, activity.id)
    if current.type is not activity.type:
        raise ValidationError(
            f"activity {activity.id} is a {current.type}; its type cannot change to "
            f"{activity.type}. End it and create a new activity instead"
        )
    made = upsert_activity(session, activity, now=now)
    materialize_occurrences(session, now)
    return made


def _rescheduled(activity: Activity, starts_at: datetime, ends_at: datetime | None) -> Schedule:
    old = activity.schedule
    if old.rrule is None:
        if ends_at is None:
            raise ValidationError(
                f"activity {activity.id} has a one-off window; give both a start and an end"
            )
        return Schedule.once(starts_at, ends_at)
    assert old.duration is not None
    return Schedule.recurring(starts_at, old.rrule, old.duration, ends_at=ends_at, tz=old.tz)


def schedule_activity(
    session: Session,
    activity_id: str,
    starts_at: datetime,
    ends_at: datetime | None,
    *,
    now: datetime,
) -> ActivityUpsert:
    """Move an activity's window to ``[starts_at, ends_at)`` as a new revision.

    A one-off window needs both ends; a recurrence keeps its rule and duration, starting at
    ``starts_at`` and stopping at ``ends_at`` (``None``: open-ended).

    Raises:
        UnknownEntityError: no such activity.
        ValidationError: a naive time, an end not after the start, or a missing end.
    """
    current = get_activity(session, activity_id)
    schedule = _rescheduled(current, aware(starts_at, "start"), ends_at)
    return edit_activity(session, replace(current, schedule=schedule), now=now)


def end_activity(session: Session, activity_id: str, *, now: datetime) -> ActivityUpsert:
    """End an activity now: a new revision with status ``ended``, its window closed at ``now``.

    The window is closed only if it is still open at ``now`` and began before it (a window
    that has not started keeps its dates: status ``ended`` alone keeps it from going live).
    Ending an ended activity again changes nothing.

    Raises:
        UnknownEntityError: no such activity.
    """
    now = aware(now, "now")
    current = get_activity(session, activity_id)
    schedule = current.schedule
    if schedule.starts_at < now and (schedule.ends_at is None or schedule.ends_at > now):
        schedule = _rescheduled(current, schedule.starts_at, now)
    made = edit_activity(
        session, replace(current, status=ActivityStatus.ENDED, schedule=schedule), now=now
    )
    logger.info("activity %s ended (revision %d)", activity_id, made.revision)
    return made


def sample_users(session: Session, n: int, *, seed: int = 0) -> list[str]:
    """Up to ``n`` user ids drawn without replacement (the same ``seed``, the same draw), sorted.

    Raises:
        ValidationError: ``n`` below 1 or above :data:`MAX_PREVIEW_USERS`.
    """
    if not 1 <= n <= MAX_PREVIEW_USERS:
        raise ValidationError(f"sample size {n} must be between 1 and {MAX_PREVIEW_USERS}")
    ids = list(session.scalars(select(UserRecord.id).order_by(UserRecord.id)))
    if len(ids) > n:
        ids = random.Random(seed).sample(ids, n)
    return sorted(ids)


@dataclass(frozen=True, slots=True)
class PreviewPrice:
    """One in-scope product's one-unit price for one user.

    Attributes:
        product_id: The product.
        title: Its title.
        price: List price, minor units.
        final_price: Goods total of a one-unit cart with every live activity, the previewed
            revision included (``quote_item(...).goods_total``).
        without: The same without the previewed activity.
        applied: Whether the previewed activity is among the applied deals.
        needs_claim: Whether it applies only once the user claims it (a coupon).
    """

    product_id: str
    title: str
    price: int
    final_price: int
    without: int
    applied: bool
    needs_claim: bool


@dataclass(frozen=True, slots=True)
class UserPreview:
    """Whether one user would see the activity now, why not, and the prices they would see.

    Attributes:
        user_id: The user.
        reason: The deal engine's reason code (``None``: the activity may apply to them).
        prices: The previewed products, in the preview's product order.
    """

    user_id: str
    reason: IneligibleReason | None
    prices: tuple[PreviewPrice, ...]

    @property
    def eligible(self) -> bool:
        """Whether the activity may apply to this user now."""
        return self.reason is None


@dataclass(frozen=True, slots=True)
class EligibilityPreview:
    """The preview of one activity revision over some users at one moment.

    Attributes:
        activity: The revision previewed (saved or not).
        at: The moment priced (UTC).
        in_scope: How many live, priced products the activity's scope covers.
        products: The ids of the in-scope products priced per user.
        users: One row per user, in the order given.
    """

    activity: Activity
    at: datetime
    in_scope: int
    products: tuple[str, ...]
    users: tuple[UserPreview, ...]

    @property
    def eligible_count(self) -> int:
        """How many users the activity may apply to."""
        return sum(u.eligible for u in self.users)


def _catalog(session: Session) -> list[Product]:
    """Every live, priced product, by id (only the columns the deal engine reads)."""
    rows = session.execute(
        select(
            ProductRecord.id,
            ProductRecord.title,
            ProductRecord.category,
            ProductRecord.brand,
            ProductRecord.price,
            ProductRecord.stock,
            ProductRecord.title_zh,
        )
        .where(ProductRecord.removed_at.is_(None), ProductRecord.price.is_not(None))
        .order_by(ProductRecord.id)
    )
    return [
        Product(
            id=pid, title=title, category=category, brand=brand, price=int(price or 0),
            stock=stock, title_zh=title_zh,
        )
        for pid, title, category, brand, price, stock, title_zh in rows
    ]  # fmt: skip


def _users(session: Session, user_ids: Sequence[str]) -> list[UserRecord]:
    if len(user_ids) > MAX_PREVIEW_USERS:
        raise ValidationError(
            f"{len(user_ids)} users is too many for one preview; give at most {MAX_PREVIEW_USERS}"
        )
    if len(set(user_ids)) != len(user_ids):
        raise ValidationError("a user id is given more than once; give each user once")
    found = {
        r.id: r for r in session.scalars(select(UserRecord).where(UserRecord.id.in_(user_ids)))
    }
    if missing := [u for u in user_ids if u not in found]:
        shown = ", ".join(missing[:10])
        raise UnknownEntityError(f"unknown user id(s) {shown}; preview only existing users")
    return [found[u] for u in user_ids]


def _relevant(
    activities: Sequence[Activity], products: Sequence[Product], now: datetime
) -> dict[str, list[Activity]]:
    """Per product, the activities that can change its one-unit quote at ``now``.

    A one-unit quote's goods total depends only on the activities that apply to it, so leaving
    out the rest changes no price: those not live at ``now`` (status or schedule, whoever the
    shopper is), those whose scope misses the product, and those that cannot apply to one unit
    at its price (:func:`assistant.pricing.could_apply_to_one_unit`). Live ones get their live
    window as a one-off schedule, so no RRULE is expanded again per user.
    """
    live = []
    for activity in activities:
        window = activity.schedule.window_at(now)
        if activity.status is ActivityStatus.ACTIVE and window is not None:
            live.append(replace(activity, schedule=Schedule.once(*window)))
    return {
        p.id: [a for a in live if a.scope.covers(p) and could_apply_to_one_unit(a, p.price)]
        for p in products
    }


def _price(
    product: Product, activity: Activity, others: Sequence[Activity], ctx: DealContext
) -> PreviewPrice:
    with_it = quote_item(product, [*others, activity], ctx)
    without = quote_item(product, others, ctx)
    mine = [d for d in with_it.applied if d.activity_id == activity.id]
    return PreviewPrice(
        product_id=product.id,
        title=product.title,
        price=product.price,
        final_price=with_it.goods_total,
        without=without.goods_total,
        applied=bool(mine),
        needs_claim=any(d.needs_claim for d in mine),
    )


def eligibility_preview(
    session: Session,
    activity: Activity,
    user_ids: Sequence[str],
    now: datetime,
    *,
    shipping_fee: int,
    max_products: int = 5,
    product_ids: Sequence[str] | None = None,
) -> EligibilityPreview:
    """Which users the activity would apply to at ``now``, why not, and at what final prices.

    Each user is priced as :meth:`assistant.app.Shop.quote` prices them: their member / new-user
    flags and segments, their claims (uses and held coupons) and the activities' budgets left.
    ``activity`` need not be saved; a stored revision of the same id is replaced by it, and its
    budget left is its budget less what the stored activity has reserved already.

    Args:
        session: An open session.
        activity: The revision to preview.
        user_ids: The users, each once (at most :data:`MAX_PREVIEW_USERS`).
        now: The moment to price at (aware).
        shipping_fee: The shop's shipping fee, minor units.
        max_products: Price at most this many in-scope products (the first by id) per user.
        product_ids: Price exactly these products instead (each must be in scope).

    Raises:
        UnknownEntityError: an unknown user or product.
        ValidationError: too many or repeated users, a product out of scope, or a naive ``now``.
    """
    now = aware(now, "now")
    if max_products < 1:
        raise ValidationError(f"max_products {max_products} must be at least 1")
    users = _users(session, user_ids)
    catalog = _catalog(session)
    in_scope = [p for p in catalog if activity.scope.covers(p)]
    if product_ids is None:
        shown = in_scope[:max_products]
    else:
        by_id = {p.id: p for p in catalog}
        if unknown := [pid for pid in product_ids if pid not in by_id]:
            raise UnknownEntityError(f"unknown or unpriced product id(s) {', '.join(unknown)}")
        if outside := [pid for pid in product_ids if not activity.scope.covers(by_id[pid])]:
            raise ValidationError(
                f"product(s) {', '.join(outside)} are outside activity {activity.id}'s scope"
            )
        shown = [by_id[pid] for pid in product_ids]

    others = [a for a in load_activities(session) if a.id != activity.id]
    covering = _relevant(others, shown, now)
    budgets = budget_left(session, [a.id for a in others])
    if activity.budget is not None:
        head = session.get(ActivityRecord, activity.id)
        reserved = head.budget_reserved if head is not None else 0
        budgets[activity.id] = max(0, activity.budget - reserved)

    # Users whose deal-relevant facts agree get the same prices: price each kind once.
    relevant = {a.id for acts in covering.values() for a in acts} | {activity.id}
    segments = {a.audience.segment for a in [*others, activity] if a.audience.segment}
    memo: dict[tuple[Any, ...], PreviewPrice] = {}
    rows = []
    for user in users:
        uses, held = user_deal_state(session, user.id, now=now)
        ctx = DealContext(
            now=now,
            shopper=user.to_shopper(),
            shipping_fee=shipping_fee,
            uses=uses,
            held=held,
            budget_left=budgets,
        )
        reason = eligibility(activity, ctx, in_scope)
        kind = (
            ctx.shopper.member,
            ctx.shopper.new_user,
            frozenset(ctx.shopper.segments & segments),
            frozenset((k, v) for k, v in uses.items() if k in relevant),
            frozenset(held & relevant),
        )
        prices = []
        for product in shown:
            key = (product.id, *kind)
            if key not in memo:
                memo[key] = _price(product, activity, covering[product.id], ctx)
            prices.append(memo[key])
        rows.append(UserPreview(user.id, reason, tuple(prices)))
    logger.info(
        "previewed activity %s for %d users over %d products", activity.id, len(rows), len(shown)
    )
    return EligibilityPreview(
        activity=activity,
        at=now,
        in_scope=len(in_scope),
        products=tuple(p.id for p in shown),
        users=tuple(rows),
    )
