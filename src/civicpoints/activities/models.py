"""Activities, enrollments, participation records and photo evidence."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, created_at_column, id_column


class ActivityStatus(StrEnum):
    """Life of an activity."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class EnrollmentStatus(StrEnum):
    """Where a resident stands on an activity's roster."""

    ENROLLED = "enrolled"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class Source(StrEnum):
    """How a participation was recorded."""

    APP = "app"
    OFFLINE = "offline"
    IMPORT = "import"


class RecordStatus(StrEnum):
    """Life of a participation record."""

    CHECKED_IN = "checked_in"
    AWAITING_EVIDENCE = "awaiting_evidence"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"  # approved, then found false: its points and hours were taken back


def new_venue_secret() -> bytes:
    """32 random bytes from the OS: an activity's venue-code key (a callable default that
    takes no argument, so SQLAlchemy passes it none)."""
    return secrets.token_bytes(32)


class Activity(Base):
    """One session of public service at a place and time, owned by an organization."""

    __tablename__ = "activity"

    id: Mapped[uuid.UUID] = id_column()
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("region_organization.id"), index=True
    )
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("region.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ActivityStatus.DRAFT)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    place_name: Mapped[str] = mapped_column(String(200))
    geofence: Mapped[dict[str, Any]] = mapped_column(JSON)
    capacity: Mapped[int]
    evidence: Mapped[str] = mapped_column(String(16), default="none")
    # When true, a check-in outside the fence or window becomes a record for review, not an error.
    flag_outside: Mapped[bool] = mapped_column(default=False)
    checkin_opens_min: Mapped[int] = mapped_column(default=30)
    checkout_closes_min: Mapped[int] = mapped_column(default=60)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_staff.id"))
    created_at: Mapped[datetime] = created_at_column()
    # The key of its rotating venue code (签到码, activities/venue.py): made with the activity,
    # never sent anywhere; only the codes derived from it are shown, to its organizers.
    venue_secret: Mapped[bytes] = mapped_column(LargeBinary(32), default=new_venue_secret)
    # A team challenge (积分挑战赛): the points go to this volunteer team's pool (community
    # domain, named by table only: activities does not import community), the hours to each
    # member's own register. Only the team's members may join (the `joining` guard).
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("community_team.id"), index=True)


class Enrollment(Base):
    """A resident's place (or waitlist position) on an activity."""

    __tablename__ = "activity_enrollment"
    __table_args__ = (UniqueConstraint("activity_id", "resident_id"),)

    id: Mapped[uuid.UUID] = id_column()
    activity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("activity.id"))
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_resident.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = created_at_column()
    cancelled_at: Mapped[datetime | None]


class Participation(Base):
    """What a resident did at an activity: the basis of hours and of points."""

    __tablename__ = "activity_participation"
    __table_args__ = (
        UniqueConstraint("activity_id", "resident_id"),
        UniqueConstraint("organization_id", "slip_no"),
    )

    id: Mapped[uuid.UUID] = id_column()
    activity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("activity.id"))
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_resident.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), index=True)
    checkin_at: Mapped[datetime | None]
    checkin_lat: Mapped[float | None]
    checkin_lon: Mapped[float | None]
    checkin_inside: Mapped[bool | None]
    checkout_at: Mapped[datetime | None]
    checkout_lat: Mapped[float | None]
    checkout_lon: Mapped[float | None]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Why a flag was raised, in zh-CN and en, for the reviewer and the resident (flag → text).
    flag_notes: Mapped[dict[str, dict[str, str]]] = mapped_column(
        JSON, default=dict, server_default=text("'{}'")
    )
    # The organization whose paper slip this is: slip numbers are unique within it only.
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("region_organization.id"))
    slip_no: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(500), default="")
    # The risk score of its signals under the policy in force (fraud.assess): review by risk.
    risk: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("identity_staff.id"))
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("identity_staff.id"))
    reviewed_at: Mapped[datetime | None]
    review_reason: Mapped[str] = mapped_column(String(500), default="")
    # When a signal found after approval (e.g. the device later proved a farm's) raised an
    # approved record's risk to review: it waits for a second look until reviewed after it.
    recheck_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = created_at_column()


class Evidence(Base):
    """A photo uploaded for a participation, stored content-addressed."""

    __tablename__ = "activity_evidence"

    id: Mapped[uuid.UUID] = id_column()
    participation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activity_participation.id"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # re-used photo check
    path: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    taken_at: Mapped[datetime | None]
    gps_lat: Mapped[float | None]
    gps_lon: Mapped[float | None]
    gps_inside: Mapped[bool | None]
    uploaded_at: Mapped[datetime] = created_at_column()
