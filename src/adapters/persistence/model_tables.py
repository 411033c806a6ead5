"""Tables of the model registry, the A/B serving policy, scoring runs and recommendations."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from adapters.persistence.tables import metadata

__all__ = [
    "metadata",
    "model_artifacts",
    "model_stage_changes",
    "model_versions",
    "recommendations",
    "scoring_runs",
    "serving_policy",
]

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("algorithms", ARRAY(Text), nullable=False),
    Column("feature_set_version", String(40), nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
    Column("window_end", DateTime(timezone=True), nullable=False),
    Column("stage", String(20), nullable=False),
    Column("metrics", JSONB, nullable=False),
    Column("artifacts", JSONB, nullable=False),  # file name -> sha256
    Column("details", JSONB, nullable=False),  # cutoffs, horizon, training report, baselines, calibration
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Artifacts live in the database so every worker and API process on any machine loads the same bytes;
# the checksum registered with the version is verified on every load.
model_artifacts = Table(
    "model_artifacts",
    metadata,
    Column(
        "model_version_id", String(64), ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("name", String(100), primary_key=True),
    Column("content", LargeBinary, nullable=False),
)

model_stage_changes = Table(
    "model_stage_changes",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column(
        "model_version_id", String(64), ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False
    ),
    Column("from_stage", String(20)),
    Column("to_stage", String(20), nullable=False),
    Column("changed_by", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text),
    Index("ix_model_stage_changes_version", "model_version_id", "id"),
)

# One row: the A/B policy in force (id is always 1).
serving_policy = Table(
    "serving_policy",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("challenger_share", Float, nullable=False),
    Column("salt", Text, nullable=False),
    Column("updated_by", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

scoring_runs = Table(
    "scoring_runs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("as_of", Date, nullable=False),
    Column("champion_id", String(64), nullable=False),
    Column("challenger_id", String(64)),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(20), nullable=False),  # running | completed | failed
    Column("candidates", Integer, nullable=False, server_default="0"),
    Column("suppressed", Integer, nullable=False, server_default="0"),
    Column("written", Integer, nullable=False, server_default="0"),
    Column("error", Text),
)

recommendations = Table(
    "recommendations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("customer_id", String(40), nullable=False),
    Column("family_id", String(64), nullable=False),
    Column("target_org_id", String(64), nullable=False),
    Column("probability", Float, nullable=False),
    Column("expected_value", Numeric(20, 2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("group_value", Numeric(20, 2)),  # in the group currency; NULL when no exchange rate is known
    Column("group_currency", String(3), nullable=False),
    Column("rank", Integer, nullable=False),  # 1 = the customer's best offer
    Column("model_version_id", String(64), nullable=False),
    Column("arm", String(20), nullable=False),
    Column("reasons", JSONB, nullable=False),
    Column("status", String(20), nullable=False),
    Column("scoring_run_id", String(40), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True)),
    Column("dismissed_at", DateTime(timezone=True)),
    Column("converted_at", DateTime(timezone=True)),
    Column("lost_at", DateTime(timezone=True)),
    Column("decided_by", Text),
    Column("dismiss_reason", Text),
    Column("converted_amount", Numeric(20, 2)),
    # A new scoring run replaces the undecided offers; a decided one stays as history.
    Index(
        "uq_recommendations_open_offer",
        "customer_id",
        "family_id",
        unique=True,
        postgresql_where=text("status = 'new'"),
    ),
    Index("ix_recommendations_value", "status", "expected_value"),
    Index("ix_recommendations_customer", "customer_id"),
)
# The list's two orders (best first, ties by id): a page reads its rows off one index and stops after
# `limit`, instead of sorting every offer on each request.
Index("ix_recommendations_by_value", recommendations.c.expected_value.desc(), recommendations.c.id)
Index("ix_recommendations_by_probability", recommendations.c.probability.desc(), recommendations.c.id)
