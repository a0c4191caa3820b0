"""The permanent register of service hours (志愿服务时长), separate from points."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, created_at_column, id_column


class HoursEntry(Base):
    """Minutes of service credited for one participation; corrections are new entries."""

    __tablename__ = "hours_entry"
    # The feed analytics read by time (hours/feed.py): a window, never a scan.
    __table_args__ = (Index("ix_hours_entry_recorded", "recorded_at", "id"),)

    id: Mapped[uuid.UUID] = id_column()
    resident_id: Mapped[uuid.UUID] = mapped_column(index=True)
    participation_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    category: Mapped[str] = mapped_column(String(32))
    minutes: Mapped[int]
    served_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime] = created_at_column()


class HoursCorrection(Base):
    """An append-only correction of one participation's hours: its minutes taken out of the
    totals (`correct`, after a clawback) or put back (`restore`, after an upheld appeal).

    `seq` numbers a participation's corrections (odd: correct, even: restore); being unique,
    two racing corrections of the same state cannot both be written.
    """

    __tablename__ = "hours_correction"
    __table_args__ = (
        UniqueConstraint("participation_id", "seq"),
        Index("ix_hours_correction_recorded", "recorded_at", "id"),
    )

    id: Mapped[uuid.UUID] = id_column()
    participation_id: Mapped[uuid.UUID]
    seq: Mapped[int]
    resident_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))  # correct | restore
    category: Mapped[str] = mapped_column(String(32))
    served_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int]  # signed: what this row adds to the totals
    reason: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = created_at_column()


class StarPolicyRow(Base):
    """Star-level thresholds in force from `effective_from` in a region subtree (None:
    city-wide); versions are added, never changed, as scoring's rule sets and fraud's policies."""

    __tablename__ = "hours_star_policy"

    id: Mapped[uuid.UUID] = id_column()
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("region.id"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    thresholds: Mapped[list[int]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("identity_staff.id"))
    created_at: Mapped[datetime] = created_at_column()


class Certificate(Base):
    """A 志愿服务记录证明 or 优秀志愿者 honour as issued (append-only).

    `content` is what the certificate states (name, masked ID, lines of service, issuer…);
    `note` is that statement signed by the ledger's checkpoint key (a C2SP signed note), so
    the PDF can be checked offline with the receipts' public key.
    """

    __tablename__ = "hours_certificate"

    id: Mapped[uuid.UUID] = id_column()
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # record | honour
    resident_id: Mapped[uuid.UUID] = mapped_column(index=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("region_organization.id"))
    issued_on: Mapped[date] = mapped_column(Date)
    total_minutes: Mapped[int]
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text)
    issued_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_staff.id"))
    created_at: Mapped[datetime] = created_at_column()
