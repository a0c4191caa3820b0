"""Versioned regional rule sets, monthly usage against the cap, and award decisions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, created_at_column, id_column


class RuleSetRow(Base):
    """A rule set in force from `effective_from` in a region subtree (None: city-wide)."""

    __tablename__ = "scoring_rule_set"

    id: Mapped[uuid.UUID] = id_column()
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("region.id"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("identity_staff.id"))
    created_at: Mapped[datetime] = created_at_column()


class MonthUsage(Base):
    """Points a resident (or, under its id, a volunteer team) was awarded in a Beijing calendar
    month; locked while awarding."""

    __tablename__ = "scoring_month_usage"

    resident_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    points: Mapped[int] = mapped_column(default=0)


class AwardRow(Base):
    """The decision on one participation: the full computation, what was cut, and why."""

    __tablename__ = "scoring_award"

    id: Mapped[uuid.UUID] = id_column()
    participation_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    resident_id: Mapped[uuid.UUID] = mapped_column(index=True)
    # A team challenge's award: paid to this team's pool, counted against its cap (its usage
    # row is keyed by the team id); None for the resident's own wallet.
    team_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    rule_set_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("scoring_rule_set.id"))
    month: Mapped[str] = mapped_column(String(7))
    category: Mapped[str] = mapped_column(String(32))
    credited_minutes: Mapped[int]
    base: Mapped[int]
    awarded: Mapped[int]
    cut: Mapped[int]
    refusal: Mapped[str | None] = mapped_column(String(64))
    explanation: Mapped[dict[str, str]] = mapped_column(JSON)
    expires_at: Mapped[datetime | None]
    transfer_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = created_at_column()
