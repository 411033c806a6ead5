"""The table of write-backs: accepted offers written into a CRM, one row per offer and kind."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from adapters.persistence.model_tables import recommendations
from adapters.persistence.tables import metadata, orgs

__all__ = ["write_backs"]

write_backs = Table(
    "write_backs",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column(
        "recommendation_id",
        String(40),
        ForeignKey(recommendations.c.id, ondelete="CASCADE"),
        nullable=False,
    ),
    Column("kind", String(20), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("org_id", String(40), ForeignKey(orgs.c.id, ondelete="CASCADE"), nullable=False),
    Column("account_id", String(18), nullable=False),
    Column("status", String(20), nullable=False),
    Column("salesforce_id", String(18)),
    Column("error", Text),
    Column("requested_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column(
        "attempted_at", DateTime(timezone=True)
    ),  # the attempt under way holds the row until its lease ends
    Column("done_at", DateTime(timezone=True)),
    # The two halves of "exactly once": a key names one request, and an offer is written once per kind.
    UniqueConstraint("idempotency_key"),
    UniqueConstraint("recommendation_id", "kind"),
    CheckConstraint("kind IN ('task', 'opportunity')", name="kind"),
    CheckConstraint("status IN ('pending', 'done', 'failed')", name="status"),
    CheckConstraint("(status = 'done') = (salesforce_id IS NOT NULL)", name="done_has_id"),
)
