"""write_backs: accepted recommendations written into a CRM as a Task or Opportunity, exactly once

Revision ID: 0010
Revises: 0008 (0009 when the branches are chained on merge)
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "write_backs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recommendation_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=18), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("salesforce_id", sa.String(length=18), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('task', 'opportunity')", name=op.f("ck_write_backs_kind")),
        sa.CheckConstraint("status IN ('pending', 'done', 'failed')", name=op.f("ck_write_backs_status")),
        sa.CheckConstraint(
            "(status = 'done') = (salesforce_id IS NOT NULL)", name=op.f("ck_write_backs_done_has_id")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_write_backs_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_write_backs_recommendation_id_recommendations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_write_backs")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_write_backs_idempotency_key")),
        sa.UniqueConstraint("recommendation_id", "kind", name=op.f("uq_write_backs_recommendation_id")),
    )


def downgrade() -> None:
    op.drop_table("write_backs")
