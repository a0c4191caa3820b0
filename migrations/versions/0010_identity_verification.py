"""identity verification rows (who verified a resident, how, when, on which document)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 16:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """One row per real-name verification, with the staff member for in-person checks."""
    op.create_table(
        "identity_verification",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("resident_id", sa.Uuid(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("verified_by_staff_id", sa.Uuid(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document_type", sa.String(length=32), nullable=True),
        sa.Column("document_masked", sa.String(length=18), nullable=True),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["identity_resident.id"],
            name=op.f("fk_identity_verification_resident_id_identity_resident"),
        ),
        sa.ForeignKeyConstraint(
            ["verified_by_staff_id"],
            ["identity_staff.id"],
            name=op.f("fk_identity_verification_verified_by_staff_id_identity_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_verification")),
    )
    with op.batch_alter_table("identity_verification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_verification_resident_id"), ["resident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_identity_verification_verified_by_staff_id"),
            ["verified_by_staff_id"],
            unique=False,
        )


def downgrade() -> None:
    """Drop the verification rows."""
    with op.batch_alter_table("identity_verification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_verification_verified_by_staff_id"))
        batch_op.drop_index(batch_op.f("ix_identity_verification_resident_id"))
    op.drop_table("identity_verification")
