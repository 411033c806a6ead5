"""Tables of the offline feature store: feature sets, builds (one per set and cutoff), customer vectors."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from adapters.persistence.tables import metadata

__all__ = ["customer_feature_vectors", "feature_builds", "feature_sets", "metadata"]

feature_sets = Table(
    "feature_sets",
    metadata,
    Column("version", String(40), primary_key=True),
    # [{name, version, entity, dtype, fingerprint, description}] in vector layout order.
    Column("definitions", JSONB, nullable=False),
    # {numbers, labels, pair_numbers}: the feature names of each vector position.
    Column("layout", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

feature_builds = Table(
    "feature_builds",
    metadata,
    Column(
        "feature_set_version",
        String(40),
        ForeignKey("feature_sets.version", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("as_of", Date, primary_key=True),
    Column("families", JSONB, nullable=False),  # family ids, the order of pair_numbers
    Column("customers", Integer, nullable=False),
    Column("built_at", DateTime(timezone=True), nullable=False),
)

# One row per customer and cutoff: the same vector the online store serves, so both read alike. Values are
# packed little-endian float64 (NaN = missing, pair values family-major): a build writes hundreds of
# values per customer, and arrays of float8 cost a Python conversion per value on the way in and out.
customer_feature_vectors = Table(
    "customer_feature_vectors",
    metadata,
    Column("feature_set_version", String(40), primary_key=True),
    Column("as_of", Date, primary_key=True),
    Column("customer_id", String(40), primary_key=True),
    Column("numbers", LargeBinary, nullable=False),
    Column("labels", ARRAY(Text), nullable=False),
    Column("pair_numbers", LargeBinary, nullable=False),
    ForeignKeyConstraint(
        ["feature_set_version", "as_of"],
        ["feature_builds.feature_set_version", "feature_builds.as_of"],
        ondelete="CASCADE",
    ),
)
