"""The register's rows recorded in a window (entries and their corrections, both
append-only): the feed that analytics roll up (insights), read in pages by (recorded_at, id)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Subquery, and_, literal, or_, select, union_all
from sqlalchemy.orm import Session

from civicpoints.hours.models import HoursCorrection, HoursEntry


@dataclass(frozen=True)
class HoursRow:
    """One entry (`kind` "entry", +1 participation) or correction ("correct": −1, after a
    clawback; "restore": +1, after an upheld appeal); `minutes` is signed as in the totals."""

    id: uuid.UUID
    recorded_at: datetime
    kind: str
    resident_id: uuid.UUID
    participation_id: uuid.UUID
    category: str
    served_on: date
    minutes: int


def _union() -> Any:
    entries = select(
        HoursEntry.id,
        HoursEntry.recorded_at,
        literal("entry").label("kind"),
        HoursEntry.resident_id,
        HoursEntry.participation_id,
        HoursEntry.category,
        HoursEntry.served_on,
        HoursEntry.minutes,
    )
    fixes = select(
        HoursCorrection.id,
        HoursCorrection.recorded_at,
        HoursCorrection.kind,
        HoursCorrection.resident_id,
        HoursCorrection.participation_id,
        HoursCorrection.category,
        HoursCorrection.served_on,
        HoursCorrection.minutes,
    )
    return union_all(entries, fixes).subquery()


def hours_between(since: datetime, until: datetime) -> Subquery:
    """The entries and corrections recorded in [since, until) as a subquery with an
    `HoursRow`'s columns, for readers that aggregate in SQL (insights' set-based rebuild)."""
    u = _union()
    return select(u).where(u.c.recorded_at >= since, u.c.recorded_at < until).subquery()


def hours_recorded(
    session: Session,
    since: datetime,
    until: datetime,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[HoursRow]:
    """Entries and corrections recorded in [since, until), in (recorded_at, id) order after
    the keyset `after`; at most `limit`."""
    u = _union()
    stmt = (
        select(u)
        .where(u.c.recorded_at >= since, u.c.recorded_at < until)
        .order_by(u.c.recorded_at, u.c.id)
        .limit(limit)
    )
    if after is not None:
        at, last = after
        stmt = stmt.where(or_(u.c.recorded_at > at, and_(u.c.recorded_at == at, u.c.id > last)))
    return [HoursRow(*row) for row in session.execute(stmt).all()]
