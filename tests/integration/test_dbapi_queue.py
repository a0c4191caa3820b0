"""Statements sent `later` on the DBAPI cursor (kit/dbapi.py): on PostgreSQL they travel with
the next statement or the COMMIT, and nothing may see the database as if they had not run.

Each test writes a row with `later=True`, then checks what the ORM, a raw read and the commit
see; on SQLite `later` runs at once, so the same assertions hold there.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit import dbapi
from civicpoints.kit.db import transaction
from civicpoints.scoring.models import MonthUsage

INSERT = "INSERT INTO scoring_month_usage (resident_id, month, points) VALUES (?, ?, ?)"


def _later(s: Session, resident: uuid.UUID, points: int = 7) -> None:
    raw = dbapi.raw(s)
    raw.run(INSERT, [raw.uuid(resident), "2025-01", points], later=True)


def _count(sessions: sessionmaker[Session], resident: uuid.UUID) -> int:
    with sessions() as s:
        stmt = (
            select(func.count()).select_from(MonthUsage).where(MonthUsage.resident_id == resident)
        )
        return int(s.scalar(stmt) or 0)


def test_a_queued_write_is_committed(sessions: sessionmaker[Session]) -> None:
    resident = uuid.uuid4()
    with transaction(sessions) as s:
        _later(s, resident)
    assert _count(sessions, resident) == 1


def test_the_orm_reads_after_a_queued_write(sessions: sessionmaker[Session]) -> None:
    resident = uuid.uuid4()
    with transaction(sessions) as s:
        _later(s, resident, 9)
        row = s.get(MonthUsage, (resident, "2025-01"))
        assert row is not None and row.points == 9


def test_a_raw_read_sees_a_queued_write(sessions: sessionmaker[Session]) -> None:
    resident = uuid.uuid4()
    with transaction(sessions) as s:
        _later(s, resident, 5)
        raw = dbapi.raw(s)
        got = raw.rows(
            "SELECT points FROM scoring_month_usage WHERE resident_id = ?", [raw.uuid(resident)]
        )
        assert got == [(5,)]


def test_a_rolled_back_queue_is_never_sent(sessions: sessionmaker[Session]) -> None:
    resident = uuid.uuid4()
    with pytest.raises(RuntimeError), transaction(sessions) as s:
        _later(s, resident)
        raise RuntimeError("abandon")
    with transaction(sessions) as s:  # the next transaction on the pooled connection
        s.execute(select(func.count()).select_from(MonthUsage))
    assert _count(sessions, resident) == 0


def test_a_failing_queued_write_fails_the_commit(sessions: sessionmaker[Session]) -> None:
    resident = uuid.uuid4()
    with transaction(sessions) as s:
        _later(s, resident)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), transaction(sessions) as s:
        s.add(MonthUsage(resident_id=uuid.uuid4(), month="2025-02", points=1))
        s.flush()
        _later(s, resident)  # the same key again: refused by the primary key
    assert _count(sessions, resident) == 1
    with sessions() as s:  # nothing of the failed transaction was committed
        assert s.scalar(select(func.count()).select_from(MonthUsage)) == 1
