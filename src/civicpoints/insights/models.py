"""The rollup tables: figures and participant memberships per (community, Beijing month),
the rows already counted and each source's watermark (docs/insights.md)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.insights.tally import CITY
from civicpoints.kit.db import Base, created_at_column

__all__ = [
    "CITY",
    "Figure",
    "Member",
    "PeopleCell",
    "Population",
    "RegionFigure",
    "Seen",
    "Watermark",
]


class Figure(Base):
    """One additive figure of one community in one month: `figure` names the measure
    (points, hours, participations, channel, clawbacks, fraud), `key` its part."""

    __tablename__ = "insights_figure"

    community_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # 'YYYY-MM', Beijing
    figure: Mapped[str] = mapped_column(String(24), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class RegionFigure(Base):
    """One additive figure of a city, district or street in one month: the sum of its
    communities' `insights_figure` rows (the city-wide id's too, at the root), kept by the
    rollup with them (docs/insights.md, "Figures at city scale")."""

    __tablename__ = "insights_region_figure"

    region_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    figure: Mapped[str] = mapped_column(String(24), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Member(Base):
    """A resident's participations that count (approved, not clawed back) in a community's
    month: a participant while `n` > 0. Distinct counts stay exact without rescans."""

    __tablename__ = "insights_member"
    __table_args__ = (Index("ix_insights_member_resident_month", "resident_id", "month"),)

    community_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    resident_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


class Seen(Base):
    """A source row already rolled up (kept for the overlap window behind the watermark, so
    a row committed late is counted once, never twice)."""

    __tablename__ = "insights_seen"

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    row_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(index=True)


class Watermark(Base):
    """How far a source has been rolled up: rows recorded before `upto` are counted (those
    within the overlap behind it are checked against `insights_seen`)."""

    __tablename__ = "insights_watermark"

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    upto: Mapped[datetime]
    runs: Mapped[int] = mapped_column(BigInteger, default=0)


class Population(Base):
    """A region's population as entered by an administrator (for participation rates)."""

    __tablename__ = "insights_population"

    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("region.id"), primary_key=True)
    population: Mapped[int] = mapped_column(BigInteger)
    set_at: Mapped[datetime] = created_at_column()


class PeopleCell(Base):
    """The people aggregate of a city, district or street (docs/insights.md, "People at city
    scale"): how many residents have n > 0 in the region in `month`, their previous such month
    in the region within 36 months (`prev`, '' for none), whether `month` is their first
    anywhere, their age band at the month's end, the month at whose end they reach the next
    band if within 35 months ('' if not) and sex ('' for a resident not on record)."""

    __tablename__ = "insights_people"

    region_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    prev: Mapped[str] = mapped_column(String(7), primary_key=True)
    is_first: Mapped[bool] = mapped_column(primary_key=True)
    band: Mapped[str] = mapped_column(String(8), primary_key=True)
    band_change: Mapped[str] = mapped_column(String(7), primary_key=True)
    sex: Mapped[str] = mapped_column(String(1), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
