"""The SQL schema as typed SQLAlchemy 2 models (migrations in ``assistant/store/migrations``).

Ids are the catalog's stable strings; money is ``BigInteger`` minor units of the shop currency;
every timestamp is timezone-aware UTC (:class:`~assistant.store._types.UTCDateTime`). Activity
revisions are immutable: an edit makes a new revision, and decisions and claims point to the
revision that was shown. The migrations under ``versions/`` must end at exactly this module;
``assistant.store.migrate.check`` (run by the tests) proves it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    event,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from assistant.domain import Shopper
from assistant.errors import StoreError
from assistant.store._types import UTCDateTime

__all__ = [
    "FEEDBACK_TYPES",
    "NAMING",
    "ActivityRecord",
    "ActivityRevisionRecord",
    "Base",
    "CartItemRecord",
    "CartRecord",
    "ClaimRecord",
    "DecisionRecord",
    "FeedbackRecord",
    "ImpressionRecord",
    "MessageRecord",
    "OccurrenceRecord",
    "PriceHistoryRecord",
    "ProductRecord",
    "SessionRecord",
    "UserRecord",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_ID = 128
_JSON = JSON()


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so constraint names are stable everywhere."""

    metadata = MetaData(naming_convention=NAMING)


class ProductRecord(Base):
    """A catalog product; ``removed_at`` is set by an explicit removal, never by an import.

    ``price`` is ``NULL`` for a product imported without one (it is never priced or sold).
    """

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    title_zh: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    description_zh: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(200), index=True)
    brand: Mapped[str] = mapped_column(String(100), index=True)
    price: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(_JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PriceHistoryRecord(Base):
    """A product's price over ``[valid_from, valid_to)``; the open row is the current price."""

    __tablename__ = "price_history"
    __table_args__ = (Index(None, "product_id", "valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product_id: Mapped[str] = mapped_column(
        String(_ID), ForeignKey("products.id", ondelete="CASCADE")
    )
    price: Mapped[int] = mapped_column(BigInteger)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ActivityRecord(Base):
    """The mutable head of a promotional activity: its current revision and running budget."""

    __tablename__ = "activities"
    __table_args__ = (CheckConstraint("budget_reserved >= 0", name="budget_reserved_not_negative"),)

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    current_revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    budget_reserved: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ActivityRevisionRecord(Base):
    """One immutable revision of an activity's terms, scope, audience and schedule.

    The schedule is ``starts_at``/``ends_at`` for a one-off window, or ``rrule`` with
    ``duration_minutes`` expanded in ``tz`` (shop time) for a recurrence. ``tiers`` is a JSON list
    of ``[threshold, discount]`` in minor units; ``content_hash`` identifies the content so that
    re-importing an unchanged activity makes no revision. ``value_known`` is false for a coupon
    imported without a face value.
    """

    __tablename__ = "activity_revisions"

    activity_id: Mapped[str] = mapped_column(
        String(_ID), ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300), default="")
    title_zh: Mapped[str | None] = mapped_column(String(300))
    terms: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    scope: Mapped[dict[str, Any]] = mapped_column(_JSON)
    audience: Mapped[str] = mapped_column(String(140), default="all")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rrule: Mapped[str | None] = mapped_column(Text)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    percent: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[int | None] = mapped_column(BigInteger)
    max_discount: Mapped[int | None] = mapped_column(BigInteger)
    min_spend: Mapped[int | None] = mapped_column(BigInteger)
    tiers: Mapped[list[list[int]]] = mapped_column(_JSON, default=list)
    min_quantity: Mapped[int | None] = mapped_column(Integer)
    budget: Mapped[int | None] = mapped_column(BigInteger)
    per_user_limit: Mapped[int | None] = mapped_column(Integer)
    quantity_limit: Mapped[int | None] = mapped_column(Integer)
    value_known: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


@event.listens_for(ActivityRevisionRecord, "before_update")
def _revisions_are_immutable(*_: object) -> None:
    raise StoreError("activity revisions are immutable; add a new revision instead")


class OccurrenceRecord(Base):
    """One live window of an activity revision, materialized over a rolling horizon."""

    __tablename__ = "activity_occurrences"
    __table_args__ = (
        ForeignKeyConstraint(
            ["activity_id", "revision"],
            ["activity_revisions.activity_id", "activity_revisions.revision"],
            ondelete="CASCADE",
        ),
        Index(None, "starts_at", "ends_at"),
    )

    activity_id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserRecord(Base):
    """A shopper; an unknown id is created on first contact as a new, non-member user."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    member: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    new_user: Mapped[bool] = mapped_column(Boolean, default=True)
    segments: Mapped[list[str]] = mapped_column(_JSON, default=list)
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    preferences: Mapped[dict[str, Any]] = mapped_column(
        _JSON, default=dict, server_default=text("'{}'")
    )
    """Kept across sessions: ``personalization`` (bool) and ``not_interested`` (list)."""

    def to_shopper(self) -> Shopper:
        """What the deal engine needs to know about this user."""
        return Shopper(
            id=self.id,
            member=self.member,
            new_user=self.new_user,
            segments=frozenset(self.segments or ()),
        )


class SessionRecord(Base):
    """A conversation: its dialogue slots, summary, and whether an agent has taken over."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(_ID), ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[dict[str, Any]] = mapped_column(_JSON, default=dict)
    handoff: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    agent_active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    summary: Mapped[str] = mapped_column(Text, default="")


class MessageRecord(Base):
    """One message of a session (shopper, assistant or agent)."""

    __tablename__ = "messages"
    __table_args__ = (Index(None, "session_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        String(_ID), ForeignKey("sessions.id", ondelete="CASCADE")
    )
    turn_id: Mapped[str] = mapped_column(String(_ID), index=True)
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CartRecord(Base):
    """A shopper's cart, built from add-to-cart events when the host site sends none."""

    __tablename__ = "carts"

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(_ID), ForeignKey("users.id"), index=True)
    session_id: Mapped[str | None] = mapped_column(
        String(_ID), ForeignKey("sessions.id", ondelete="SET NULL"), index=True
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CartItemRecord(Base):
    """A line of a cart."""

    __tablename__ = "cart_items"
    __table_args__ = (CheckConstraint("quantity >= 1", name="quantity_positive"),)

    cart_id: Mapped[str] = mapped_column(
        String(_ID), ForeignKey("carts.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[str] = mapped_column(
        String(_ID), ForeignKey("products.id"), primary_key=True
    )
    quantity: Mapped[int] = mapped_column(Integer)


class ClaimRecord(Base):
    """A claimed coupon: its code, the revision claimed, and the budget it reserves."""

    __tablename__ = "claims"
    __table_args__ = (
        ForeignKeyConstraint(
            ["activity_id", "revision"],
            ["activity_revisions.activity_id", "activity_revisions.revision"],
        ),
        CheckConstraint("status IN ('reserved', 'redeemed', 'released')", name="status_known"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        Index(None, "user_id", "activity_id"),
    )

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(_ID), ForeignKey("users.id"))
    activity_id: Mapped[str] = mapped_column(String(_ID), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="reserved")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DecisionRecord(Base):
    """One slate decision: what was considered and shown, with propensities and versions."""

    __tablename__ = "decisions"

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    turn_id: Mapped[str] = mapped_column(String(_ID), index=True)
    session_id: Mapped[str | None] = mapped_column(
        String(_ID), ForeignKey("sessions.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(_ID), ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    candidate_ids: Mapped[list[str]] = mapped_column(_JSON)
    scores: Mapped[list[float]] = mapped_column(_JSON)
    propensities: Mapped[list[float]] = mapped_column(_JSON)
    chosen_ids: Mapped[list[str]] = mapped_column(_JSON)
    positions: Mapped[list[int]] = mapped_column(_JSON)
    ranker_version: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[str] = mapped_column(String(64))
    params_version: Mapped[str] = mapped_column(String(64))
    activity_revisions: Mapped[dict[str, int]] = mapped_column(_JSON, default=dict)
    context: Mapped[dict[str, Any]] = mapped_column(_JSON, default=dict)


class ImpressionRecord(Base):
    """One recommendation shown at a position of a decision's slate."""

    __tablename__ = "impressions"
    __table_args__ = (
        CheckConstraint("kind IN ('product', 'activity')", name="kind_known"),
        Index(None, "decision_id", "position", unique=True),
    )

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    decision_id: Mapped[str] = mapped_column(
        String(_ID), ForeignKey("decisions.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[str] = mapped_column(String(_ID), index=True)
    activity_ids: Mapped[list[str]] = mapped_column(_JSON, default=list)
    propensity: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


FEEDBACK_TYPES = ("click", "claim", "add_to_cart", "purchase", "dismiss")


class FeedbackRecord(Base):
    """A shopper's reaction to an impression; ``event_id`` is the client's, so retries dedupe."""

    __tablename__ = "feedback_events"
    __table_args__ = (
        CheckConstraint(
            "type IN ('click', 'claim', 'add_to_cart', 'purchase', 'dismiss')", name="type_known"
        ),
    )

    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    impression_id: Mapped[str] = mapped_column(
        String(_ID), ForeignKey("impressions.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(16))
    claim_id: Mapped[str | None] = mapped_column(String(_ID), ForeignKey("claims.id"))
    order_id: Mapped[str | None] = mapped_column(String(_ID))
    value: Mapped[int | None] = mapped_column(BigInteger)
    quantity: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PolicySnapshotRecord(Base):
    """A versioned, immutable snapshot of a serving policy's parameters.

    One updater writes them (``shopassist policy update`` folds feedback into a new version);
    serving workers reload by version. ``promoted_at`` marks snapshots that served: the one
    with the latest ``promoted_at`` serves now.
    """

    __tablename__ = "policy_snapshots"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    family: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[dict[str, Any]] = mapped_column(_JSON)
    parent_version: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    folded_through: Mapped[datetime | None] = mapped_column(UTCDateTime)
    n_folded: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class PolicyEvaluationRecord(Base):
    """One off-policy evaluation of a candidate against the serving policy, with its verdict."""

    __tablename__ = "policy_evaluations"

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    candidate_version: Mapped[str] = mapped_column(String(64), index=True)
    serving_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    n_decisions: Mapped[int] = mapped_column(Integer)
    reward: Mapped[str] = mapped_column(String(16))
    report: Mapped[dict[str, Any]] = mapped_column(_JSON)
    promoted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class PolicyRoleRecord(Base):
    """A non-serving role a stored policy plays: ``shadow`` (logs what it would have chosen) or
    ``ab`` (serves ``share`` of users, bucketed by a salted hash of the user id)."""

    __tablename__ = "policy_roles"
    __table_args__ = (CheckConstraint("role IN ('shadow', 'ab')", name="role_known"),)

    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    share: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    salt: Mapped[str] = mapped_column(String(64), default="", server_default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
