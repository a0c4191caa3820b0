"""The table of 隐患随手拍: one row per report, with its photo, place, route and decision."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, created_at_column, id_column


class HazardReport(Base):
    """A hazard a resident reported; decided once by the department it was routed to."""

    __tablename__ = "community_hazard_report"
    __table_args__ = (
        Index("ix_community_hazard_report_org_status", "organization_id", "status"),
        Index("ix_community_hazard_report_category_at", "category", "reported_at"),
    )

    id: Mapped[uuid.UUID] = id_column()
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_resident.id"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("region.id"))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("region_organization.id"))
    address: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500))
    # The claimed position (the browser's, else the photo's); None: only the address.
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    photo_sha256: Mapped[str] = mapped_column(String(64))
    photo_path: Mapped[str] = mapped_column(String(200))
    photo_mime: Mapped[str] = mapped_column(String(32))
    photo_taken_at: Mapped[datetime | None]
    photo_lat: Mapped[float | None] = mapped_column(Float)
    photo_lon: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="open")
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("community_hazard_report.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("identity_staff.id"))
    decided_at: Mapped[datetime | None]
    points: Mapped[int | None]  # awarded on confirmation (None: not decided, or no points)
    reported_at: Mapped[datetime]
    created_at: Mapped[datetime] = created_at_column()
