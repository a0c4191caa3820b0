"""audit log and privacy (PIPL): consent history, deletion requests, consent withdrawal

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 16:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from civicpoints.kit.migrate import refuse_changes

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
# The audit log and the consent history refuse UPDATE and DELETE, as the ledger's tables do.
APPEND_ONLY = ("audit_entry", "privacy_consent_event")


def upgrade() -> None:
    """Create the audit and privacy tables; residents may withdraw consent."""
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=120), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    for column in ("at", "actor_id", "action", "subject_id"):
        op.create_index(op.f(f"ix_audit_entry_{column}"), "audit_entry", [column])
    op.create_table(
        "privacy_consent_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("resident_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_consent_event")),
    )
    op.create_index(
        op.f("ix_privacy_consent_event_resident_id"), "privacy_consent_event", ["resident_id"]
    )
    op.create_table(
        "privacy_deletion_request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("resident_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", TZ, nullable=False),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("done_at", TZ, nullable=True),
        sa.Column("done_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_deletion_request")),
    )
    op.create_index(
        op.f("ix_privacy_deletion_request_resident_id"),
        "privacy_deletion_request",
        ["resident_id"],
    )
    op.add_column("identity_resident", sa.Column("consent_withdrawn_at", TZ, nullable=True))
    refuse_changes(APPEND_ONLY)


def downgrade() -> None:
    """Drop what upgrade made (the triggers go with their tables)."""
    with op.batch_alter_table("identity_resident") as batch:
        batch.drop_column("consent_withdrawn_at")
    op.drop_table("privacy_deletion_request")
    op.drop_table("privacy_consent_event")
    op.drop_table("audit_entry")
