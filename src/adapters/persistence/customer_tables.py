"""Tables of the cross-org customer model: customers, memberships, history, matches, crosswalk."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

from adapters.persistence.tables import metadata

__all__ = [
    "account_block_keys",
    "customer_changes",
    "customer_members",
    "customer_relations",
    "customers",
    "match_decisions",
    "match_pairs",
    "metadata",
    "product_families",
    "product_family_mappings",
    "resolution_fingerprints",
    "resolution_state",
]

customers = Table(
    "customers",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", Text, nullable=False, server_default=""),
    Column("merged_into", String(40)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# An account belongs to at most one customer; no foreign key to accounts, because a deleted account's
# membership must outlive the CRM row until the next run retires it.
customer_members = Table(
    "customer_members",
    metadata,
    Column("org_id", String(40), primary_key=True),
    Column("external_id", String(18), primary_key=True),
    Column("customer_id", String(40), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("method", String(10), nullable=False),
    Column("decided_by", Text, nullable=False),
    Column("joined_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("method IN ('rule', 'model', 'human')", name="method"),
    Index("ix_customer_members_customer", "customer_id"),
)

customer_changes = Table(
    "customer_changes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("customer_id", String(40), nullable=False),
    Column("other_customer_id", String(40), nullable=False),
    Column("moved", JSONB, nullable=False),  # memberships as they were when the change was made
    Column("decided_by", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("undone_by", Text),
    Column("undone_at", DateTime(timezone=True)),
    CheckConstraint("kind IN ('merge', 'split')", name="kind"),
    Index("ix_customer_changes_customer", "customer_id"),
    Index("ix_customer_changes_other", "other_customer_id"),
)

customer_relations = Table(
    "customer_relations",
    metadata,
    Column("parent_id", String(40), primary_key=True),
    Column("child_id", String(40), primary_key=True),
    Column("source", String(20), nullable=False),  # crm_parent (Salesforce ParentId)
)

match_pairs = Table(
    "match_pairs",
    metadata,
    Column("left_org_id", String(40), primary_key=True),
    Column("left_external_id", String(18), primary_key=True),
    Column("right_org_id", String(40), primary_key=True),
    Column("right_external_id", String(18), primary_key=True),
    Column("probability", Float, nullable=False),
    Column("explanation", JSONB, nullable=False),  # {"prior": x, "evidence": [[field, level, weight]]}
    Index("ix_match_pairs_right", "right_org_id", "right_external_id"),
    Index("ix_match_pairs_probability", "probability"),
)

match_decisions = Table(
    "match_decisions",
    metadata,
    Column("left_org_id", String(40), primary_key=True),
    Column("left_external_id", String(18), primary_key=True),
    Column("right_org_id", String(40), primary_key=True),
    Column("right_external_id", String(18), primary_key=True),
    Column("kind", String(12), nullable=False),
    Column("decided_by", Text, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("change_id", String(40)),
    CheckConstraint("kind IN ('must_link', 'never_link')", name="kind"),
    Index("ix_match_decisions_change", "change_id"),
)

resolution_state = Table(
    "resolution_state",
    metadata,
    Column("id", Integer, primary_key=True),  # a single row, id 1
    Column("statistics", JSONB),
    Column("last_run_at", DateTime(timezone=True)),
)

resolution_fingerprints = Table(
    "resolution_fingerprints",
    metadata,
    Column("org_id", String(40), primary_key=True),
    Column("external_id", String(18), primary_key=True),
    Column("fingerprint", String(32), nullable=False),
)

# Each live account's blocking keys as the scorer codes them (stable 64-bit hashes), written for the
# accounts a run re-scores: an incremental run finds a changed account's neighbours here instead of
# normalising every account again.
account_block_keys = Table(
    "account_block_keys",
    metadata,
    Column("org_id", String(40), primary_key=True),
    Column("external_id", String(18), primary_key=True),
    Column("block_key", BigInteger, primary_key=True),
    Index("ix_account_block_keys_block_key", "block_key"),
)

product_families = Table(
    "product_families",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("is_active", Boolean, nullable=False, server_default="true"),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

product_family_mappings = Table(
    "product_family_mappings",
    metadata,
    Column("org_id", String(40), primary_key=True),
    Column("external_id", String(18), primary_key=True),
    Column("family_id", String(64), ForeignKey("product_families.id", ondelete="CASCADE")),
    Column("source", String(20), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("confirmed", Boolean, nullable=False),
    Column("decided_by", Text, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
)
