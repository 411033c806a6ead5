"""recommendations: indexes for the list's two orders, so a page stops after `limit` rows

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_recommendations_by_value",
        "recommendations",
        [sa.text("expected_value DESC"), "id"],
        unique=False,
    )
    op.create_index(
        "ix_recommendations_by_probability",
        "recommendations",
        [sa.text("probability DESC"), "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_recommendations_by_probability", table_name="recommendations")
    op.drop_index("ix_recommendations_by_value", table_name="recommendations")
