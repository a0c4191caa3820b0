"""an approved record found risky afterwards waits for a second look (participation.recheck_at)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add activity_participation.recheck_at (None: nothing found after approval)."""
    with op.batch_alter_table("activity_participation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recheck_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_activity_participation_recheck_at"), ["recheck_at"], unique=False
        )


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("activity_participation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_participation_recheck_at"))
        batch_op.drop_column("recheck_at")
