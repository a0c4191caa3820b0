"""job runs claim their scheduled slot

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 05:10:00

A scheduled run first records (name, slot) — the period it runs for, e.g. a Beijing day — and a
unique index lets only one process in any number of hosts record it; `runner` says which
process (host:pid) ran it. Runs started by hand (`civicpoints jobs run`) have no slot.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """jobs_run.slot (unique with name) and jobs_run.runner."""
    with op.batch_alter_table("jobs_run") as batch:
        batch.add_column(sa.Column("slot", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("runner", sa.String(length=128), nullable=True))
        batch.create_unique_constraint("uq_jobs_run_name_slot", ["name", "slot"])


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("jobs_run") as batch:
        batch.drop_constraint("uq_jobs_run_name_slot", type_="unique")
        batch.drop_column("runner")
        batch.drop_column("slot")
