"""Tables of jobs and of the outbox their messages wait in until a relay hands them to the workers."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from adapters.persistence.tables import metadata

__all__ = ["jobs", "metadata", "outbox"]

jobs = Table(
    "jobs",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("org_id", String(40), ForeignKey("orgs.id", ondelete="CASCADE")),  # a sync's org
    Column("parameters", JSONB, nullable=False),  # ids and options only, never credentials
    Column("status", String(20), nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("error", Text),
    Column("result", JSONB, nullable=False),
    CheckConstraint("kind IN ('sync', 'sync_all', 'resolve', 'train', 'score')", name="kind"),
    CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')", name="status"),
    Index("ix_jobs_created", "created_at", "id"),
    Index("ix_jobs_org", "org_id"),
)

# A message is written with its job in one transaction and sent after commit; `relayed_at` NULL: not sent.
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("job_id", Uuid, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("message", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("relayed_at", DateTime(timezone=True)),
    Index("ix_outbox_unrelayed", "id", postgresql_where=text("relayed_at IS NULL")),
    Index("ix_outbox_job", "job_id"),
)
