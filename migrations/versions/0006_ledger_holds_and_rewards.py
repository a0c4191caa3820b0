"""ledger holds and rewards

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 07:36:35.379774

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from civicpoints.kit.migrate import refuse_changes as append_only

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
# Journal-like rewards tables refuse UPDATE and DELETE, as the ledger's do (migration 0001).
APPEND_ONLY = ("rewards_voucher_event", "rewards_booking")


def refuse_changes() -> None:
    """Install the refusal triggers (the function civicpoints_refuse_change is from 0001)."""
    append_only(APPEND_ONLY, truncate=False)


def forget_refusals() -> None:
    """Drop the refusal triggers (downgrade only)."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in APPEND_ONLY:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


def upgrade() -> None:
    """Two-phase holds on the ledger."""
    op.create_table(
        "ledger_hold",
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sink", sa.String(length=80), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("hold_transfer_id", sa.Uuid(), nullable=False),
        sa.Column("hold_entry_id", sa.Uuid(), nullable=False),
        sa.Column("resolve_transfer_id", sa.Uuid(), nullable=True),
        sa.Column("expired_transfer_id", sa.Uuid(), nullable=True),
        sa.Column("expired_points", sa.BigInteger(), nullable=False),
        sa.Column("timeout_at", TZ, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("resolved_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("bucket", "id", name=op.f("pk_ledger_hold")),
        sa.UniqueConstraint(
            "bucket", "idempotency_key", name=op.f("uq_ledger_hold_bucket_idempotency_key")
        ),
    )
    op.create_index("ix_ledger_hold_timeout", "ledger_hold", ["bucket", "status", "timeout_at"])
    # Plain CREATE INDEX: batch mode could rebuild ledger_lot_use on SQLite and drop its triggers.
    op.create_index("ix_ledger_lot_use_entry", "ledger_lot_use", ["bucket", "entry_id"])
    rewards_upgrade()


def rewards_upgrade() -> None:
    """Catalog, redemptions, vouchers, merchants, sponsors, valuation and bookings."""
    op.create_table(
        "rewards_merchant",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards_merchant")),
        sa.UniqueConstraint("code", name=op.f("uq_rewards_merchant_code")),
    )
    op.create_table(
        "rewards_sponsor",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("budget_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards_sponsor")),
        sa.UniqueConstraint("code", name=op.f("uq_rewards_sponsor_code")),
    )
    op.create_table(
        "rewards_valuation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("fen_per_point", sa.Integer(), nullable=False),
        sa.Column("effective_from", TZ, nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards_valuation")),
    )
    with op.batch_alter_table("rewards_valuation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rewards_valuation_effective_from"), ["effective_from"], unique=False
        )

    op.create_table(
        "rewards_clerk",
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["rewards_merchant.id"],
            name=op.f("fk_rewards_clerk_merchant_id_rewards_merchant"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["identity_staff.id"],
            name=op.f("fk_rewards_clerk_staff_id_identity_staff"),
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_rewards_clerk")),
    )
    with op.batch_alter_table("rewards_clerk", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rewards_clerk_merchant_id"), ["merchant_id"], unique=False
        )

    op.create_table(
        "rewards_item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("fulfilment", sa.String(length=16), nullable=False),
        sa.Column("price_points", sa.BigInteger(), nullable=False),
        sa.Column("face_value_fen", sa.BigInteger(), nullable=False),
        sa.Column("sponsor_id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=True),
        sa.Column("department_id", sa.Uuid(), nullable=True),
        sa.Column("stock_total", sa.BigInteger(), nullable=False),
        sa.Column("stock_remaining", sa.BigInteger(), nullable=False),
        sa.Column("limit_per_period", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("region_ids", sa.JSON(), nullable=False),
        sa.Column("min_age", sa.Integer(), nullable=True),
        sa.Column("max_age", sa.Integer(), nullable=True),
        sa.Column("low_income_only", sa.Boolean(), nullable=False),
        sa.Column("valid_from", TZ, nullable=False),
        sa.Column("valid_until", TZ, nullable=False),
        sa.Column("voucher_days", sa.Integer(), nullable=False),
        sa.Column("image_url", sa.String(length=300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["region_organization.id"],
            name=op.f("fk_rewards_item_department_id_region_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["rewards_merchant.id"],
            name=op.f("fk_rewards_item_merchant_id_rewards_merchant"),
        ),
        sa.ForeignKeyConstraint(
            ["sponsor_id"],
            ["rewards_sponsor.id"],
            name=op.f("fk_rewards_item_sponsor_id_rewards_sponsor"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards_item")),
        sa.UniqueConstraint("code", name=op.f("uq_rewards_item_code")),
    )
    with op.batch_alter_table("rewards_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rewards_item_category"), ["category"], unique=False)

    op.create_table(
        "rewards_low_income",
        sa.Column("resident_id", sa.Uuid(), nullable=False),
        sa.Column("certified_by", sa.Uuid(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["identity_resident.id"],
            name=op.f("fk_rewards_low_income_resident_id_identity_resident"),
        ),
        sa.PrimaryKeyConstraint("resident_id", name=op.f("pk_rewards_low_income")),
    )
    op.create_table(
        "rewards_redemption",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("resident_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("face_value_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("period_key", sa.String(length=8), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("hold_bucket", sa.Integer(), nullable=True),
        sa.Column("hold_id", sa.Uuid(), nullable=True),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["rewards_item.id"],
            name=op.f("fk_rewards_redemption_item_id_rewards_item"),
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["identity_resident.id"],
            name=op.f("fk_rewards_redemption_resident_id_identity_resident"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards_redemption")),
        sa.UniqueConstraint(
            "resident_id",
            "idempotency_key",
            name=op.f("uq_rewards_redemption_resident_id_idempotency_key"),
        ),
    )
    with op.batch_alter_table("rewards_redemption", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rewards_redemption_item_resident",
            ["item_id", "resident_id", "period_key"],
            unique=False,
        )

    op.create_table(
        "rewards_voucher",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("redemption_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("resident_id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=True),
        sa.Column("sponsor_id", sa.Uuid(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("face_value_fen", sa.BigInteger(), nullable=False),
        sa.Column("hold_bucket", sa.Integer(), nullable=False),
        sa.Column("hold_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("valid_from", TZ, nullable=False),
        sa.Column("valid_until", TZ, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
        sa.Column("used_by", sa.Uuid(), nullable=True),
        sa.Column("used_merchant_id", sa.Uuid(), nullable=True),
        sa.Column("closed_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["rewards_item.id"], name=op.f("fk_rewards_voucher_item_id_rewards_item")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["rewards_merchant.id"],
            name=op.f("fk_rewards_voucher_merchant_id_rewards_merchant"),
        ),
        sa.ForeignKeyConstraint(
            ["redemption_id"],
            ["rewards_redemption.id"],
            name=op.f("fk_rewards_voucher_redemption_id_rewards_redemption"),
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["identity_resident.id"],
            name=op.f("fk_rewards_voucher_resident_id_identity_resident"),
        ),
        sa.ForeignKeyConstraint(
            ["sponsor_id"],
            ["rewards_sponsor.id"],
            name=op.f("fk_rewards_voucher_sponsor_id_rewards_sponsor"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards_voucher")),
        sa.UniqueConstraint("code", name=op.f("uq_rewards_voucher_code")),
    )
    with op.batch_alter_table("rewards_voucher", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rewards_voucher_redemption_id"), ["redemption_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rewards_voucher_resident_id"), ["resident_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_rewards_voucher_status"), ["status"], unique=False)

    op.create_table(
        "rewards_booking",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sponsor_id", sa.Uuid(), nullable=False),
        sa.Column("redemption_id", sa.Uuid(), nullable=False),
        sa.Column("voucher_id", sa.Uuid(), nullable=True),
        sa.Column("merchant_id", sa.Uuid(), nullable=True),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("fen_per_point", sa.Integer(), nullable=False),
        sa.Column("points_value_fen", sa.BigInteger(), nullable=False),
        sa.Column("subsidy_fen", sa.BigInteger(), nullable=False),
        sa.Column("face_value_fen", sa.BigInteger(), nullable=False),
        sa.Column("hold_transfer_id", sa.Uuid(), nullable=False),
        sa.Column("wallet_entry_id", sa.Uuid(), nullable=False),
        sa.Column("post_transfer_id", sa.Uuid(), nullable=False),
        sa.Column("booked_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["redemption_id"],
            ["rewards_redemption.id"],
            name=op.f("fk_rewards_booking_redemption_id_rewards_redemption"),
        ),
        sa.ForeignKeyConstraint(
            ["sponsor_id"],
            ["rewards_sponsor.id"],
            name=op.f("fk_rewards_booking_sponsor_id_rewards_sponsor"),
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"],
            ["rewards_voucher.id"],
            name=op.f("fk_rewards_booking_voucher_id_rewards_voucher"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards_booking")),
    )
    with op.batch_alter_table("rewards_booking", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rewards_booking_month"), ["month"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_rewards_booking_sponsor_id"), ["sponsor_id"], unique=False
        )

    op.create_table(
        "rewards_voucher_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("voucher_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["voucher_id"],
            ["rewards_voucher.id"],
            name=op.f("fk_rewards_voucher_event_voucher_id_rewards_voucher"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards_voucher_event")),
    )
    with op.batch_alter_table("rewards_voucher_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rewards_voucher_event_voucher_id"), ["voucher_id"], unique=False
        )
    refuse_changes()


def downgrade() -> None:
    """Drop rewards, then the holds."""
    forget_refusals()
    with op.batch_alter_table("rewards_voucher_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rewards_voucher_event_voucher_id"))

    op.drop_table("rewards_voucher_event")
    with op.batch_alter_table("rewards_booking", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rewards_booking_sponsor_id"))
        batch_op.drop_index(batch_op.f("ix_rewards_booking_month"))

    op.drop_table("rewards_booking")
    with op.batch_alter_table("rewards_voucher", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rewards_voucher_status"))
        batch_op.drop_index(batch_op.f("ix_rewards_voucher_resident_id"))
        batch_op.drop_index(batch_op.f("ix_rewards_voucher_redemption_id"))

    op.drop_table("rewards_voucher")
    with op.batch_alter_table("rewards_redemption", schema=None) as batch_op:
        batch_op.drop_index("ix_rewards_redemption_item_resident")

    op.drop_table("rewards_redemption")
    op.drop_table("rewards_low_income")
    with op.batch_alter_table("rewards_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rewards_item_category"))

    op.drop_table("rewards_item")
    with op.batch_alter_table("rewards_clerk", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rewards_clerk_merchant_id"))

    op.drop_table("rewards_clerk")
    with op.batch_alter_table("rewards_valuation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rewards_valuation_effective_from"))

    op.drop_table("rewards_valuation")
    op.drop_table("rewards_sponsor")
    op.drop_table("rewards_merchant")
    op.drop_index("ix_ledger_lot_use_entry", table_name="ledger_lot_use")
    op.drop_index("ix_ledger_hold_timeout", table_name="ledger_hold")
    op.drop_table("ledger_hold")
