"""The permanent service-hours register: independent of points and of any cap.

Records are never edited: a clawed-back participation's minutes leave the totals by an
append-only correction (`hours_correction`), and come back by another if an appeal is upheld.
Totals are the entries plus their corrections.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Subquery, func, select, union_all
from sqlalchemy.orm import Session

from civicpoints.hours.models import HoursCorrection, HoursEntry
from civicpoints.hours.repository import HoursRepository
from civicpoints.kit.months import key_of, month_of_day

CORRECT, RESTORE = "correct", "restore"


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

    def correct(
        self, participation_id: uuid.UUID, reason: str, actor: str
    ) -> HoursCorrection | None:
        """Take a participation's minutes out of the totals (after a clawback). Idempotent: an
        already corrected one returns its correction; None if it has no hours recorded."""
        return self._flip(participation_id, CORRECT, reason, actor)

    def uncorrect(
        self, participation_id: uuid.UUID, reason: str, actor: str
    ) -> HoursCorrection | None:
        """Put a corrected participation's minutes back (an upheld appeal). Idempotent: one
        not corrected returns its last restore (None if it was never corrected)."""
        return self._flip(participation_id, RESTORE, reason, actor)

    def corrected(self, participation_id: uuid.UUID) -> bool:
        """Whether a participation's minutes are out of the totals now."""
        last = self._last(participation_id)
        return last is not None and last.kind == CORRECT

    def _flip(
        self, participation_id: uuid.UUID, kind: str, reason: str, actor: str
    ) -> HoursCorrection | None:
        """Append a correction of `kind` unless the participation is in that state already."""
        # The entry locked: corrections of one participation are written one after the other
        # (its `seq` being unique backs this up where there is no row lock, i.e. SQLite).
        stmt = select(HoursEntry).where(HoursEntry.participation_id == participation_id)
        entry = self.session.scalars(stmt.with_for_update()).one_or_none()
        if entry is None:
            return None
        last = self._last(participation_id)
        if (last is not None and last.kind == CORRECT) == (kind == CORRECT):
            return last
        row = HoursCorrection(
            participation_id=participation_id,
            seq=last.seq + 1 if last else 1,
            resident_id=entry.resident_id,
            kind=kind,
            category=entry.category,
            served_on=entry.served_on,
            minutes=-entry.minutes if kind == CORRECT else entry.minutes,
            reason=reason,
            actor=actor,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def _last(self, participation_id: uuid.UUID) -> HoursCorrection | None:
        """A participation's latest correction."""
        stmt = (
            select(HoursCorrection)
            .where(HoursCorrection.participation_id == participation_id)
            .order_by(HoursCorrection.seq.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).one_or_none()

    def summary(self, resident_id: uuid.UUID) -> HoursSummary:
        """Total and per-category minutes of a resident, corrections included."""
        rows = _ledger(resident_id)
        stmt = select(rows.c.category, func.sum(rows.c.minutes)).group_by(rows.c.category)
        by_category = {cat: int(total or 0) for cat, total in self.session.execute(stmt).all()}
        return HoursSummary(sum(by_category.values()), by_category)

    def minutes_of(
        self, resident_id: uuid.UUID, participation_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        """Net minutes of the resident's own participations among `participation_ids`."""
        return HoursRepository(self.session).minutes_of(resident_id, participation_ids)

    def totals(self, resident_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Total minutes of each resident (corrections included; 0 for none recorded)."""
        found = dict.fromkeys(resident_ids, 0)
        if not resident_ids:
            return found
        for table in (HoursEntry, HoursCorrection):
            stmt = (
                select(table.resident_id, func.sum(table.minutes))
                .where(table.resident_id.in_(resident_ids))
                .group_by(table.resident_id)
            )
            for rid, minutes in self.session.execute(stmt).all():
                found[rid] += int(minutes or 0)
        return found

    def minutes_by_month(self, months: list[date]) -> dict[str, int]:
        """Service minutes served in each month (first days given), by 'YYYY-MM', corrections
        counted in the month of the service they correct."""
        if not months:
            return {}
        rows = _ledger(None)
        month = month_of_day(rows.c.served_on, months)
        stmt = select(month, func.sum(rows.c.minutes)).where(month.is_not(None)).group_by(month)
        found = {str(m): int(n or 0) for m, n in self.session.execute(stmt).all()}
        return {key_of(m): found.get(key_of(m), 0) for m in months}


def _ledger(resident_id: uuid.UUID | None) -> Subquery:
    """Entries and corrections as one set of (category, served_on, minutes) rows."""
    parts = []
    for table in (HoursEntry, HoursCorrection):
        stmt = select(
            table.category.label("category"),
            table.served_on.label("served_on"),
            table.minutes.label("minutes"),
        )
        if resident_id is not None:
            stmt = stmt.where(table.resident_id == resident_id)
        parts.append(stmt)
    return union_all(*parts).subquery()
