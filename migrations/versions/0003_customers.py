"""customers: cross-org customers, memberships, history, match pairs and decisions, product crosswalk

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 20:29:56.233969
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_changes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("other_customer_id", sa.String(length=40), nullable=False),
        sa.Column("moved", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_by", sa.Text(), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('merge', 'split')", name=op.f("ck_customer_changes_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_changes")),
    )
    op.create_index("ix_customer_changes_customer", "customer_changes", ["customer_id"], unique=False)
    op.create_index("ix_customer_changes_other", "customer_changes", ["other_customer_id"], unique=False)
    op.create_table(
        "customer_relations",
        sa.Column("parent_id", sa.String(length=40), nullable=False),
        sa.Column("child_id", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("parent_id", "child_id", name=op.f("pk_customer_relations")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.Text(), server_default="", nullable=False),
        sa.Column("merged_into", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    op.create_table(
        "match_decisions",
        sa.Column("left_org_id", sa.String(length=40), nullable=False),
        sa.Column("left_external_id", sa.String(length=18), nullable=False),
        sa.Column("right_org_id", sa.String(length=40), nullable=False),
        sa.Column("right_external_id", sa.String(length=18), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("change_id", sa.String(length=40), nullable=True),
        sa.CheckConstraint("kind IN ('must_link', 'never_link')", name=op.f("ck_match_decisions_kind")),
        sa.PrimaryKeyConstraint(
            "left_org_id",
            "left_external_id",
            "right_org_id",
            "right_external_id",
            name=op.f("pk_match_decisions"),
        ),
    )
    op.create_index("ix_match_decisions_change", "match_decisions", ["change_id"], unique=False)
    op.create_table(
        "match_pairs",
        sa.Column("left_org_id", sa.String(length=40), nullable=False),
        sa.Column("left_external_id", sa.String(length=18), nullable=False),
        sa.Column("right_org_id", sa.String(length=40), nullable=False),
        sa.Column("right_external_id", sa.String(length=18), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("explanation", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint(
            "left_org_id",
            "left_external_id",
            "right_org_id",
            "right_external_id",
            name=op.f("pk_match_pairs"),
        ),
    )
    op.create_index("ix_match_pairs_probability", "match_pairs", ["probability"], unique=False)
    op.create_index(
        "ix_match_pairs_right", "match_pairs", ["right_org_id", "right_external_id"], unique=False
    )
    op.create_table(
        "product_families",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_families")),
    )
    op.create_table(
        "resolution_fingerprints",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=18), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "external_id", name=op.f("pk_resolution_fingerprints")),
    )
    op.create_table(
        "resolution_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statistics", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolution_state")),
    )
    op.create_table(
        "customer_members",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=18), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("method IN ('rule', 'model', 'human')", name=op.f("ck_customer_members_method")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_members_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "external_id", name=op.f("pk_customer_members")),
    )
    op.create_index("ix_customer_members_customer", "customer_members", ["customer_id"], unique=False)
    op.create_table(
        "product_family_mappings",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=18), nullable=False),
        sa.Column("family_id", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["product_families.id"],
            name=op.f("fk_product_family_mappings_family_id_product_families"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "external_id", name=op.f("pk_product_family_mappings")),
    )


def downgrade() -> None:
    op.drop_table("product_family_mappings")
    op.drop_index("ix_customer_members_customer", table_name="customer_members")
    op.drop_table("customer_members")
    op.drop_table("resolution_state")
    op.drop_table("resolution_fingerprints")
    op.drop_table("product_families")
    op.drop_index("ix_match_pairs_right", table_name="match_pairs")
    op.drop_index("ix_match_pairs_probability", table_name="match_pairs")
    op.drop_table("match_pairs")
    op.drop_index("ix_match_decisions_change", table_name="match_decisions")
    op.drop_table("match_decisions")
    op.drop_table("customers")
    op.drop_table("customer_relations")
    op.drop_index("ix_customer_changes_other", table_name="customer_changes")
    op.drop_index("ix_customer_changes_customer", table_name="customer_changes")
    op.drop_table("customer_changes")
