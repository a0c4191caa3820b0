"""Outcome indicators (成效指标): what departments measure, their values per region and
Beijing month (with every replaced value kept), and the month a region joined the scheme."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, created_at_column, id_column

__all__ = ["Indicator", "OutcomeRevision", "OutcomeValue", "RegionJoin"]


class Indicator(Base):
    """An indicator a department reports (垃圾分类执行率 in %, higher is better, 环保)."""

    __tablename__ = "insights_indicator"

    id: Mapped[uuid.UUID] = id_column()
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    unit: Mapped[str] = mapped_column(String(8))
    higher_is_better: Mapped[bool]
    department: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = created_at_column()


class OutcomeValue(Base):
    """The current value of an indicator in a region and month, in thousandths (integers
    only): 65.5 % is 65500. A correction moves the old value to `insights_outcome_revision`."""

    __tablename__ = "insights_outcome_value"
    __table_args__ = (
        UniqueConstraint("indicator_id", "region_id", "month", name="uq_insights_outcome_cell"),
    )

    id: Mapped[uuid.UUID] = id_column()
    indicator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("insights_indicator.id"))
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("region.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # 'YYYY-MM', Beijing
    milli: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200))
    entered_by: Mapped[uuid.UUID]
    entered_at: Mapped[datetime] = created_at_column()
    revision: Mapped[int] = mapped_column(default=1)


class OutcomeRevision(Base):
    """A value that was replaced by a correction: what it was, who entered it, who replaced
    it, when and why (append-only; the current value is in `insights_outcome_value`)."""

    __tablename__ = "insights_outcome_revision"

    id: Mapped[uuid.UUID] = id_column()
    value_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("insights_outcome_value.id"), index=True)
    revision: Mapped[int]
    milli: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200))
    entered_by: Mapped[uuid.UUID]
    entered_at: Mapped[datetime]
    replaced_by: Mapped[uuid.UUID]
    replaced_at: Mapped[datetime] = created_at_column()
    reason: Mapped[str] = mapped_column(String(200))


class RegionJoin(Base):
    """The day a region joined the points scheme (entered by an administrator); a region
    without one inherits its nearest ancestor's."""

    __tablename__ = "insights_region_join"

    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("region.id"), primary_key=True)
    joined_on: Mapped[date]
    set_by: Mapped[uuid.UUID]
    set_at: Mapped[datetime] = created_at_column()
