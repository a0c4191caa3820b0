"""Real concurrent transactions on PostgreSQL: the cap, capacity and awards hold under races."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities.models import EnrollmentStatus
from civicpoints.activities.offline import OfflineService
from civicpoints.activities.schemas import OfflineRecordCreate
from civicpoints.activities.service import ActivityService
from civicpoints.kit.clock import BUSINESS_TZ, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.errors import DomainError
from civicpoints.ledger import wallet_of
from civicpoints.ledger.service import LedgerService
from civicpoints.scoring.service import ScoringService

# Concurrency needs real row locks and several connections: PostgreSQL only (SQLite
# serializes every writer, so a race there proves nothing).
pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def race(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in n threads released together; returns results or exceptions."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # collected and asserted on by the caller
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def slips(
    sessions: sessionmaker[Session],
    ctx: Context,
    organizer: Principal,
    phone: str,
    activities: list[uuid.UUID],
    start: datetime,
) -> list[uuid.UUID]:
    """One pending paper-slip record (2 h) per activity."""
    ids = []
    with transaction(sessions) as s:
        for i, activity in enumerate(activities):
            data = OfflineRecordCreate(
                resident=phone,
                activity_id=activity,
                slip_no=f"R-{i}",
                started_at=start,
                ended_at=start + timedelta(hours=2),
            )
            ids.append(OfflineService(s, ctx).record(data, organizer).id)
    return ids


def test_parallel_approvals_never_cross_the_monthly_cap(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable,
    make_activity: Callable[..., uuid.UUID],
    staff: Callable[[str], Principal],
) -> None:
    """30 records of 20 points approved at once by 6 reviewers' threads → exactly 500."""
    resident = make_resident("并发测试", phone="13700000001")
    start = datetime(2026, 8, 3, 9, tzinfo=BUSINESS_TZ)
    activities = [make_activity(start + timedelta(minutes=i)) for i in range(30)]
    ids = slips(sessions, ctx, staff("organizer"), "13700000001", activities, start)
    reviewer = staff("reviewer")

    def approve(i: int) -> None:
        for record in ids[i::6]:
            with transaction(sessions) as s:
                OfflineService(s, ctx).decide(record, True, "核对无误", reviewer)

    assert not [r for r in race(6, approve) if isinstance(r, Exception)]
    with transaction(sessions) as s:
        assert LedgerService(s).balance(wallet_of(resident.id)) == 500
        awards = ScoringService(s).awards_of(ids)
    assert sum(a.awarded for a in awards.values()) == 500 and len(awards) == 30
    assert sum(a.cut for a in awards.values()) == 30 * 20 - 500


def test_one_record_approved_twice_at_once_credits_once(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable,
    make_activity: Callable[..., uuid.UUID],
    staff: Callable[[str], Principal],
) -> None:
    """Two reviewers approving the same slip in the same instant: one wins, one is told."""
    resident = make_resident("重复审核", phone="13700000002")
    start = datetime(2026, 8, 4, 9, tzinfo=BUSINESS_TZ)
    [record] = slips(
        sessions, ctx, staff("organizer"), "13700000002", [make_activity(start)], start
    )
    reviewer = staff("reviewer")

    def approve(_: int) -> str:
        with transaction(sessions) as s:
            return OfflineService(s, ctx).decide(record, True, "ok", reviewer).status

    results = race(4, approve)
    assert results.count("approved") == 1
    assert all(
        isinstance(r, DomainError) and r.code == "activities.not_pending_review"
        for r in results
        if r != "approved"
    )
    with transaction(sessions) as s:
        assert LedgerService(s).balance(wallet_of(resident.id)) == 20


def test_enrollment_never_exceeds_capacity(
    sessions: sessionmaker[Session],
    make_resident: Callable,
    make_activity: Callable[..., uuid.UUID],
) -> None:
    """20 residents enrol at once in an activity for 5 → 5 enrolled, 15 on the waitlist."""
    activity = make_activity(utcnow() + timedelta(days=2), capacity=5)
    residents = [
        make_resident(
            "居民" + "甲乙丙丁戊己庚辛壬癸"[i % 10] * (1 + i // 10), phone=f"1360000{i:04d}"
        )
        for i in range(20)
    ]

    def enrol(i: int) -> str:
        with transaction(sessions) as s:
            return ActivityService(s).enroll(activity, residents[i].id).status

    results = race(20, enrol)
    assert results.count(EnrollmentStatus.ENROLLED) == 5
    assert results.count(EnrollmentStatus.WAITLISTED) == 15
