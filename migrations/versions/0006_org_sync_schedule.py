"""org sync schedule: each org's own cron (NULL: the default, XSELL_SYNC_SCHEDULE)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orgs", sa.Column("sync_schedule", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("orgs", "sync_schedule")
