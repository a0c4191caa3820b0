"""slip numbers scoped to the issuing organization

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 16:00:00

A paper slip's number was unique city-wide, so a district reusing another's number had its
record dropped as a "duplicate". Each record made from a slip now carries the organization
whose slip it is (the activity's), and the number is unique within that organization.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "activity_participation"


def upgrade() -> None:
    """Add the issuing organization, fill it from the activity, move the unique key."""
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.add_column(sa.Column("organization_id", sa.Uuid(), nullable=True))
    op.execute(
        f"UPDATE {TABLE} SET organization_id = (SELECT activity.organization_id FROM activity "
        f"WHERE activity.id = {TABLE}.activity_id) WHERE slip_no IS NOT NULL"
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_activity_participation_slip_no"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_activity_participation_organization_id_slip_no"),
            ["organization_id", "slip_no"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_activity_participation_organization_id_region_organization"),
            "region_organization",
            ["organization_id"],
            ["id"],
        )


def downgrade() -> None:
    """Back to one city-wide namespace (fails if two organizations share a number)."""
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_activity_participation_organization_id_region_organization"),
            type_="foreignkey",
        )
        batch_op.drop_constraint(
            batch_op.f("uq_activity_participation_organization_id_slip_no"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_activity_participation_slip_no"), ["slip_no"]
        )
        batch_op.drop_column("organization_id")
