"""Tables of donations (积分捐赠), the pool's allocations, low-income status, the 爱心榜 opt-in
and the versioned region settings of donations and the points bank. The points themselves
live in the ledger (the pool is a ledger account); these rows index what the ledger did."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, created_at_column, id_column


class DonationSettingRow(Base):
    """Donation and points-bank settings of a region from `effective_from` (never edited)."""

    __tablename__ = "community_donation_setting"

    id: Mapped[uuid.UUID] = id_column()
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("region.id"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    monthly_donation_limit: Mapped[int] = mapped_column(Integer)
    savings_months: Mapped[int] = mapped_column(Integer)
    savings_cap: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = created_at_column()


class Donation(Base):
    """A resident's gift to their community's pool: the ledger carry `idempotency_key`."""

    __tablename__ = "community_donation"
    __table_args__ = (
        UniqueConstraint("resident_id", "idempotency_key"),
        Index("ix_community_donation_month", "resident_id", "month"),
    )

    id: Mapped[uuid.UUID] = id_column()
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_resident.id"))
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("region.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    month: Mapped[str] = mapped_column(String(7))  # Beijing month "YYYY-MM" (the limit's)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    ledger_key: Mapped[str] = mapped_column(String(200))
    receipt_entry_id: Mapped[uuid.UUID]  # the donor wallet's debit entry (first slice)
    created_at: Mapped[datetime] = created_at_column()


class Allocation(Base):
    """Points of a community's pool given by civil-affairs staff to a low-income resident."""

    __tablename__ = "community_allocation"
    __table_args__ = (UniqueConstraint("community_id", "idempotency_key"),)

    id: Mapped[uuid.UUID] = id_column()
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("region.id"), index=True)
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_resident.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[uuid.UUID]
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    ledger_key: Mapped[str] = mapped_column(String(200))
    receipt_entry_id: Mapped[uuid.UUID]  # the recipient wallet's credit entry (first slice)
    created_at: Mapped[datetime] = created_at_column()


class LowIncomeStatus(Base):
    """One decision on a resident's low-income status (低保/低收入) by civil-affairs staff of
    their community: the latest row is in force; the rows are its history (append-only)."""

    __tablename__ = "community_low_income"
    __table_args__ = (Index("ix_community_low_income_resident", "resident_id", "set_at"),)

    id: Mapped[uuid.UUID] = id_column()
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_resident.id"))
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("region.id"), index=True)
    active: Mapped[bool]
    reason: Mapped[str] = mapped_column(String(200))
    set_by: Mapped[uuid.UUID]
    set_at: Mapped[datetime] = created_at_column()


class BoardOptIn(Base):
    """A donor's choice to appear on the 爱心榜 (masked name and total); absent = not shown."""

    __tablename__ = "community_board_optin"

    resident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("identity_resident.id"), primary_key=True
    )
    shown: Mapped[bool]
    updated_at: Mapped[datetime] = created_at_column()
