"""The CRM and sync schema as SQLAlchemy Core tables; migrations must create exactly this (a test checks)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

__all__ = [
    "accounts",
    "activities",
    "contacts",
    "metadata",
    "opportunities",
    "opportunity_line_items",
    "org_credentials",
    "orgs",
    "pricebook_entries",
    "products",
    "sync_cursors",
    "sync_reconciliations",
    "sync_runs",
]

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
    # Sync state: idle, running, paused (budget), parked (limit hit), attention (a human must act).
    Column("sync_state", String(20), nullable=False, server_default="idle"),
    Column("sync_state_reason", Text),
    Column("api_used", Integer),
    Column("api_max", Integer),
    Column("sync_schedule", Text),  # the org's own cron; NULL: XSELL_SYNC_SCHEDULE
    CheckConstraint("kind IN ('salesforce', 'csv', 'memory')", name="kind"),
)

org_credentials = Table(
    "org_credentials",
    metadata,
    Column("org_id", String(40), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True),
    Column("flow", String(30), nullable=False),
    Column("login_url", Text),
    Column("username", Text),
    Column("client_id", Text),
    # Every secret (password, token, client secret, private key) sealed together, bound to org_id.
    Column("sealed", LargeBinary, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
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
    Column("fields", JSONB),
    CheckConstraint("char_length(external_id) = 18", name="external_id_18"),
    Index("ix_accounts_org_modified", "org_id", "modified_at"),
)


def _crm_table(name: str, *columns: Column[Any]) -> Table:
    """An org-scoped CRM object: (org_id, 18-char id) key, SystemModstamp, soft delete, the raw fields."""
    return Table(
        name,
        metadata,
        Column("org_id", String(40), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True),
        Column("external_id", String(18), primary_key=True),
        *columns,
        Column("created_at", DateTime(timezone=True)),
        Column("modified_at", DateTime(timezone=True), nullable=False),
        Column("is_deleted", Boolean, nullable=False, server_default="false"),
        Column("synced_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        # Every field the sync read, as Salesforce named it; typed columns above are what xsell uses.
        Column("fields", JSONB),
        CheckConstraint("char_length(external_id) = 18", name="external_id_18"),
        Index(f"ix_{name}_org_modified", "org_id", "modified_at"),
    )


contacts = _crm_table(
    "contacts",
    Column("account_external_id", String(18)),
    Column("first_name", Text),
    Column("last_name", Text),
    Column("email", Text),
    Column("phone", Text),
    Column("title", Text),
)

products = _crm_table(
    "products",
    Column("name", Text, nullable=False),
    Column("product_code", Text),
    Column("family", Text),
    Column("description", Text),
    Column("is_active", Boolean),
)

pricebook_entries = _crm_table(
    "pricebook_entries",
    Column("product_external_id", String(18)),
    Column("pricebook_external_id", String(18)),
    Column("unit_price", Numeric(20, 2)),
    Column("currency", String(3)),
    Column("is_active", Boolean),
)

opportunities = _crm_table(
    "opportunities",
    Column("account_external_id", String(18)),
    Column("name", Text),
    Column("stage", Text),
    Column("amount", Numeric(20, 2)),
    Column("currency", String(3)),
    Column("is_closed", Boolean, nullable=False, server_default="false"),
    Column("is_won", Boolean, nullable=False, server_default="false"),
    Column("close_date", Date),
    Column("owner_id", String(18)),
)

opportunity_line_items = _crm_table(
    "opportunity_line_items",
    Column("opportunity_external_id", String(18)),
    Column("product_external_id", String(18)),
    Column("pricebook_entry_external_id", String(18)),
    Column("quantity", Numeric(20, 4)),
    Column("unit_price", Numeric(20, 2)),
    Column("total_price", Numeric(20, 2)),
    Column("currency", String(3)),
)

activities = _crm_table(
    "activities",
    Column("kind", String(10), nullable=False),  # task | event
    Column("account_external_id", String(18)),
    Column("who_external_id", String(18)),
    Column("subject", Text),
    Column("activity_type", Text),
    Column("status", Text),
    Column("activity_at", DateTime(timezone=True)),
)

sync_cursors = Table(
    "sync_cursors",
    metadata,
    Column("org_id", String(40), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True),
    Column("sobject", String(60), primary_key=True),
    Column("modstamp", DateTime(timezone=True), nullable=False),
    Column("last_id", String(18), nullable=False),
    Column("fields", JSONB),  # the field list last used, so a change of visible fields is noticed
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("org_id", String(40), ForeignKey("orgs.id", ondelete="CASCADE"), nullable=False),
    Column("trigger", String(20), nullable=False),  # cli | schedule | api
    Column("full", Boolean, nullable=False, server_default="false"),
    Column("status", String(20), nullable=False),  # running | completed | paused | parked | failed
    Column("status_reason", Text),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("counts", JSONB),  # per object: {"upserted": n, "deleted": n}
    Column("errors", JSONB),  # list of {"object", "code", "message"}
    Column("api_used", Integer),
    Column("api_max", Integer),
    Index("ix_sync_runs_org_started", "org_id", "started_at"),
)

sync_reconciliations = Table(
    "sync_reconciliations",
    metadata,
    Column("run_id", Uuid, ForeignKey("sync_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("sobject", String(60), primary_key=True),
    Column("xsell_count", Integer, nullable=False),
    Column("crm_count", Integer, nullable=False),
    Column("checked_at", DateTime(timezone=True), nullable=False),
)
