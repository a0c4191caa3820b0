"""Fraud: versioned risk policies, the perceptual-hash index of evidence photos, and the
positions residents reported (for travel, shared-coordinate and shared-device signals)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, created_at_column, id_column


class PolicyRow(Base):
    """A risk policy in force from `effective_from` in a region subtree (None: city-wide)."""

    __tablename__ = "fraud_policy"

    id: Mapped[uuid.UUID] = id_column()
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("region.id"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("identity_staff.id"))
    created_at: Mapped[datetime] = created_at_column()


class PhotoHash(Base):
    """The 64-bit perceptual hash of one evidence photo, cut into four 16-bit bands.

    Two hashes within Hamming distance d < 8 agree on some band to within one bit
    (pigeonhole over four bands), so a lookup probes each band's value and its 16 one-bit
    neighbours through the band's index: a few hundred rows at a million photos, not a scan.
    """

    __tablename__ = "fraud_photo_hash"
    __table_args__ = tuple(Index(f"ix_fraud_photo_hash_b{i}", f"b{i}") for i in range(4))

    evidence_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    participation_id: Mapped[uuid.UUID] = mapped_column(index=True)
    resident_id: Mapped[uuid.UUID]
    phash: Mapped[int] = mapped_column(BigInteger)  # signed: the hash's bits as an int64
    b0: Mapped[int] = mapped_column(Integer)
    b1: Mapped[int] = mapped_column(Integer)
    b2: Mapped[int] = mapped_column(Integer)
    b3: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = created_at_column()


class Observation(Base):
    """A position a resident reported at a check-in or check-out (append-only).

    `device` is a keyed blind index of the browser's or app's device id (never the id itself:
    PIPL); `spot` is the position written to 6 decimals, to count identical reports.
    """

    __tablename__ = "fraud_observation"
    __table_args__ = (Index("ix_fraud_observation_resident_id_at", "resident_id", "at"),)

    id: Mapped[uuid.UUID] = id_column()
    resident_id: Mapped[uuid.UUID]
    participation_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    lat: Mapped[float]
    lon: Mapped[float]
    accuracy_m: Mapped[float | None]
    spot: Mapped[str] = mapped_column(String(32), index=True)
    device: Mapped[str | None] = mapped_column(String(64), index=True)
    recorded_at: Mapped[datetime] = created_at_column()


class CaseKind(StrEnum):
    """How a fraud was confirmed."""

    REJECTION = "rejection"  # a reviewer refused a record as fraud before it paid
    CLAWBACK = "clawback"  # an approved award was found out and taken back


class Sanction(StrEnum):
    """The step of the ladder a confirmed case brought."""

    WARNING = "warning"
    SUSPENSION = "suspension"
    LONG_SUSPENSION = "long_suspension"


class Case(Base):
    """One confirmed fraud by a resident, and the sanction it brought (append-only).

    The step of the ladder counts the resident's earlier cases within the policy's window
    that no upheld appeal withdrew. `credit_record` marks a case reported in the
    credit-record export (the third step).
    """

    __tablename__ = "fraud_case"
    __table_args__ = (Index("ix_fraud_case_decided", "decided_at", "id"),)

    id: Mapped[uuid.UUID] = id_column()
    resident_id: Mapped[uuid.UUID] = mapped_column(index=True)
    participation_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    # Where the record's activity took place: reviewers' and auditors' lists are scoped by it.
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("region.id"), index=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("region_organization.id"))
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    signals: Mapped[list[str]] = mapped_column(JSON, default=list)
    points_taken: Mapped[int] = mapped_column(default=0)
    debt: Mapped[int] = mapped_column(default=0)
    minutes_removed: Mapped[int] = mapped_column(default=0)
    # The ledger's clawback of the record's award (None: it had paid nothing to take back).
    clawback_id: Mapped[uuid.UUID | None]
    sanction: Mapped[str] = mapped_column(String(24))
    suspended_until: Mapped[datetime | None]
    credit_record: Mapped[bool] = mapped_column(default=False)
    decided_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_staff.id"))
    decided_at: Mapped[datetime] = created_at_column()


class Appeal(Base):
    """A resident's appeal (申诉) against a case, with their reason (append-only)."""

    __tablename__ = "fraud_appeal"

    id: Mapped[uuid.UUID] = id_column()
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fraud_case.id"), unique=True)
    resident_id: Mapped[uuid.UUID] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(String(1000))
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    evidence_path: Mapped[str | None] = mapped_column(String(200))
    filed_at: Mapped[datetime] = created_at_column()


class AppealDecision(Base):
    """The decision on an appeal, by a reviewer other than the case's (append-only)."""

    __tablename__ = "fraud_appeal_decision"

    appeal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fraud_appeal.id"), primary_key=True)
    upheld: Mapped[bool]
    reason: Mapped[str] = mapped_column(String(500))
    decided_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_staff.id"))
    decided_at: Mapped[datetime] = created_at_column()
