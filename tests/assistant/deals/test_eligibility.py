"""Reasons outside a cart, claim checks, full values and the context's own validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assistant.deals import DealContext, claim_check, eligibility, full_value
from assistant.domain import ActivityStatus, Audience, IneligibleReason, Scope, Shopper
from assistant.errors import ValidationError
from assistant.schedule import Schedule

from .helpers import NOW, activity, context, product

SHOE = product("P1", 6000)
SOCKS = product("P2", 1000, "apparel/socks")
R = IneligibleReason


@pytest.mark.parametrize(
    ("status", "window", "reason"),
    [
        (ActivityStatus.ACTIVE, (-1, 1), None),
        (ActivityStatus.ACTIVE, (1, 2), R.NOT_STARTED),
        (ActivityStatus.ACTIVE, (-2, -1), R.EXPIRED),
        (ActivityStatus.ACTIVE, (-1, 0), R.EXPIRED),  # windows are half-open
        (ActivityStatus.PAUSED, (-1, 1), R.NOT_STARTED),
        (ActivityStatus.DRAFT, (1, 2), R.NOT_STARTED),
        (ActivityStatus.PAUSED, (-2, -1), R.EXPIRED),
        (ActivityStatus.ENDED, (-1, 1), R.EXPIRED),
    ],
)
def test_status_and_schedule(
    status: ActivityStatus, window: tuple[int, int], reason: IneligibleReason | None
) -> None:
    start, end = (NOW + timedelta(hours=h) for h in window)
    deal = activity(
        "A1", "percent_off", schedule=Schedule.once(start, end), status=status, percent=5
    )
    assert eligibility(deal, context()) == reason


def test_reasons_come_in_the_model_order() -> None:
    deal = activity(
        "C1",
        "coupon",
        Scope(categories=("beauty",)),
        audience=Audience("members"),
        amount=500,
        per_user_limit=1,
        budget=1000,
        quantity_limit=3,
    )
    member = Shopper("U2", member=True)
    assert eligibility(deal, context(), [SHOE]) is R.AUDIENCE
    ctx = context(shopper=member, uses={"C1": 1}, budget_left={"C1": 0}, units_left={"C1": 0})
    assert eligibility(deal, ctx, [SHOE]) is R.PER_USER_LIMIT
    ctx = context(shopper=member, budget_left={"C1": 0}, units_left={"C1": 0})
    assert eligibility(deal, ctx, [SHOE]) is R.BUDGET_EXHAUSTED
    assert eligibility(deal, context(shopper=member, units_left={"C1": 0}), [SHOE]) is R.SOLD_OUT
    assert eligibility(deal, context(shopper=member), [SHOE, SOCKS]) is R.OUT_OF_SCOPE
    assert eligibility(deal, context(shopper=member)) is None  # no cart: scope not judged


def test_segments_and_new_users() -> None:
    vip = activity("A1", "percent_off", audience=Audience("segment", "vip"), percent=5)
    assert eligibility(vip, context(shopper=Shopper("U", segments=frozenset({"vip"})))) is None
    assert eligibility(vip, context()) is R.AUDIENCE
    welcome = activity("N1", "new_user", audience=Audience("new_users"), amount=800)
    assert eligibility(welcome, context(shopper=Shopper("U3", new_user=True))) is None


def test_claim_check_counts_the_claim_itself() -> None:
    coupon = activity("C1", "coupon", amount=1000, budget=5000, per_user_limit=1)
    assert claim_check(coupon, context()) is None
    # Holding one does not allow a second claim past the limit.
    assert claim_check(coupon, context(uses={"C1": 1}, held={"C1"})) is R.PER_USER_LIMIT
    assert claim_check(coupon, context(budget_left={"C1": 999})) is R.BUDGET_EXHAUSTED
    assert claim_check(coupon, context(budget_left={"C1": 1000})) is None
    # The minimum spend never blocks a claim.
    assert claim_check(activity("C2", "coupon", amount=500, min_spend=99999), context()) is None


def test_claim_check_refuses_what_cannot_be_claimed() -> None:
    with pytest.raises(ValidationError, match="activity A1 is a percent_off; only coupon"):
        claim_check(activity("A1", "percent_off", percent=5), context())


def test_full_value() -> None:
    assert full_value(activity("C1", "coupon", amount=1000)) == 1000
    assert full_value(activity("C2", "coupon", amount=1000, max_discount=700)) == 700
    assert full_value(activity("C3", "new_user", percent=10, max_discount=500)) == 500
    assert full_value(activity("C4", "coupon", percent=10)) is None
    assert full_value(activity("A1", "percent_off", percent=10)) is None


def test_context_refuses_naive_times_and_bad_numbers() -> None:
    with pytest.raises(ValidationError, match="now 2030-01-15T21:00:00 has no time zone"):
        DealContext(datetime(2030, 1, 15, 21), Shopper("U1"), 600)
    with pytest.raises(ValidationError, match="shipping_fee -1 must be a non-negative integer"):
        DealContext(NOW, Shopper("U1"), -1)
    with pytest.raises(ValidationError, match=r"budget_left\['C1'\] = 1.5 must be an integer"):
        DealContext(NOW, Shopper("U1"), 600, budget_left={"C1": 1.5})  # type: ignore[dict-item]


def test_context_is_stored_in_utc_and_read_only() -> None:
    shanghai = datetime(2030, 1, 16, 5, tzinfo=UTC).astimezone()
    ctx = DealContext(shanghai, Shopper("U1"), 600, uses={"C1": 1})
    assert ctx.now.tzinfo is UTC
    with pytest.raises(TypeError):
        ctx.uses["C1"] = 2  # type: ignore[index]


def test_schedule_windows_drop_occurrences_clipped_before_the_range() -> None:
    """Regression: ``Schedule.windows`` returned an occurrence cut short by ``ends_at`` that
    ended before the range asked for (it does not overlap it)."""
    nightly = Schedule.recurring(
        datetime(2030, 1, 1, 20, tzinfo=UTC),
        "FREQ=DAILY",
        timedelta(hours=4),
        ends_at=datetime(2030, 1, 5, 21, tzinfo=UTC),
    )
    late = datetime(2030, 1, 5, 22, tzinfo=UTC)
    assert nightly.windows(late, late + timedelta(days=1)) == []
    assert nightly.windows(late - timedelta(hours=2), late) == [
        (datetime(2030, 1, 5, 20, tzinfo=UTC), datetime(2030, 1, 5, 21, tzinfo=UTC))
    ]
