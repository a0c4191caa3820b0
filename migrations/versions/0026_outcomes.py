"""insights: outcome indicators, their values per region and month, corrections, join dates

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 09:15:38

Indicators departments report (垃圾分类执行率 …), the current value per (indicator, region,
month) in thousandths, every replaced value with who replaced it and why, and the day a region
joined the scheme (docs/insights.md, "Outcome indicators").
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import civicpoints.kit.db

# revision identifiers, used by Alembic.
revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The four outcome tables."""
    op.create_table(
        "insights_indicator",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("higher_is_better", sa.Boolean(), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", civicpoints.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insights_indicator")),
        sa.UniqueConstraint("code", name=op.f("uq_insights_indicator_code")),
    )
    op.create_table(
        "insights_outcome_value",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("indicator_id", sa.Uuid(), nullable=False),
        sa.Column("region_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("milli", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("entered_by", sa.Uuid(), nullable=False),
        sa.Column("entered_at", civicpoints.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["insights_indicator.id"],
            name=op.f("fk_insights_outcome_value_indicator_id_insights_indicator"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_insights_outcome_value_region_id_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insights_outcome_value")),
        sa.UniqueConstraint("indicator_id", "region_id", "month", name="uq_insights_outcome_cell"),
    )
    with op.batch_alter_table("insights_outcome_value", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_insights_outcome_value_region_id"), ["region_id"], unique=False
        )

    op.create_table(
        "insights_region_join",
        sa.Column("region_id", sa.Uuid(), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("set_by", sa.Uuid(), nullable=False),
        sa.Column("set_at", civicpoints.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_insights_region_join_region_id_region")
        ),
        sa.PrimaryKeyConstraint("region_id", name=op.f("pk_insights_region_join")),
    )
    op.create_table(
        "insights_outcome_revision",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("value_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("milli", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("entered_by", sa.Uuid(), nullable=False),
        sa.Column("entered_at", civicpoints.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("replaced_by", sa.Uuid(), nullable=False),
        sa.Column("replaced_at", civicpoints.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["value_id"],
            ["insights_outcome_value.id"],
            name=op.f("fk_insights_outcome_revision_value_id_insights_outcome_value"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insights_outcome_revision")),
    )
    with op.batch_alter_table("insights_outcome_revision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_insights_outcome_revision_value_id"), ["value_id"], unique=False
        )


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("insights_outcome_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_insights_outcome_revision_value_id"))

    op.drop_table("insights_outcome_revision")
    op.drop_table("insights_region_join")
    with op.batch_alter_table("insights_outcome_value", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_insights_outcome_value_region_id"))

    op.drop_table("insights_outcome_value")
    op.drop_table("insights_indicator")
