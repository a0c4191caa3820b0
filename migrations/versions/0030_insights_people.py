"""insights: the people aggregate of cities, districts and streets (insights_people)

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 15:10:00

Residents per (region, month, previous month in the region, first month anywhere, age band
and the month it changes, sex), kept by the rollup in the same transaction as
insights_member, so a city's, district's or street's participants, new volunteers and age ×
sex table are sums of a few rows instead of distinct counts over every membership
(docs/insights.md, "People at city scale").

An existing database's rollup would hold memberships the new table has never seen, and the
figures would be wrong without a word. The rollup is derived data, so the upgrade empties it
(figures, memberships, seen rows, watermarks): the next `insights.rollup` run counts every
source row again from the start, into all tables at once — as `civicpoints insights rebuild`
does (minutes on a whole city; until then the figures come from the live delta).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0030"
down_revision: str | Sequence[str] | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = ("region_id", "month", "prev", "is_first", "band", "band_change", "sex")


def upgrade() -> None:
    """The aggregate."""
    op.create_table(
        "insights_people",
        sa.Column("region_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("prev", sa.String(length=7), nullable=False),
        sa.Column("is_first", sa.Boolean(), nullable=False),
        sa.Column("band", sa.String(length=8), nullable=False),
        sa.Column("band_change", sa.String(length=7), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name=op.f("pk_insights_people")),
    )
    # Derived data: counted again by the next run (see above).
    for table in ("insights_figure", "insights_member", "insights_seen", "insights_watermark"):
        op.execute(sa.text(f"DELETE FROM {table}"))


def downgrade() -> None:
    """Drop it."""
    op.drop_table("insights_people")
