"""The schema as SQLAlchemy Core tables; migrations must create exactly this (a test checks)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    func,
)

__all__ = ["accounts", "metadata", "orgs"]

# Stable constraint names, so migrations can refer to them and autogenerate sees no drift.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

orgs = Table(
    "orgs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("business_unit", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("instance_url", Text),
    Column("external_id", String(18)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("kind IN ('salesforce', 'csv', 'memory')", name="kind"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("org_id", String(40), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True),
    Column("external_id", String(18), primary_key=True),
    Column("name", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("website", Text),
    Column("industry", Text),
    Column("employees", Integer),
    Column("annual_revenue", Numeric(20, 2)),
    Column("billing_street", Text),
    Column("billing_city", Text),
    Column("billing_state", Text),
    Column("billing_postal_code", Text),
    Column("billing_country", Text),
    Column("phone", Text),
    Column("owner_id", String(18)),
    Column("owner_name", Text),
    Column("parent_external_id", String(18)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("modified_at", DateTime(timezone=True), nullable=False),
    Column("is_deleted", Boolean, nullable=False, server_default="false"),
    Column("synced_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("char_length(external_id) = 18", name="external_id_18"),
    Index("ix_accounts_org_modified", "org_id", "modified_at"),
)
