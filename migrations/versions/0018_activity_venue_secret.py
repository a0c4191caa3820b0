"""each activity gets the secret of its rotating venue code (签到码, issue 10)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 00:54:53

Existing activities get 32 random bytes each (Python's `secrets`, the same source as new
ones), written in batches, before the column becomes NOT NULL.
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
_activity = sa.table(
    "activity", sa.column("id", sa.Uuid()), sa.column("venue_secret", sa.LargeBinary(32))
)


def upgrade() -> None:
    """Add activity.venue_secret, give every existing activity its own, then require it."""
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("venue_secret", sa.LargeBinary(length=32), nullable=True))
    conn = op.get_bind()
    ids = list(conn.scalars(sa.select(_activity.c.id)))
    update = (
        sa.update(_activity)
        .where(_activity.c.id == sa.bindparam("activity_id"))
        .values(venue_secret=sa.bindparam("secret"))
    )
    for start in range(0, len(ids), BATCH):
        rows = [
            {"activity_id": i, "secret": secrets.token_bytes(32)}
            for i in ids[start : start + BATCH]
        ]
        conn.execute(update, rows)
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.alter_column(
            "venue_secret", existing_type=sa.LargeBinary(length=32), nullable=False
        )


def downgrade() -> None:
    """Drop the secrets (codes shown before can no longer be checked)."""
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_column("venue_secret")
