"""Unpriced products and coupons of unknown value.

``products.price`` becomes nullable (a Complete Journey product that never sold has no price)
and ``activity_revisions.value_known`` (default true) marks a coupon imported without a face
value. Existing rows keep their meaning: every stored product keeps its price and every stored
revision is ``value_known``.

The downgrade refuses, naming what to remove first, while unpriced products or coupons of
unknown value exist: 0001 can store neither.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.alter_column("price", existing_type=sa.BigInteger(), nullable=True)
    with op.batch_alter_table("activity_revisions") as batch:
        batch.add_column(
            sa.Column("value_known", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    connection = op.get_bind()
    unpriced = connection.execute(
        sa.text("SELECT COUNT(*) FROM products WHERE price IS NULL")
    ).scalar_one()
    unknown = connection.execute(
        sa.text("SELECT COUNT(*) FROM activity_revisions WHERE NOT value_known")
    ).scalar_one()
    if unpriced or unknown:
        raise RuntimeError(
            f"cannot downgrade to 0001: {unpriced} unpriced product(s) and {unknown} coupon "
            "revision(s) of unknown value exist, which 0001 cannot store; delete them first"
        )
    with op.batch_alter_table("activity_revisions") as batch:
        batch.drop_column("value_known")
    with op.batch_alter_table("products") as batch:
        batch.alter_column("price", existing_type=sa.BigInteger(), nullable=False)
