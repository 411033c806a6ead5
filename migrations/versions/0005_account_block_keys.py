"""account block keys: each account's blocking keys, so an incremental resolve reads only a change's blocks

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_block_keys",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=18), nullable=False),
        sa.Column("block_key", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "external_id", "block_key", name=op.f("pk_account_block_keys")),
    )
    op.create_index("ix_account_block_keys_block_key", "account_block_keys", ["block_key"], unique=False)
    # Fingerprints are now MD5 (computed by the database too) and no account has block keys yet: the
    # next `xsell resolve` takes every account as changed, re-scores it and stores its keys.
    op.execute("DELETE FROM resolution_fingerprints")


def downgrade() -> None:
    op.drop_index("ix_account_block_keys_block_key", table_name="account_block_keys")
    op.drop_table("account_block_keys")
    op.execute("DELETE FROM resolution_fingerprints")
