"""Residents, staff, role grants and API tokens."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, created_at_column, id_column


class Verification(StrEnum):
    """Where a resident's real-name check stands."""

    UNVERIFIED = "unverified"
    VERIFIED = "verified"


class Resident(Base):
    """A registered resident; ID and phone numbers only encrypted, found by blind index."""

    __tablename__ = "identity_resident"
    # The registrations feed insights rolls up, read in (created_at, id) pages.
    __table_args__ = (Index("ix_identity_resident_created_at", "created_at", "id"),)

    id: Mapped[uuid.UUID] = id_column()
    public_no: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    id_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_bidx: Mapped[str] = mapped_column(String(64), unique=True)
    id_masked: Mapped[str] = mapped_column(String(18))
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone_bidx: Mapped[str] = mapped_column(String(64), unique=True)
    phone_masked: Mapped[str] = mapped_column(String(11))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("region.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    verification: Mapped[str] = mapped_column(String(16), default=Verification.UNVERIFIED)
    verified_at: Mapped[datetime | None]
    verified_by: Mapped[str | None] = mapped_column(String(32))
    consent_version: Mapped[str] = mapped_column(String(16))
    consent_at: Mapped[datetime]
    created_at: Mapped[datetime] = created_at_column()
    # Set while consent is withdrawn (PIPL): no earning, no redeeming (identity/privacy.py).
    consent_withdrawn_at: Mapped[datetime | None]


class IdentityVerification(Base):
    """One real-name verification: how, when, by whom, on which (masked) document.

    Written once per verification and never changed, so the audit log can read staff
    verifications from here (`verified_by_staff_id` set for in-person checks).
    """

    __tablename__ = "identity_verification"

    id: Mapped[uuid.UUID] = id_column()
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_resident.id"), index=True)
    method: Mapped[str] = mapped_column(String(32))
    verified_by_staff_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("identity_staff.id"), index=True
    )
    verified_at: Mapped[datetime]
    document_type: Mapped[str | None] = mapped_column(String(32))
    document_masked: Mapped[str | None] = mapped_column(String(18))


class Staff(Base):
    """A staff account: community worker, reviewer, clerk, administrator or auditor."""

    __tablename__ = "identity_staff"

    id: Mapped[uuid.UUID] = id_column()
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_at_column()


class RoleGrant(Base):
    """A role held by a staff member, scoped to a region subtree and/or one organization."""

    __tablename__ = "identity_role_grant"

    id: Mapped[uuid.UUID] = id_column()
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_staff.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("region.id"))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("region_organization.id"))
    created_at: Mapped[datetime] = created_at_column()


class Token(Base):
    """A bearer token, stored only as its SHA-256 so a leaked table grants nothing."""

    __tablename__ = "identity_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[uuid.UUID] = mapped_column(index=True)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
