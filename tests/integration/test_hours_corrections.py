"""Hours corrections: a clawed-back participation's minutes leave the register's totals by an
append-only correction and come back after an upheld appeal; repeats change nothing."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.hours import HoursService
from civicpoints.hours.models import HoursCorrection
from civicpoints.kit.db import transaction
from tests.integration.test_concurrency import race

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)


def register(sessions: sessionmaker[Session]) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A resident with 120 minutes of volunteering in March and 60 of environmental in April."""
    resident, march, april = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with transaction(sessions) as s:
        hours = HoursService(s)
        hours.record(resident, march, "volunteer_service", 120, date(2026, 3, 10))
        hours.record(resident, april, "environmental", 60, date(2026, 4, 2))
    return resident, march, april


def corrections(s: Session) -> int:
    """How many correction rows exist."""
    return int(s.scalar(select(func.count()).select_from(HoursCorrection)) or 0)


def test_a_correction_takes_the_minutes_out_and_a_restore_puts_them_back(
    sessions: sessionmaker[Session],
) -> None:
    """Totals, categories and months all follow the corrections; repeats add no row."""
    resident, march, _ = register(sessions)
    with transaction(sessions) as s:
        first = HoursService(s).correct(march, "照片重复 / reused photo", "auditor:1")
        assert first is not None and (first.seq, first.minutes, first.kind) == (1, -120, "correct")
    with transaction(sessions) as s:
        hours = HoursService(s)
        assert getattr(hours.correct(march, "again", "auditor:1"), "id", None) == first.id
        assert hours.corrected(march) and corrections(s) == 1
        assert hours.summary(resident).total_minutes == 60
        assert hours.summary(resident).by_category["volunteer_service"] == 0
        assert hours.minutes_by_month([MARCH, APRIL]) == {"2026-03": 0, "2026-04": 60}
    with transaction(sessions) as s:
        back = HoursService(s).uncorrect(march, "申诉成立 / upheld", "reviewer:2")
        assert back is not None and (back.seq, back.minutes, back.kind) == (2, 120, "restore")
    with transaction(sessions) as s:
        hours = HoursService(s)
        assert getattr(hours.uncorrect(march, "again", "reviewer:2"), "id", None) == back.id
        assert not hours.corrected(march) and corrections(s) == 2
        assert hours.summary(resident).total_minutes == 180
        assert hours.minutes_by_month([MARCH, APRIL]) == {"2026-03": 120, "2026-04": 60}
        again = hours.correct(march, "second finding", "auditor:3")
        assert again is not None and again.seq == 3
        assert hours.summary(resident).total_minutes == 60


def test_nothing_to_correct_or_restore(sessions: sessionmaker[Session]) -> None:
    """A participation without hours has nothing to correct; one never corrected has nothing
    to restore."""
    _, march, _ = register(sessions)
    with transaction(sessions) as s:
        hours = HoursService(s)
        assert hours.correct(uuid.uuid4(), "x", "auditor") is None
        assert hours.uncorrect(march, "x", "reviewer") is None
        assert corrections(s) == 0


def test_corrections_are_append_only(sessions: sessionmaker[Session]) -> None:
    """The database refuses to change or delete a correction."""
    _, march, _ = register(sessions)
    with transaction(sessions) as s:
        HoursService(s).correct(march, "x", "auditor")
    for statement in ("UPDATE hours_correction SET minutes = 0", "DELETE FROM hours_correction"):
        with pytest.raises(DBAPIError, match="append-only"), transaction(sessions) as s:
            s.execute(text(statement))


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_racing_corrections_write_one_row(sessions: sessionmaker[Session]) -> None:
    """Four reviewers correct the same participation at once: one correction, the same one
    returned to all."""
    resident, march, _ = register(sessions)

    def work(i: int) -> uuid.UUID:
        with transaction(sessions) as s:
            row = HoursService(s).correct(march, f"finding {i}", f"auditor:{i}")
            assert row is not None
            return row.id

    results = race(4, work)
    assert len(set(results)) == 1 and all(isinstance(r, uuid.UUID) for r in results), results
    with transaction(sessions) as s:
        assert corrections(s) == 1 and HoursService(s).summary(resident).total_minutes == 60
