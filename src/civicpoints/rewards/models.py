"""Rewards tables: sponsors, valuations, merchants, catalog, redemptions, vouchers, bookings."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, created_at_column, id_column


class Category(StrEnum):
    """Kinds of welfare in the catalog (积分商城)."""

    SUPERMARKET_VOUCHER = "supermarket_voucher"  # 超市购物券
    HEALTH_CHECKUP = "health_checkup"  # 免费体检
    TRANSIT_PASS = "transit_pass"  # 公共交通月卡
    SCENIC_TICKET = "scenic_ticket"  # 景点门票
    TRAINING_COURSE = "training_course"  # 职业培训
    HONOUR_CERTIFICATE = "honour_certificate"  # 荣誉证书
    EDUCATION_PRIORITY = "education_priority"  # 子女入学优先审核
    FARM_SUPPLIES = "farm_supplies"  # 农资
    COMMUNITY_FUND = "community_fund"  # 社区基金


class Fulfilment(StrEnum):
    """How an item is delivered: a voucher used at a merchant, or an approved application."""

    VOUCHER = "voucher"
    ENTITLEMENT = "entitlement"


class Period(StrEnum):
    """The window a per-resident limit counts in (Beijing calendar)."""

    MONTH = "month"
    YEAR = "year"
    EVER = "ever"


class RedemptionStatus(StrEnum):
    """Where a redemption stands."""

    ISSUED = "issued"  # vouchers issued (points held until verified)
    PENDING = "pending"  # an entitlement application awaiting its department
    APPROVED = "approved"
    DENIED = "denied"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    COMPLETED = "completed"  # every voucher used


class VoucherStatus(StrEnum):
    """Issued → used | cancelled | expired."""

    ISSUED = "issued"
    USED = "used"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Sponsor(Base):
    """A funding source: the government budget or a named enterprise, with its amount."""

    __tablename__ = "rewards_sponsor"

    id: Mapped[uuid.UUID] = id_column()
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # government | enterprise
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = created_at_column()


class Valuation(Base):
    """What one point is worth in fen from `effective_from` on (versioned, never edited)."""

    __tablename__ = "rewards_valuation"

    id: Mapped[uuid.UUID] = id_column()
    fen_per_point: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime] = mapped_column(index=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = created_at_column()


class Merchant(Base):
    """A shop or service where vouchers are used."""

    __tablename__ = "rewards_merchant"

    id: Mapped[uuid.UUID] = id_column()
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = created_at_column()


class Clerk(Base):
    """A staff member who verifies vouchers for one merchant."""

    __tablename__ = "rewards_clerk"

    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_staff.id"), primary_key=True)
    merchant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rewards_merchant.id"), index=True)
    created_at: Mapped[datetime] = created_at_column()


class LowIncome(Base):
    """A resident certified as low-income (低收入) for eligibility, by whom and when."""

    __tablename__ = "rewards_low_income"

    resident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("identity_resident.id"), primary_key=True
    )
    certified_by: Mapped[uuid.UUID]
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = created_at_column()


class Item(Base):
    """A catalog item with its price, face value, sponsor, stock, limits and eligibility."""

    __tablename__ = "rewards_item"

    id: Mapped[uuid.UUID] = id_column()
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(32), index=True)
    fulfilment: Mapped[str] = mapped_column(String(16))
    price_points: Mapped[int] = mapped_column(BigInteger)
    face_value_fen: Mapped[int] = mapped_column(BigInteger)
    sponsor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rewards_sponsor.id"))
    merchant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rewards_merchant.id"))
    department_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("region_organization.id"))
    stock_total: Mapped[int] = mapped_column(BigInteger)
    stock_remaining: Mapped[int] = mapped_column(BigInteger)
    limit_per_period: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(8))
    region_ids: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: everywhere
    min_age: Mapped[int | None]
    max_age: Mapped[int | None]
    low_income_only: Mapped[bool] = mapped_column(default=False)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    voucher_days: Mapped[int] = mapped_column(Integer, default=30)
    image_url: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_at_column()


class Redemption(Base):
    """A resident's redemption of an item: vouchers, or an entitlement application."""

    __tablename__ = "rewards_redemption"
    __table_args__ = (
        UniqueConstraint("resident_id", "idempotency_key"),
        Index("ix_rewards_redemption_item_resident", "item_id", "resident_id", "period_key"),
    )

    id: Mapped[uuid.UUID] = id_column()
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_resident.id"))
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rewards_item.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(BigInteger)
    face_value_fen: Mapped[int] = mapped_column(BigInteger)  # as promised when redeemed
    status: Mapped[str] = mapped_column(String(16))
    period_key: Mapped[str] = mapped_column(String(8))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    hold_bucket: Mapped[int | None]  # entitlements hold their points here
    hold_id: Mapped[uuid.UUID | None]
    # 教育积分: paid from this child's education account (the guardian applies for them);
    # None: from the resident's wallet.
    child_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("identity_child.id"))
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    decided_by: Mapped[uuid.UUID | None]
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()


class Voucher(Base):
    """A voucher (兑换券) with an unguessable code, valid for a period, verified once."""

    __tablename__ = "rewards_voucher"

    id: Mapped[uuid.UUID] = id_column()
    code: Mapped[str] = mapped_column(String(24), unique=True)
    redemption_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rewards_redemption.id"), index=True
    )
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rewards_item.id"))
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_resident.id"), index=True)
    merchant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rewards_merchant.id"))
    sponsor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rewards_sponsor.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    face_value_fen: Mapped[int] = mapped_column(BigInteger)
    hold_bucket: Mapped[int]
    hold_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(16), index=True)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[uuid.UUID | None]
    used_merchant_id: Mapped[uuid.UUID | None]
    closed_at: Mapped[datetime | None]  # cancelled or expired
    created_at: Mapped[datetime] = created_at_column()


class VoucherEvent(Base):
    """An append-only trail of what happened to a voucher (issued, used, cancelled, expired)."""

    __tablename__ = "rewards_voucher_event"

    id: Mapped[uuid.UUID] = id_column()
    voucher_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rewards_voucher.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(120))
    merchant_id: Mapped[uuid.UUID | None]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = created_at_column()


class Booking(Base):
    """Value redeemed against a sponsor (append-only): points value and subsidy, in fen.

    Written when points are posted (a voucher used, an entitlement approved); each names the
    voucher or redemption and the ledger transfers behind it, for settlement and audit.
    """

    __tablename__ = "rewards_booking"

    id: Mapped[uuid.UUID] = id_column()
    sponsor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rewards_sponsor.id"), index=True)
    # None for a community item paid from a community's own pool (a volunteer team's, see
    # funds.py): no resident redeemed it; `wallet_entry_id` is then the pool's ledger line.
    redemption_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rewards_redemption.id"))
    voucher_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rewards_voucher.id"))
    merchant_id: Mapped[uuid.UUID | None]
    month: Mapped[str] = mapped_column(String(7), index=True)  # Beijing YYYY-MM of the post
    points: Mapped[int] = mapped_column(BigInteger)
    fen_per_point: Mapped[int] = mapped_column(Integer)
    points_value_fen: Mapped[int] = mapped_column(BigInteger)
    subsidy_fen: Mapped[int] = mapped_column(BigInteger)
    face_value_fen: Mapped[int] = mapped_column(BigInteger)
    hold_transfer_id: Mapped[uuid.UUID]
    wallet_entry_id: Mapped[uuid.UUID]  # the resident's ledger line (its proof by entry id)
    post_transfer_id: Mapped[uuid.UUID]
    booked_at: Mapped[datetime] = created_at_column()
