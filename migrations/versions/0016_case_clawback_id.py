"""a case remembers the ledger clawback it made, so an upheld appeal can restore it

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 22:58:18
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from civicpoints.kit.migrate import refuse_changes

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add fraud_case.clawback_id (None: the record had paid nothing to take back)."""
    with op.batch_alter_table("fraud_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clawback_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    """Drop it; SQLite rebuilds the table for that, so its append-only triggers come back."""
    with op.batch_alter_table("fraud_case", schema=None) as batch_op:
        batch_op.drop_column("clawback_id")
    if op.get_bind().dialect.name == "sqlite":
        refuse_changes(("fraud_case",))
