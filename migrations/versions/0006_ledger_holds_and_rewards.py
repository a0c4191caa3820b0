"""ledger holds and rewards

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 07:36:35.379774

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Two-phase holds on the ledger."""
    op.create_table(
        "ledger_hold",
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sink", sa.String(length=80), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("hold_transfer_id", sa.Uuid(), nullable=False),
        sa.Column("hold_entry_id", sa.Uuid(), nullable=False),
        sa.Column("resolve_transfer_id", sa.Uuid(), nullable=True),
        sa.Column("expired_transfer_id", sa.Uuid(), nullable=True),
        sa.Column("expired_points", sa.BigInteger(), nullable=False),
        sa.Column("timeout_at", TZ, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("resolved_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("bucket", "id", name=op.f("pk_ledger_hold")),
        sa.UniqueConstraint(
            "bucket", "idempotency_key", name=op.f("uq_ledger_hold_bucket_idempotency_key")
        ),
    )
    op.create_index("ix_ledger_hold_timeout", "ledger_hold", ["bucket", "status", "timeout_at"])
    # Plain CREATE INDEX: batch mode could rebuild ledger_lot_use on SQLite and drop its triggers.
    op.create_index("ix_ledger_lot_use_entry", "ledger_lot_use", ["bucket", "entry_id"])


def downgrade() -> None:
    """Drop the holds."""
    op.drop_index("ix_ledger_lot_use_entry", table_name="ledger_lot_use")
    op.drop_index("ix_ledger_hold_timeout", table_name="ledger_hold")
    op.drop_table("ledger_hold")
