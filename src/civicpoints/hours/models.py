"""The permanent register of service hours (志愿服务时长), separate from points."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, String, UniqueConstraint
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


class HoursCorrection(Base):
    """An append-only correction of one participation's hours: its minutes taken out of the
    totals (`correct`, after a clawback) or put back (`restore`, after an upheld appeal).

    `seq` numbers a participation's corrections (odd: correct, even: restore); being unique,
    two racing corrections of the same state cannot both be written.
    """

    __tablename__ = "hours_correction"
    __table_args__ = (UniqueConstraint("participation_id", "seq"),)

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
