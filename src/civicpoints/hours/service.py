"""The permanent service-hours register: independent of points and of any cap."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicpoints.hours.models import HoursEntry
from civicpoints.kit.months import key_of, month_of_day


@dataclass(frozen=True)
class HoursSummary:
    """A resident's total and per-category service minutes."""

    total_minutes: int
    by_category: dict[str, int]


class HoursService:
    """Records and sums service hours; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        resident_id: uuid.UUID,
        participation_id: uuid.UUID,
        category: str,
        minutes: int,
        served_on: date,
    ) -> HoursEntry:
        """Credit the real duration of one approved participation (once)."""
        stmt = select(HoursEntry).where(HoursEntry.participation_id == participation_id)
        existing = self.session.scalars(stmt).one_or_none()
        if existing is not None:
            return existing
        entry = HoursEntry(
            resident_id=resident_id,
            participation_id=participation_id,
            category=category,
            minutes=max(minutes, 0),
            served_on=served_on,
        )
        self.session.add(entry)
        self.session.flush()
        return entry

    def summary(self, resident_id: uuid.UUID) -> HoursSummary:
        """Total and per-category minutes of a resident."""
        stmt = (
            select(HoursEntry.category, func.sum(HoursEntry.minutes))
            .where(HoursEntry.resident_id == resident_id)
            .group_by(HoursEntry.category)
        )
        by_category = {cat: int(total or 0) for cat, total in self.session.execute(stmt).all()}
        return HoursSummary(sum(by_category.values()), by_category)

    def minutes_by_month(self, months: list[date]) -> dict[str, int]:
        """Service minutes served in each month (first days given), by 'YYYY-MM'."""
        if not months:
            return {}
        month = month_of_day(HoursEntry.served_on, months)
        stmt = select(month, func.sum(HoursEntry.minutes)).where(month.is_not(None)).group_by(month)
        found = {str(m): int(n or 0) for m, n in self.session.execute(stmt).all()}
        return {key_of(m): found.get(key_of(m), 0) for m in months}
