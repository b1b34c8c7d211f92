"""Whether an activity may apply for this shopper now, and why not.

The standing checks (everything that does not depend on what the cart costs) run in the order
of the deal model: status and schedule, audience, per-user limit, budget, units left, then
scope. ``min_spend_not_met`` needs a priced cart and comes only from
:func:`assistant.deals.quote_cart`.
"""

from __future__ import annotations

from collections.abc import Iterable

from assistant.deals._model import DealContext
from assistant.domain import Activity, ActivityStatus, Group, IneligibleReason, Product
from assistant.errors import ValidationError
from assistant.schedule import Window

__all__ = ["claim_check", "eligibility", "full_value"]


def full_value(activity: Activity) -> int | None:
    """A coupon's full value: what its budget must cover for one more claim.

    It is the fixed ``amount`` (capped by ``max_discount`` when both are set), or
    ``max_discount`` for a capped percent coupon; ``None`` for an uncapped percent coupon,
    whose value depends on the cart, and for every non-coupon type.

    Example:
        >>> from datetime import UTC, datetime
        >>> from assistant.domain import ActivityType, Scope
        >>> from assistant.schedule import Schedule
        >>> jan = Schedule.once(datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 2, 1, tzinfo=UTC))
        >>> full_value(Activity("C1", ActivityType.COUPON, Scope(all=True), jan, percent=10,
        ...                     max_discount=500))
        500
    """
    if activity.type.group is not Group.COUPON:
        return None
    if activity.amount is not None:
        if activity.max_discount is not None:
            return min(activity.amount, activity.max_discount)
        return activity.amount
    return activity.max_discount


def timing(activity: Activity, ctx: DealContext) -> tuple[IneligibleReason | None, Window | None]:
    """Status and schedule: ``(None, live occurrence)`` or ``(reason, None)``.

    A paused or draft activity is ``not_started`` unless its schedule is over; an ended one,
    or one past its last occurrence, is ``expired``; before the first occurrence or between two
    it is ``not_started``.
    """
    window = activity.schedule.window_at(ctx.now)
    if activity.status is not ActivityStatus.ACTIVE:
        over = activity.status is ActivityStatus.ENDED or activity.schedule.is_over(ctx.now)
        return (IneligibleReason.EXPIRED if over else IneligibleReason.NOT_STARTED), None
    if window is not None:
        return None, window
    if activity.schedule.next_start(ctx.now) is None:
        return IneligibleReason.EXPIRED, None
    return IneligibleReason.NOT_STARTED, None


def standing(
    activity: Activity, ctx: DealContext, *, honour_held: bool = True
) -> tuple[IneligibleReason | None, Window | None]:
    """Every cart-independent check but scope: ``(reason or None, live occurrence)``.

    With ``honour_held``, a coupon the shopper already holds skips the per-user limit and the
    budget (both were settled when it was claimed).
    """
    reason, window = timing(activity, ctx)
    if reason is not None:
        return reason, None
    if not activity.audience.admits(ctx.shopper):
        return IneligibleReason.AUDIENCE, window
    held = honour_held and activity.type.claimable and activity.id in ctx.held
    limit = activity.per_user_limit
    if not held and limit is not None and ctx.uses.get(activity.id, 0) >= limit:
        return IneligibleReason.PER_USER_LIMIT, window
    if not held and activity.budget is not None:
        left = ctx.budget_left.get(activity.id, activity.budget)
        full = full_value(activity)
        if (left < full) if full is not None else (left <= 0):
            return IneligibleReason.BUDGET_EXHAUSTED, window
    units = activity.quantity_limit
    if units is not None and ctx.units_left.get(activity.id, units) <= 0:
        return IneligibleReason.SOLD_OUT, window
    return None, window


def eligibility(
    activity: Activity, ctx: DealContext, products_in_cart: Iterable[Product] | None = None
) -> IneligibleReason | None:
    """Why ``activity`` cannot apply for ``ctx.shopper`` now, or ``None`` if it may.

    Checks, in order: status and schedule (``expired``, ``not_started``), ``audience``,
    ``per_user_limit``, ``budget_exhausted``, ``sold_out`` and, when ``products_in_cart`` is
    given, ``out_of_scope`` (it covers none of them). Minimum spends need a priced cart: see
    :attr:`CartQuote.ineligible`.

    Args:
        activity: The activity revision.
        ctx: The shopper and the moment.
        products_in_cart: The cart's products; ``None`` skips the scope check (for filtering
            activities before there is a cart).
    """
    reason, _ = standing(activity, ctx)
    if reason is not None:
        return reason
    if products_in_cart is not None and not any(
        activity.scope.covers(product) for product in products_in_cart
    ):
        return IneligibleReason.OUT_OF_SCOPE
    return None


def claim_check(activity: Activity, ctx: DealContext) -> IneligibleReason | None:
    """Why the shopper may not claim this coupon now, or ``None`` if they may.

    Checks status and schedule, audience, the per-user limit (a claim is a use), the budget
    for the coupon's :func:`full_value` and units left. Holding the coupon already does not
    exempt a new claim, and a minimum spend never blocks claiming.

    Raises:
        ValidationError: ``activity`` is not claimable (not a ``coupon`` or ``new_user``).
    """
    if not activity.type.claimable:
        raise ValidationError(
            f"activity {activity.id} is a {activity.type}; only coupon and new_user "
            "activities are claimed"
        )
    reason, _ = standing(activity, ctx, honour_held=False)
    return reason
