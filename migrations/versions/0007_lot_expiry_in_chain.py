"""lot expiry in the hash chain

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 16:00:00

A credit that opens a lot records the lot's expiry in its own hashed fields (cp-entry-v2), so
`ledger verify` can hold every lot's expiry and earned time against the hash chain. Entries
without it keep their cp-entry-v1 encoding and hash.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """ledger_entry.expires_at (nullable: only lot-opening credits carry it)."""
    # A plain ADD COLUMN, not batch mode: a batch rebuild on SQLite would drop the triggers.
    op.add_column("ledger_entry", sa.Column("expires_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    """Drop the column (entries written with it would no longer verify)."""
    op.drop_column("ledger_entry", "expires_at")
