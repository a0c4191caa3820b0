"""why a participation was held for review (e.g. a stay shorter than the rule set's minimum)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 16:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add activity_participation.flag_notes: flag → the reason in zh-CN and en."""
    with op.batch_alter_table("activity_participation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("flag_notes", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("activity_participation", schema=None) as batch_op:
        batch_op.drop_column("flag_notes")
