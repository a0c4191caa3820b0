"""Tables of the region tree and of the organizations that own activities."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, created_at_column, id_column


class Level(StrEnum):
    """Levels of the administrative tree, top down."""

    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"


class OrgKind(StrEnum):
    """What kind of body an organization is."""

    DEPARTMENT = "department"
    COMMITTEE = "committee"


class Department(StrEnum):
    """Government lines an organization belongs to (民政, 公安, 环保, 教育)."""

    CIVIL_AFFAIRS = "civil_affairs"
    PUBLIC_SECURITY = "public_security"
    ENVIRONMENT = "environment"
    EDUCATION = "education"
    COMMUNITY = "community"


class Region(Base):
    """A node of city → district → street → community, with its administrative code."""

    __tablename__ = "region"

    id: Mapped[uuid.UUID] = id_column()
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("region.id"), index=True)
    # Materialized path of codes ("3301/330106/…/"): ancestry and subtree by prefix.
    path: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = created_at_column()


class Organization(Base):
    """A department or community committee that publishes activities."""

    __tablename__ = "region_organization"

    id: Mapped[uuid.UUID] = id_column()
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(16))
    department: Mapped[str] = mapped_column(String(32))
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("region.id"), index=True)
    created_at: Mapped[datetime] = created_at_column()
