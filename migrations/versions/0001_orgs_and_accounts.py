"""orgs and accounts

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orgs",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("business_unit", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("instance_url", sa.Text()),
        sa.Column("external_id", sa.String(18)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('salesforce', 'csv', 'memory')", name="ck_orgs_kind"),
        sa.PrimaryKeyConstraint("id", name="pk_orgs"),
    )
    op.create_table(
        "accounts",
        sa.Column("org_id", sa.String(40), nullable=False),
        sa.Column("external_id", sa.String(18), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("website", sa.Text()),
        sa.Column("industry", sa.Text()),
        sa.Column("employees", sa.Integer()),
        sa.Column("annual_revenue", sa.Numeric(20, 2)),
        sa.Column("billing_street", sa.Text()),
        sa.Column("billing_city", sa.Text()),
        sa.Column("billing_state", sa.Text()),
        sa.Column("billing_postal_code", sa.Text()),
        sa.Column("billing_country", sa.Text()),
        sa.Column("phone", sa.Text()),
        sa.Column("owner_id", sa.String(18)),
        sa.Column("owner_name", sa.Text()),
        sa.Column("parent_external_id", sa.String(18)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("char_length(external_id) = 18", name="ck_accounts_external_id_18"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name="fk_accounts_org_id_orgs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("org_id", "external_id", name="pk_accounts"),
    )
    op.create_index("ix_accounts_org_modified", "accounts", ["org_id", "modified_at"])


def downgrade() -> None:
    op.drop_index("ix_accounts_org_modified", table_name="accounts")
    op.drop_table("accounts")
    op.drop_table("orgs")
