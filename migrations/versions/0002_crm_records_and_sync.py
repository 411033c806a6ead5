"""crm records and sync

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=18), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("account_external_id", sa.String(length=18), nullable=True),
        sa.Column("who_external_id", sa.String(length=18), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("activity_type", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("activity_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("fields", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint("char_length(external_id) = 18", name=op.f("ck_activities_external_id_18")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_activities_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "external_id", name=op.f("pk_activities")),
    )
    op.create_index("ix_activities_org_modified", "activities", ["org_id", "modified_at"], unique=False)
    op.create_table(
        "contacts",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=18), nullable=False),
        sa.Column("account_external_id", sa.String(length=18), nullable=True),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("fields", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint("char_length(external_id) = 18", name=op.f("ck_contacts_external_id_18")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_contacts_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "external_id", name=op.f("pk_contacts")),
    )
    op.create_index("ix_contacts_org_modified", "contacts", ["org_id", "modified_at"], unique=False)
    op.create_table(
        "opportunities",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=18), nullable=False),
        sa.Column("account_external_id", sa.String(length=18), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("stage", sa.Text(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=20, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("is_closed", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("is_won", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("close_date", sa.Date(), nullable=True),
        sa.Column("owner_id", sa.String(length=18), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("fields", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint("char_length(external_id) = 18", name=op.f("ck_opportunities_external_id_18")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_opportunities_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "external_id", name=op.f("pk_opportunities")),
    )
    op.create_index("ix_opportunities_org_modified", "opportunities", ["org_id", "modified_at"], unique=False)
    op.create_table(
        "opportunity_line_items",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=18), nullable=False),
        sa.Column("opportunity_external_id", sa.String(length=18), nullable=True),
        sa.Column("product_external_id", sa.String(length=18), nullable=True),
        sa.Column("pricebook_entry_external_id", sa.String(length=18), nullable=True),
        sa.Column("quantity", sa.Numeric(precision=20, scale=4), nullable=True),
        sa.Column("unit_price", sa.Numeric(precision=20, scale=2), nullable=True),
        sa.Column("total_price", sa.Numeric(precision=20, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("fields", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint(
            "char_length(external_id) = 18", name=op.f("ck_opportunity_line_items_external_id_18")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_opportunity_line_items_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "external_id", name=op.f("pk_opportunity_line_items")),
    )
    op.create_index(
        "ix_opportunity_line_items_org_modified",
        "opportunity_line_items",
        ["org_id", "modified_at"],
        unique=False,
    )
    op.create_table(
        "org_credentials",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("flow", sa.String(length=30), nullable=False),
        sa.Column("login_url", sa.Text(), nullable=True),
        sa.Column("username", sa.Text(), nullable=True),
        sa.Column("client_id", sa.Text(), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_org_credentials_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_org_credentials")),
    )
    op.create_table(
        "pricebook_entries",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=18), nullable=False),
        sa.Column("product_external_id", sa.String(length=18), nullable=True),
        sa.Column("pricebook_external_id", sa.String(length=18), nullable=True),
        sa.Column("unit_price", sa.Numeric(precision=20, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("fields", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint("char_length(external_id) = 18", name=op.f("ck_pricebook_entries_external_id_18")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_pricebook_entries_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "external_id", name=op.f("pk_pricebook_entries")),
    )
    op.create_index(
        "ix_pricebook_entries_org_modified", "pricebook_entries", ["org_id", "modified_at"], unique=False
    )
    op.create_table(
        "products",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=18), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("product_code", sa.Text(), nullable=True),
        sa.Column("family", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("fields", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint("char_length(external_id) = 18", name=op.f("ck_products_external_id_18")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_products_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "external_id", name=op.f("pk_products")),
    )
    op.create_index("ix_products_org_modified", "products", ["org_id", "modified_at"], unique=False)
    op.create_table(
        "sync_cursors",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("sobject", sa.String(length=60), nullable=False),
        sa.Column("modstamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_id", sa.String(length=18), nullable=False),
        sa.Column("fields", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_sync_cursors_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "sobject", name=op.f("pk_sync_cursors")),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("full", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("errors", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("api_used", sa.Integer(), nullable=True),
        sa.Column("api_max", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_sync_runs_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_index("ix_sync_runs_org_started", "sync_runs", ["org_id", "started_at"], unique=False)
    op.create_table(
        "sync_reconciliations",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("sobject", sa.String(length=60), nullable=False),
        sa.Column("xsell_count", sa.Integer(), nullable=False),
        sa.Column("crm_count", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["sync_runs.id"],
            name=op.f("fk_sync_reconciliations_run_id_sync_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "sobject", name=op.f("pk_sync_reconciliations")),
    )
    op.add_column("accounts", sa.Column("fields", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column(
        "orgs", sa.Column("sync_state", sa.String(length=20), server_default="idle", nullable=False)
    )
    op.add_column("orgs", sa.Column("sync_state_reason", sa.Text(), nullable=True))
    op.add_column("orgs", sa.Column("api_used", sa.Integer(), nullable=True))
    op.add_column("orgs", sa.Column("api_max", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("orgs", "api_max")
    op.drop_column("orgs", "api_used")
    op.drop_column("orgs", "sync_state_reason")
    op.drop_column("orgs", "sync_state")
    op.drop_column("accounts", "fields")
    op.drop_table("sync_reconciliations")
    op.drop_index("ix_sync_runs_org_started", table_name="sync_runs")
    op.drop_table("sync_runs")
    op.drop_table("sync_cursors")
    op.drop_index("ix_products_org_modified", table_name="products")
    op.drop_table("products")
    op.drop_index("ix_pricebook_entries_org_modified", table_name="pricebook_entries")
    op.drop_table("pricebook_entries")
    op.drop_table("org_credentials")
    op.drop_index("ix_opportunity_line_items_org_modified", table_name="opportunity_line_items")
    op.drop_table("opportunity_line_items")
    op.drop_index("ix_opportunities_org_modified", table_name="opportunities")
    op.drop_table("opportunities")
    op.drop_index("ix_contacts_org_modified", table_name="contacts")
    op.drop_table("contacts")
    op.drop_index("ix_activities_org_modified", table_name="activities")
    op.drop_table("activities")
