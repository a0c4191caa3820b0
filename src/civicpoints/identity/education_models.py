"""Tables of 教育积分 (education points) in identity: children linked to guardians, the links
the education department confirms, and the enrolment-year setting of a region.

A child is not a resident account: no phone, no password, no sign-in. Their ID number is
checked like any ID (`idcard.py`) and stored only encrypted, found by blind index.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, created_at_column, id_column


class LinkStatus(StrEnum):
    """Where a guardian's link to a child stands."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class Child(Base):
    """A child whose education account guardians may credit; ID number only encrypted."""

    __tablename__ = "identity_child"

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(50))
    id_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_bidx: Mapped[str] = mapped_column(String(64), unique=True)
    id_masked: Mapped[str] = mapped_column(String(18))
    birth_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at_column()


class GuardianLink(Base):
    """A guardian's claim to a child, decided by education staff of the guardian's community
    (`community_id`, fixed when asked: the scope of the decision)."""

    __tablename__ = "identity_guardian_link"
    __table_args__ = (UniqueConstraint("child_id", "guardian_id"),)

    id: Mapped[uuid.UUID] = id_column()
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_child.id"), index=True)
    guardian_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_resident.id"), index=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("region.id"), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=LinkStatus.PENDING)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("identity_staff.id"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = created_at_column()


class EducationSetting(Base):
    """A region's enrolment year from `effective_from` (never edited: a new row is a new
    version): the year ends on `year_end` ("MM-DD"), when education points expire."""

    __tablename__ = "identity_education_setting"

    id: Mapped[uuid.UUID] = id_column()
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("region.id"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    year_end: Mapped[str] = mapped_column(String(5))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = created_at_column()
