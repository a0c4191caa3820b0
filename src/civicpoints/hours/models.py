"""The permanent register of service hours (志愿服务时长), separate from points."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, created_at_column, id_column


class HoursEntry(Base):
    """Minutes of service credited for one participation; corrections are new entries."""

    __tablename__ = "hours_entry"

    id: Mapped[uuid.UUID] = id_column()
    resident_id: Mapped[uuid.UUID] = mapped_column(index=True)
    participation_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    category: Mapped[str] = mapped_column(String(32))
    minutes: Mapped[int]
    served_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime] = created_at_column()
