"""隐患随手拍: hazard reports routed to a department (community_hazard_report)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 01:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create community_hazard_report."""
    op.create_table(
        "community_hazard_report",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("resident_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("photo_sha256", sa.String(length=64), nullable=False),
        sa.Column("photo_path", sa.String(length=200), nullable=False),
        sa.Column("photo_mime", sa.String(length=32), nullable=False),
        sa.Column("photo_taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("photo_lat", sa.Float(), nullable=True),
        sa.Column("photo_lon", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("duplicate_of", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("points", sa.Integer(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["region.id"],
            name=op.f("fk_community_hazard_report_community_id_region"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["identity_staff.id"],
            name=op.f("fk_community_hazard_report_decided_by_identity_staff"),
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of"],
            ["community_hazard_report.id"],
            name=op.f("fk_community_hazard_report_duplicate_of_community_hazard_report"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["region_organization.id"],
            name=op.f("fk_community_hazard_report_organization_id_region_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["identity_resident.id"],
            name=op.f("fk_community_hazard_report_resident_id_identity_resident"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_hazard_report")),
    )
    with op.batch_alter_table("community_hazard_report", schema=None) as batch_op:
        batch_op.create_index(
            "ix_community_hazard_report_category_at", ["category", "reported_at"], unique=False
        )
        batch_op.create_index(
            "ix_community_hazard_report_org_status", ["organization_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_community_hazard_report_resident_id"), ["resident_id"], unique=False
        )


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("community_hazard_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_hazard_report_resident_id"))
        batch_op.drop_index("ix_community_hazard_report_org_status")
        batch_op.drop_index("ix_community_hazard_report_category_at")

    op.drop_table("community_hazard_report")
