"""insights: rollup tables per community and Beijing month

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 08:40:00

Figures and participant memberships per (community, month), the source rows already counted
(for the overlap behind each watermark), the watermarks, and regions' populations
(docs/insights.md). The rollup is derived data: `civicpoints insights rebuild` refills it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import civicpoints.kit.db

# revision identifiers, used by Alembic.
revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = civicpoints.kit.db.UTCDateTime(timezone=True)
FEED_INDEXES = [
    ("ix_ledger_transfer_recorded", "ledger_transfer", ["recorded_at", "id"]),
    ("ix_ledger_hold_resolve", "ledger_hold", ["bucket", "resolve_transfer_id"]),
    ("ix_ledger_hold_expired", "ledger_hold", ["bucket", "expired_transfer_id"]),
    ("ix_hours_entry_recorded", "hours_entry", ["recorded_at", "id"]),
    ("ix_hours_correction_recorded", "hours_correction", ["recorded_at", "id"]),
    ("ix_fraud_case_decided", "fraud_case", ["decided_at", "id"]),
]


def upgrade() -> None:
    """The five insights tables, and indexes to read the sources by time."""
    op.create_table(
        "insights_figure",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("figure", sa.String(length=24), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "community_id", "month", "figure", "key", name=op.f("pk_insights_figure")
        ),
    )
    op.create_table(
        "insights_member",
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("resident_id", sa.Uuid(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "community_id", "month", "resident_id", name=op.f("pk_insights_member")
        ),
    )
    op.create_index(
        "ix_insights_member_resident_month", "insights_member", ["resident_id", "month"]
    )
    op.create_table(
        "insights_seen",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("source", "row_id", name=op.f("pk_insights_seen")),
    )
    op.create_index(op.f("ix_insights_seen_recorded_at"), "insights_seen", ["recorded_at"])
    op.create_table(
        "insights_watermark",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("upto", UTC, nullable=False),
        sa.Column("runs", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_insights_watermark")),
    )
    op.create_table(
        "insights_population",
        sa.Column("region_id", sa.Uuid(), nullable=False),
        sa.Column("population", sa.BigInteger(), nullable=False),
        sa.Column("set_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_insights_population_region_id_region")
        ),
        sa.PrimaryKeyConstraint("region_id", name=op.f("pk_insights_population")),
    )
    # The sources are read by time, a window after each watermark (never a scan).
    for name, table, columns in FEED_INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    """Drop them."""
    for name, table, _ in reversed(FEED_INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_table("insights_population")
    op.drop_table("insights_watermark")
    op.drop_index(op.f("ix_insights_seen_recorded_at"), table_name="insights_seen")
    op.drop_table("insights_seen")
    op.drop_index("ix_insights_member_resident_month", table_name="insights_member")
    op.drop_table("insights_member")
    op.drop_table("insights_figure")
