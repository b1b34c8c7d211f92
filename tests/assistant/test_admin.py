"""Activity management and the eligibility preview, on SQLite and PostgreSQL.

The preview is checked against a direct deal-engine loop over 100 sampled users, written here
with the engine's own functions (``eligibility``, ``quote_item``) and the store's claim state,
independently of :mod:`assistant.admin`.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.admin import (
    activity_from_fields,
    create_activity,
    edit_activity,
    eligibility_preview,
    end_activity,
    sample_users,
    schedule_activity,
)
from assistant.claims import claim_coupon
from assistant.config import Settings
from assistant.deals import DealContext, eligibility, quote_item
from assistant.domain import (
    Activity,
    ActivityStatus,
    ActivityType,
    Audience,
    IneligibleReason,
    Scope,
    Tier,
)
from assistant.errors import ClaimRefused, UnknownEntityError, ValidationError
from assistant.schedule import Schedule
from assistant.store import (
    ActivityRecord,
    ActivityRevisionRecord,
    OccurrenceRecord,
    ProductData,
    ProductRecord,
    UpsertOutcome,
    UserData,
    UserRecord,
    budget_left,
    get_activity,
    load_activities,
    load_products,
    session_factory,
    upsert_activity,
    upsert_products,
    upsert_users,
    user_deal_state,
)

NOW = datetime(2030, 6, 15, 12, tzinfo=UTC)
WINDOW = Schedule.once(NOW - timedelta(days=5), NOW + timedelta(days=10))
FEE = 600
CATEGORIES = ["shoes/running", "shoes/casual", "home/kitchen", "sports/yoga"]
BRANDS = ["Stride", "Acme", "Lumen"]


def _fields(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": "SPRING",
        "type": "percent_off",
        "title": "Spring shoes",
        "percent": 15,
        "scope": {"categories": ["shoes"]},
        "window": ["2030-06-10T00:00:00Z", "2030-06-25T00:00:00Z"],
    }
    row.update(changes)
    return row


def _world(engine: Engine) -> None:
    """40 products, 160 users of every kind, activities of each level, and claims."""
    rng = random.Random(7)
    products = [
        ProductData(
            id=f"P{n:03d}",
            title=f"Product {n}",
            category=CATEGORIES[n % len(CATEGORIES)],
            brand=BRANDS[n % len(BRANDS)],
            price=rng.randrange(800, 20_000, 50),
            currency="USD",
        )
        for n in range(40)
    ]
    users = [
        UserData(
            id=f"U{n:03d}",
            member=n % 3 == 0,
            new_user=n % 4 == 1,
            segments=("vip",) if n % 5 == 0 else (),
        )
        for n in range(160)
    ]
    activities = [
        Activity(
            "A-SHOES",
            ActivityType.PERCENT_OFF,
            Scope(categories=("shoes",)),
            WINDOW,
            percent=10,
        ),
        Activity(
            "A-MEMBER",
            ActivityType.MEMBER_DAY,
            Scope(brands=("Stride",)),
            WINDOW,
            percent=20,
            audience=Audience("members"),
        ),
        Activity(
            "A-TIERS",
            ActivityType.THRESHOLD,
            Scope(all=True),
            WINDOW,
            tiers=(Tier(5_000, 500), Tier(15_000, 2_000)),
        ),
        Activity(
            "C-TEN",
            ActivityType.COUPON,
            Scope(all=True),
            WINDOW,
            amount=1_000,
            min_spend=6_000,
            budget=50_000,
            per_user_limit=1,
        ),
        Activity(
            "C-NEW",
            ActivityType.NEW_USER,
            Scope(all=True),
            WINDOW,
            amount=800,
            audience=Audience("new_users"),
        ),
        Activity(
            "C-VIP",
            ActivityType.COUPON,
            Scope(categories=("home",)),
            WINDOW,
            percent=25,
            max_discount=1_500,
            audience=Audience("segment", "vip"),
            budget=6_000,
        ),
        Activity(
            "SHIP",
            ActivityType.FREE_SHIPPING,
            Scope(all=True),
            WINDOW,
            min_spend=9_000,
        ),
        Activity(
            "OLD",
            ActivityType.PERCENT_OFF,
            Scope(all=True),
            Schedule.once(NOW - timedelta(days=30), NOW - timedelta(days=20)),
            percent=50,
        ),
    ]
    with session_factory(engine).begin() as session:
        upsert_products(session, products, now=NOW - timedelta(days=6))
        upsert_users(session, users, now=NOW - timedelta(days=6))
        for activity in activities:
            upsert_activity(session, activity, now=NOW - timedelta(days=6))
    # Some users hold or used up coupons; C-VIP's budget runs out after four claims.
    sessions = session_factory(engine)
    for n in range(0, 160, 7):
        _claim(sessions, f"U{n:03d}", "C-TEN", NOW - timedelta(days=1))
    for n in range(0, 40, 5):
        try:
            _claim(sessions, f"U{n:03d}", "C-VIP", NOW - timedelta(hours=3))
        except ClaimRefused as exc:
            assert exc.reason == "budget_exhausted" and n >= 20


def _claim(sessions: sessionmaker[Session], user_id: str, activity_id: str, at: datetime) -> None:
    claim_coupon(
        sessions,
        user_id=user_id,
        activity_id=activity_id,
        idempotency_key=f"{activity_id}-{user_id}",
        now=at,
        shipping_fee=FEE,
    )


def _direct_loop(
    session: Session, draft: Activity, user_ids: list[str], n_products: int = 5
) -> list[tuple[str, IneligibleReason | None, list[tuple[str, int, int, bool]]]]:
    """What the deal engine says for each user, computed without assistant.admin."""
    ids = list(
        session.scalars(
            select(ProductRecord.id).where(
                ProductRecord.removed_at.is_(None), ProductRecord.price.is_not(None)
            )
        )
    )
    catalog = load_products(session, ids)
    in_scope = [catalog[pid] for pid in sorted(catalog) if draft.scope.covers(catalog[pid])]
    stored = [a for a in load_activities(session) if a.id != draft.id]
    budgets = budget_left(session, [a.id for a in stored])
    if draft.budget is not None:
        head = session.get(ActivityRecord, draft.id)
        budgets[draft.id] = draft.budget - (head.budget_reserved if head else 0)
    out = []
    for user_id in user_ids:
        user = session.get(UserRecord, user_id)
        assert user is not None
        uses, held = user_deal_state(session, user_id, now=NOW)
        ctx = DealContext(NOW, user.to_shopper(), FEE, uses=uses, held=held, budget_left=budgets)
        prices = []
        for product in in_scope[:n_products]:
            with_it = quote_item(product, [*stored, draft], ctx)
            without = quote_item(product, stored, ctx)
            applied = draft.id in {d.activity_id for d in with_it.applied}
            prices.append((product.id, with_it.goods_total, without.goods_total, applied))
        out.append((user_id, eligibility(draft, ctx, in_scope), prices))
    return out


def _as_tuples(
    preview_users: tuple[object, ...],
) -> list[tuple[str, IneligibleReason | None, list[tuple[str, int, int, bool]]]]:
    return [
        (
            u.user_id,  # type: ignore[attr-defined]
            u.reason,  # type: ignore[attr-defined]
            [(p.product_id, p.final_price, p.without, p.applied) for p in u.prices],  # type: ignore[attr-defined]
        )
        for u in preview_users
    ]


DRAFTS = [
    pytest.param(
        Activity(
            "D-MEMBERS",
            ActivityType.COUPON,
            Scope(categories=("shoes",)),
            WINDOW,
            amount=1_200,
            min_spend=3_000,
            audience=Audience("members"),
            budget=100_000,
        ),
        id="members-coupon",
    ),
    pytest.param(
        Activity(
            "D-FLASH",
            ActivityType.FLASH_SALE,
            Scope(brands=("Acme", "Lumen")),
            Schedule.recurring(NOW - timedelta(days=2), "FREQ=DAILY", timedelta(hours=3)),
            percent=30,
            audience=Audience("segment", "vip"),
        ),
        id="vip-flash-sale",
    ),
    pytest.param(
        Activity("D-ALL", ActivityType.PERCENT_OFF, Scope(all=True), WINDOW, percent=12),
        id="everyone-percent",
    ),
]


@pytest.mark.parametrize("draft", DRAFTS)
def test_preview_equals_a_direct_deal_engine_loop_over_100_sampled_users(
    db_engine: Engine, settings: Settings, draft: Activity
) -> None:
    _world(db_engine)
    with session_factory(db_engine)() as session:
        users = sample_users(session, 100, seed=11)
        assert len(users) == 100 and users == sample_users(session, 100, seed=11)
        preview = eligibility_preview(session, draft, users, NOW, shipping_fee=FEE)
        expected = _direct_loop(session, draft, users)
        # The draft was never saved: previewing writes nothing.
        assert session.get(ActivityRecord, draft.id) is None
    assert _as_tuples(preview.users) == expected
    assert preview.eligible_count == sum(reason is None for _, reason, _ in expected)
    assert len(preview.products) == 5 and preview.in_scope >= 5
    reasons = {u.reason for u in preview.users}
    if draft.audience.kind != "all":
        assert None in reasons and IneligibleReason.AUDIENCE in reasons
    else:
        assert reasons == {None}
    # Where it applies, shoppers see a lower price than without it.
    applied = [p for u in preview.users for p in u.prices if p.applied]
    assert applied and all(p.final_price < p.without for p in applied)


def test_preview_of_an_edit_counts_the_budget_already_reserved(
    db_engine: Engine, settings: Settings
) -> None:
    _world(db_engine)
    with session_factory(db_engine)() as session:
        stored = get_activity(session, "C-VIP")
        users = sample_users(session, 100, seed=3)
        # Four claims of 15.00 reserved the whole 60.00; 75.00 leaves room for one more.
        for budget, exhausted in ((6_000, True), (7_500, False)):
            draft = Activity(
                "C-VIP",
                ActivityType.COUPON,
                stored.scope,
                WINDOW,
                percent=25,
                max_discount=1_500,
                audience=Audience("segment", "vip"),
                budget=budget,
            )
            preview = eligibility_preview(session, draft, users, NOW, shipping_fee=FEE)
            assert _as_tuples(preview.users) == _direct_loop(session, draft, users)
            vips = [u for u in preview.users if int(u.user_id[1:]) % 5 == 0]
            holders = [u for u in vips if int(u.user_id[1:]) < 20]  # U000..U015 claimed
            others = [u for u in vips if u not in holders]
            assert vips and holders and others
            assert all(u.reason is None for u in holders)  # a held coupon skips the budget
            expected = IneligibleReason.BUDGET_EXHAUSTED if exhausted else None
            assert {u.reason for u in others} == {expected}


def test_preview_of_a_scope_that_covers_nothing_and_chosen_products(
    db_engine: Engine, settings: Settings
) -> None:
    _world(db_engine)
    nothing = activity_from_fields(_fields(scope={"brands": ["Nobody"]}), settings)
    with session_factory(db_engine)() as session:
        preview = eligibility_preview(session, nothing, ["U001", "U002"], NOW, shipping_fee=FEE)
        assert (preview.in_scope, preview.products) == (0, ())
        assert [u.reason for u in preview.users] == [IneligibleReason.OUT_OF_SCOPE] * 2
        shoes = activity_from_fields(_fields(), settings)
        chosen = eligibility_preview(
            session, shoes, ["U001"], NOW, shipping_fee=FEE, product_ids=["P005", "P000"]
        )
        assert chosen.products == ("P005", "P000")
        assert _as_tuples(chosen.users)[0][2][0][0] == "P005"
        with pytest.raises(ValidationError, match=r"product\(s\) P002 are outside activity"):
            eligibility_preview(
                session, shoes, ["U001"], NOW, shipping_fee=FEE, product_ids=["P002"]
            )
        with pytest.raises(UnknownEntityError, match=r"unknown or unpriced product id\(s\) P999"):
            eligibility_preview(
                session, shoes, ["U001"], NOW, shipping_fee=FEE, product_ids=["P999"]
            )
        with pytest.raises(UnknownEntityError, match=r"unknown user id\(s\) ghost"):
            eligibility_preview(session, shoes, ["U001", "ghost"], NOW, shipping_fee=FEE)
        with pytest.raises(ValidationError, match="given more than once"):
            eligibility_preview(session, shoes, ["U001", "U001"], NOW, shipping_fee=FEE)
        with pytest.raises(ValidationError, match="sample size 0 must be between 1 and 1000"):
            sample_users(session, 0)


def _revisions(session: Session, activity_id: str) -> list[tuple[int, str, datetime | None]]:
    rows = session.execute(
        select(
            ActivityRevisionRecord.revision,
            ActivityRevisionRecord.status,
            ActivityRevisionRecord.ends_at,
        )
        .where(ActivityRevisionRecord.activity_id == activity_id)
        .order_by(ActivityRevisionRecord.revision)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_create_edit_schedule_and_end_make_revisions(db_engine: Engine, settings: Settings) -> None:
    sessions = session_factory(db_engine)
    spring = activity_from_fields(_fields(), settings)
    assert (spring.percent, spring.scope.categories) == (15, ("shoes",))
    with sessions.begin() as session:
        made = create_activity(session, spring, now=NOW)
    assert (made.outcome, made.revision, made.new_revision) == (UpsertOutcome.INSERTED, 1, True)

    with sessions.begin() as session:
        same = edit_activity(session, spring, now=NOW)
        assert (same.revision, same.new_revision) == (1, False)
        deeper = activity_from_fields(_fields(percent=25, title="Spring shoes, deeper"), settings)
        edited = edit_activity(session, deeper, now=NOW + timedelta(minutes=1))
        assert (edited.revision, edited.new_revision) == (2, True)
    with sessions() as session:
        assert get_activity(session, "SPRING", 1).percent == 15  # revision 1 is untouched
        assert get_activity(session, "SPRING").percent == 25

    later_start, later_end = NOW + timedelta(days=2), NOW + timedelta(days=9)
    with sessions.begin() as session:
        moved = schedule_activity(session, "SPRING", later_start, later_end, now=NOW)
        assert moved.revision == 3
    with sessions() as session:
        current = get_activity(session, "SPRING")
        assert (current.schedule.starts_at, current.schedule.ends_at) == (later_start, later_end)
        assert current.percent == 25
        occurrences = session.scalars(
            select(OccurrenceRecord).where(OccurrenceRecord.activity_id == "SPRING")
        ).all()
        assert [(o.starts_at, o.revision) for o in occurrences] == [(later_start, 3)]

    # Ending before it starts: status ended, the dates kept, the occurrence gone.
    with sessions.begin() as session:
        ended = end_activity(session, "SPRING", now=NOW)
        assert ended.revision == 4
        again = end_activity(session, "SPRING", now=NOW + timedelta(hours=1))
        assert (again.revision, again.new_revision) == (4, False)
    with sessions() as session:
        assert _revisions(session, "SPRING")[-1] == (4, "ended", later_end)
        assert (
            session.scalar(select(func.count()).where(OccurrenceRecord.activity_id == "SPRING"))
            == 0
        )
        assert get_activity(session, "SPRING").status is ActivityStatus.ENDED
        assert "SPRING" in {a.id for a in load_activities(session)}  # ended, not removed


def test_ending_a_live_activity_closes_its_window_now_and_the_engine_calls_it_expired(
    db_engine: Engine, settings: Settings
) -> None:
    _world(db_engine)
    sessions = session_factory(db_engine)
    with sessions.begin() as session:
        end_activity(session, "A-SHOES", now=NOW)
    with sessions() as session:
        ended = get_activity(session, "A-SHOES")
        assert (ended.revision, ended.status, ended.schedule.ends_at) == (
            2,
            ActivityStatus.ENDED,
            NOW,
        )
        assert get_activity(session, "A-SHOES", 1).schedule.ends_at == WINDOW.ends_at
        preview = eligibility_preview(session, ended, ["U001"], NOW, shipping_fee=FEE)
        assert preview.users[0].reason is IneligibleReason.EXPIRED
        assert not any(p.applied for p in preview.users[0].prices)


def test_recurring_schedule_keeps_its_rule(db_engine: Engine, settings: Settings) -> None:
    nightly = activity_from_fields(
        _fields(
            id="NIGHT",
            type="flash_sale",
            window=None,
            schedule={
                "starts_at": "2030-06-01T20:00:00Z",
                "rrule": "FREQ=DAILY",
                "duration_minutes": 120,
            },
        ),
        settings,
    )
    until = datetime(2030, 7, 1, tzinfo=UTC)
    with session_factory(db_engine).begin() as session:
        create_activity(session, nightly, now=NOW)
        schedule_activity(session, "NIGHT", datetime(2030, 6, 20, 20, tzinfo=UTC), until, now=NOW)
        moved = get_activity(session, "NIGHT")
    assert moved.schedule.rrule == "FREQ=DAILY"
    assert moved.schedule.duration == timedelta(hours=2)
    assert moved.schedule.ends_at == until


def test_bad_activity_input_is_refused_with_what_to_fix(
    db_engine: Engine, settings: Settings
) -> None:
    with pytest.raises(ValidationError, match=r"activity SPRING: percent: .*less than or equal"):
        activity_from_fields(_fields(percent=150), settings)
    with pytest.raises(ValidationError, match="give exactly one of window"):
        activity_from_fields(_fields(window=None), settings)
    with pytest.raises(ValidationError, match="scope is empty"):
        activity_from_fields(_fields(scope={}), settings)
    with pytest.raises(ValidationError, match="type: Input should be"):
        activity_from_fields(_fields(type="mystery"), settings)
    with pytest.raises(ValidationError, match="discount: unknown field"):
        activity_from_fields(_fields(discount=5), settings)
    with pytest.raises(ValidationError, match="percent_off needs a percent"):
        activity_from_fields(_fields(percent=None), settings)
    with pytest.raises(ValidationError, match=r"end 2030-06-01.* is before start"):
        activity_from_fields(
            _fields(window=["2030-06-10T00:00:00Z", "2030-06-01T00:00:00Z"]), settings
        )
    with pytest.raises(ValidationError, match=r"\(no id\): id: missing"):
        activity_from_fields({k: v for k, v in _fields().items() if k != "id"}, settings)

    spring = activity_from_fields(_fields(), settings)
    sessions = session_factory(db_engine)
    with (
        pytest.raises(UnknownEntityError, match="no activity SPRING to edit; create it"),
        sessions.begin() as session,
    ):
        edit_activity(session, spring, now=NOW)
    with sessions.begin() as session:
        create_activity(session, spring, now=NOW)
    with (
        pytest.raises(ValidationError, match="activity SPRING exists already; edit it"),
        sessions.begin() as session,
    ):
        create_activity(session, spring, now=NOW)
    coupon = activity_from_fields(_fields(type="coupon", percent=None, amount="5.00"), settings)
    with (
        pytest.raises(ValidationError, match="is a percent_off; its type cannot change"),
        sessions.begin() as session,
    ):
        edit_activity(session, coupon, now=NOW)
    with (
        pytest.raises(ValidationError, match="one-off window; give both a start and an end"),
        sessions.begin() as session,
    ):
        schedule_activity(session, "SPRING", NOW, None, now=NOW)
    with pytest.raises(ValidationError, match="is not after start"), sessions.begin() as session:
        schedule_activity(session, "SPRING", NOW, NOW - timedelta(days=1), now=NOW)
    with pytest.raises(UnknownEntityError, match="GHOST"), sessions.begin() as session:
        end_activity(session, "GHOST", now=NOW)
    with sessions() as session:  # nothing refused was written
        assert _revisions(session, "SPRING") == [(1, "active", datetime(2030, 6, 25, tzinfo=UTC))]
