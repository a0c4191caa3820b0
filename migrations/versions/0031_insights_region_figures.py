"""insights: figures of cities, districts and streets (insights_region_figure); registrations

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 19:00:00

A city's, district's or street's figures were summed at every look over all its communities'
rows (and every month since the start for what is outstanding): 200 ms for the city at 2,000
communities. The rollup now keeps each aggregated region's own rows beside its communities',
in the same transaction, so a look reads one region's rows. Residents registered become a
figure too (`registered/residents`, by community and Beijing month registered, fed from
`identity_resident` in (created_at, id) order: the index below) instead of a count over every
resident of the region at each look (docs/insights.md, "Figures at city scale").

The rollup is derived data and an existing one holds neither: the upgrade empties it (as 0030
did), and the next `insights.rollup` run counts every source row again into every table — as
`civicpoints insights rebuild` does (until then the figures come from the live delta).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0031"
down_revision: str | Sequence[str] | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DERIVED = (
    "insights_figure",
    "insights_member",
    "insights_people",
    "insights_seen",
    "insights_watermark",
)


def upgrade() -> None:
    """The region rows and the registrations' index; the rollup emptied."""
    op.create_table(
        "insights_region_figure",
        sa.Column("region_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("figure", sa.String(length=24), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "region_id", "month", "figure", "key", name=op.f("pk_insights_region_figure")
        ),
    )
    op.create_index("ix_identity_resident_created_at", "identity_resident", ["created_at", "id"])
    # Derived data: counted again by the next run (see above).
    for table in DERIVED:
        op.execute(sa.text(f"DELETE FROM {table}"))


def downgrade() -> None:
    """Drop them; the rollup emptied again (derived: 0030's next run counts it without the
    registrations)."""
    op.drop_index("ix_identity_resident_created_at", table_name="identity_resident")
    op.drop_table("insights_region_figure")
    for table in DERIVED:
        op.execute(sa.text(f"DELETE FROM {table}"))
