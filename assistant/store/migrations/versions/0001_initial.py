"""Initial schema.

Catalog (products, price history), activities with immutable revisions and materialized
occurrences, users, sessions and messages, carts, claims, decisions, impressions and feedback.

Written to match :mod:`assistant.store.models` exactly; ``assistant.store.migrate.check`` proves
there is no drift.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every timestamp is an aware UTC instant (assistant.store._types.UTCDateTime in the models).
_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("current_revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("budget_reserved", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.Column("removed_at", _UTC, nullable=True),
        sa.CheckConstraint(
            "budget_reserved >= 0", name=op.f("ck_activities_budget_reserved_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("title_zh", sa.String(length=300), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("description_zh", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("brand", sa.String(length=100), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("image_url", sa.Text(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.Column("removed_at", _UTC, nullable=True),
        sa.CheckConstraint("price >= 0", name=op.f("ck_products_price_not_negative")),
        sa.CheckConstraint(
            "stock IS NULL OR stock >= 0", name=op.f("ck_products_stock_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    op.create_index(op.f("ix_products_brand"), "products", ["brand"], unique=False)
    op.create_index(op.f("ix_products_category"), "products", ["category"], unique=False)
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("member", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("new_user", sa.Boolean(), nullable=False),
        sa.Column("segments", sa.JSON(), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_table(
        "activity_revisions",
        sa.Column("activity_id", sa.String(length=128), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("title_zh", sa.String(length=300), nullable=True),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("audience", sa.String(length=140), nullable=False),
        sa.Column("starts_at", _UTC, nullable=False),
        sa.Column("ends_at", _UTC, nullable=True),
        sa.Column("rrule", sa.Text(), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("max_discount", sa.BigInteger(), nullable=True),
        sa.Column("min_spend", sa.BigInteger(), nullable=True),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("min_quantity", sa.Integer(), nullable=True),
        sa.Column("budget", sa.BigInteger(), nullable=True),
        sa.Column("per_user_limit", sa.Integer(), nullable=True),
        sa.Column("quantity_limit", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_revisions_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "revision", name=op.f("pk_activity_revisions")),
    )
    op.create_table(
        "price_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("product_id", sa.String(length=128), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", _UTC, nullable=False),
        sa.Column("valid_to", _UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_price_history_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_history")),
    )
    op.create_index(
        op.f("ix_price_history_product_id_valid_from"),
        "price_history",
        ["product_id", "valid_from"],
        unique=False,
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("handoff", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("agent_active", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_user_id"), "sessions", ["user_id"], unique=False)
    op.create_table(
        "activity_occurrences",
        sa.Column("activity_id", sa.String(length=128), nullable=False),
        sa.Column("starts_at", _UTC, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("ends_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id", "revision"],
            ["activity_revisions.activity_id", "activity_revisions.revision"],
            name=op.f("fk_activity_occurrences_activity_id_activity_revisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "starts_at", name=op.f("pk_activity_occurrences")),
    )
    op.create_index(
        op.f("ix_activity_occurrences_starts_at_ends_at"),
        "activity_occurrences",
        ["starts_at", "ends_at"],
        unique=False,
    )
    op.create_table(
        "carts",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=True),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_carts_session_id_sessions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_carts_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carts")),
    )
    op.create_index(op.f("ix_carts_session_id"), "carts", ["session_id"], unique=False)
    op.create_index(op.f("ix_carts_user_id"), "carts", ["user_id"], unique=False)
    op.create_table(
        "claims",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("activity_id", sa.String(length=128), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("valid_until", _UTC, nullable=False),
        sa.Column("redeemed_at", _UTC, nullable=True),
        sa.CheckConstraint(
            "status IN ('reserved', 'redeemed', 'released')", name=op.f("ck_claims_status_known")
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_claims_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["activity_id", "revision"],
            ["activity_revisions.activity_id", "activity_revisions.revision"],
            name=op.f("fk_claims_activity_id_activity_revisions"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_claims_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
        sa.UniqueConstraint("code", name=op.f("uq_claims_code")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_claims_idempotency_key")),
    )
    op.create_index(op.f("ix_claims_activity_id"), "claims", ["activity_id"], unique=False)
    op.create_index(
        op.f("ix_claims_user_id_activity_id"), "claims", ["user_id", "activity_id"], unique=False
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("turn_id", sa.String(length=128), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=True),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("candidate_ids", sa.JSON(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("propensities", sa.JSON(), nullable=False),
        sa.Column("chosen_ids", sa.JSON(), nullable=False),
        sa.Column("positions", sa.JSON(), nullable=False),
        sa.Column("ranker_version", sa.String(length=64), nullable=False),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.Column("params_version", sa.String(length=64), nullable=False),
        sa.Column("activity_revisions", sa.JSON(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_decisions_session_id_sessions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_decisions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    op.create_index(op.f("ix_decisions_created_at"), "decisions", ["created_at"], unique=False)
    op.create_index(op.f("ix_decisions_session_id"), "decisions", ["session_id"], unique=False)
    op.create_index(op.f("ix_decisions_turn_id"), "decisions", ["turn_id"], unique=False)
    op.create_index(op.f("ix_decisions_user_id"), "decisions", ["user_id"], unique=False)
    op.create_table(
        "messages",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("turn_id", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_messages_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index(
        op.f("ix_messages_session_id_created_at"),
        "messages",
        ["session_id", "created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_messages_turn_id"), "messages", ["turn_id"], unique=False)
    op.create_table(
        "cart_items",
        sa.Column("cart_id", sa.String(length=128), nullable=False),
        sa.Column("product_id", sa.String(length=128), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_cart_items_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["cart_id"], ["carts.id"], name=op.f("fk_cart_items_cart_id_carts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_cart_items_product_id_products")
        ),
        sa.PrimaryKeyConstraint("cart_id", "product_id", name=op.f("pk_cart_items")),
    )
    op.create_table(
        "impressions",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("decision_id", sa.String(length=128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.String(length=128), nullable=False),
        sa.Column("activity_ids", sa.JSON(), nullable=False),
        sa.Column("propensity", sa.Float(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.CheckConstraint(
            "kind IN ('product', 'activity')", name=op.f("ck_impressions_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_impressions_decision_id_decisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_impressions")),
    )
    op.create_index(
        op.f("ix_impressions_decision_id_position"),
        "impressions",
        ["decision_id", "position"],
        unique=True,
    )
    op.create_index(op.f("ix_impressions_item_id"), "impressions", ["item_id"], unique=False)
    op.create_table(
        "feedback_events",
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("impression_id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("claim_id", sa.String(length=128), nullable=True),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("value", sa.BigInteger(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.CheckConstraint(
            "type IN ('click', 'claim', 'add_to_cart', 'purchase', 'dismiss')",
            name=op.f("ck_feedback_events_type_known"),
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_feedback_events_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["impression_id"],
            ["impressions.id"],
            name=op.f("fk_feedback_events_impression_id_impressions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_feedback_events")),
    )
    op.create_index(
        op.f("ix_feedback_events_created_at"), "feedback_events", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_feedback_events_impression_id"), "feedback_events", ["impression_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("feedback_events")
    op.drop_table("impressions")
    op.drop_table("cart_items")
    op.drop_table("messages")
    op.drop_table("decisions")
    op.drop_table("claims")
    op.drop_table("carts")
    op.drop_table("activity_occurrences")
    op.drop_table("sessions")
    op.drop_table("price_history")
    op.drop_table("activity_revisions")
    op.drop_table("users")
    op.drop_table("products")
    op.drop_table("activities")
