"""The whole schema: importing this registers every table module on the one MetaData."""

from __future__ import annotations

from adapters.persistence import (
    auth_tables,
    customer_tables,
    feature_tables,
    job_tables,
    model_tables,
    tables,
    write_back_tables,
)
from adapters.persistence.tables import metadata

__all__ = [
    "auth_tables",
    "customer_tables",
    "feature_tables",
    "job_tables",
    "metadata",
    "model_tables",
    "tables",
    "write_back_tables",
]
