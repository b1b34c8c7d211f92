"""Versioned policy snapshots and off-policy evaluations.

``policy_snapshots`` holds each serving policy's parameters as an immutable, versioned JSON
snapshot (written by the one updater; the latest ``promoted_at`` serves).
``policy_evaluations`` keeps every off-policy evaluation of a candidate against the serving
policy, its estimates with intervals, and whether it was promoted. ``policy_roles`` names the
shadow policy and the A/B candidate (with its traffic share and bucketing salt).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "policy_snapshots",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("family", sa.String(length=64), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("parent_version", sa.String(length=64), nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("folded_through", _UTC, nullable=True),
        sa.Column("n_folded", sa.Integer(), server_default="0", nullable=False),
        sa.Column("promoted_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_policy_snapshots")),
    )
    op.create_index(
        op.f("ix_policy_snapshots_created_at"), "policy_snapshots", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_policy_snapshots_promoted_at"), "policy_snapshots", ["promoted_at"], unique=False
    )
    op.create_table(
        "policy_evaluations",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("candidate_version", sa.String(length=64), nullable=False),
        sa.Column("serving_version", sa.String(length=64), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("n_decisions", sa.Integer(), nullable=False),
        sa.Column("reward", sa.String(length=16), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("promoted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_evaluations")),
    )
    op.create_index(
        op.f("ix_policy_evaluations_candidate_version"),
        "policy_evaluations",
        ["candidate_version"],
        unique=False,
    )
    op.create_index(
        op.f("ix_policy_evaluations_created_at"),
        "policy_evaluations",
        ["created_at"],
        unique=False,
    )
    op.create_table(
        "policy_roles",
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("share", sa.Float(), server_default="0", nullable=False),
        sa.Column("salt", sa.String(length=64), server_default="", nullable=False),
        sa.Column("started_at", _UTC, nullable=False),
        sa.CheckConstraint("role IN ('shadow', 'ab')", name=op.f("ck_policy_roles_role_known")),
        sa.PrimaryKeyConstraint("role", name=op.f("pk_policy_roles")),
    )


def downgrade() -> None:
    op.drop_table("policy_roles")
    op.drop_index(op.f("ix_policy_evaluations_created_at"), table_name="policy_evaluations")
    op.drop_index(op.f("ix_policy_evaluations_candidate_version"), table_name="policy_evaluations")
    op.drop_table("policy_evaluations")
    op.drop_index(op.f("ix_policy_snapshots_promoted_at"), table_name="policy_snapshots")
    op.drop_index(op.f("ix_policy_snapshots_created_at"), table_name="policy_snapshots")
    op.drop_table("policy_snapshots")
