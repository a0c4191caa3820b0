"""insights: recommendations (为您推荐) — each resident's setting and stored top-N

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 11:20:00

No row in insights_rec_setting means on; turned off, the resident's rows in
insights_recommendation are deleted and never computed again (docs/insights.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import civicpoints.kit.db

# revision identifiers, used by Alembic.
revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = civicpoints.kit.db.UTCDateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    ref = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{ref}"))


def upgrade() -> None:
    """The setting and the stored recommendations."""
    t = "insights_rec_setting"
    op.create_table(
        t,
        sa.Column("resident_id", sa.Uuid(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_at", UTC, nullable=False),
        sa.Column("computed_at", UTC, nullable=True),
        _fk(t, "resident_id", "identity_resident.id"),
        sa.PrimaryKeyConstraint("resident_id", name=op.f("pk_insights_rec_setting")),
    )
    t = "insights_recommendation"
    op.create_table(
        t,
        sa.Column("resident_id", sa.Uuid(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("reason_arg", sa.String(length=200), nullable=False),
        sa.Column("computed_at", UTC, nullable=False),
        _fk(t, "resident_id", "identity_resident.id"),
        _fk(t, "activity_id", "activity.id"),
        sa.PrimaryKeyConstraint("resident_id", "rank", name=op.f("pk_insights_recommendation")),
    )
    op.create_index(op.f("ix_insights_recommendation_activity_id"), t, ["activity_id"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index(
        op.f("ix_insights_recommendation_activity_id"), table_name="insights_recommendation"
    )
    op.drop_table("insights_recommendation")
    op.drop_table("insights_rec_setting")
