"""insights: the recommendation model fitted nightly, kept for first looks (为您推荐)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 15:00:00

The nightly job stores its fitted model (counts only, no resident) so that a resident
ranked on the spot is ranked with it instead of a model fitted per request; only the newest
is kept (docs/insights.md, "Recommendations").
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import civicpoints.kit.db

# revision identifiers, used by Alembic.
revision: str = "0029"
down_revision: str | Sequence[str] | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = civicpoints.kit.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    """The stored model."""
    op.create_table(
        "insights_rec_model",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("fitted_at", UTC, nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insights_rec_model")),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("insights_rec_model")
