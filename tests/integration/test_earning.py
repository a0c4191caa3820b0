"""The earning loop from the seed, through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from civicpoints.activities.records import RecordService
from civicpoints.activities.service import ActivityService
from civicpoints.hours.service import HoursService
from civicpoints.kit.clock import BUSINESS_TZ, add_months, local_date
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.ledger import wallet_of
from civicpoints.ledger.service import LedgerService

from .conftest import WEST_LAKE

Maker = Callable[..., uuid.UUID]


def attend(
    sessions: sessionmaker[Session],
    ctx: Context,
    activity_id: uuid.UUID,
    resident_id: uuid.UUID,
    start: datetime,
    end: datetime,
) -> uuid.UUID:
    """Enrol, check in at the start and out at the end, on site."""
    with transaction(sessions) as s:
        ActivityService(s).enroll(activity_id, resident_id, now=start - timedelta(days=1))
        records = RecordService(s, ctx)
        records.check_in(activity_id, resident_id, *WEST_LAKE, now=start)
        return records.check_out(activity_id, resident_id, *WEST_LAKE, now=end, actor="test").id


def test_zhang_garbage_sorting_twice_a_week_for_12_weeks(
    sessions: sessionmaker[Session], ctx: Context, make_resident: Callable, make_activity: Maker
) -> None:
    """张女士: 2 × 2 h a week for 12 weeks → 40 a week, 480 points, 48 hours, lots per activity."""
    zhang = make_resident("张秀英")
    first = datetime(2026, 3, 2, 9, 0, tzinfo=BUSINESS_TZ)  # a Monday
    weekly = []
    for week in range(12):
        for day in (0, 3):  # Monday and Thursday
            start = first + timedelta(weeks=week, days=day)
            activity = make_activity(start, hours=2)
            attend(sessions, ctx, activity, zhang.id, start, start + timedelta(hours=2))
        with transaction(sessions) as s:
            weekly.append(LedgerService(s).balance(wallet_of(zhang.id)))
    assert [b - a for a, b in zip([0, *weekly], weekly, strict=False)] == [40] * 12
    with transaction(sessions) as s:
        assert LedgerService(s).balance(wallet_of(zhang.id)) == 480
        assert HoursService(s).summary(zhang.id).total_minutes == 48 * 60
        lots = LedgerService(s).lots(wallet_of(zhang.id))
    assert len(lots) == 24 and all(lot.amount == 20 for lot in lots)
    for lot in lots:
        earned = local_date(lot.earned_at)
        expires_local = lot.expires_at.astimezone(BUSINESS_TZ)
        assert expires_local.date() == add_months(earned, 12) + timedelta(days=1)
        assert (expires_local.hour, expires_local.minute) == (0, 0)


def test_sixty_hours_in_a_month_earn_exactly_the_cap(
    sessions: sessionmaker[Session], ctx: Context, make_resident: Callable, make_activity: Maker
) -> None:
    """60 h of basic volunteering in one month → exactly 500; the crossing record shows the cut."""
    resident = make_resident("王建国")
    ids = []
    for day in range(20):  # 20 sessions × 3 h = 60 h in April
        start = datetime(2026, 4, 1 + day, 8, 0, tzinfo=BUSINESS_TZ)
        ids.append(
            attend(
                sessions,
                ctx,
                make_activity(start, hours=3),
                resident.id,
                start,
                start + timedelta(hours=3),
            )
        )
    with transaction(sessions) as s:
        assert LedgerService(s).balance(wallet_of(resident.id)) == 500
        assert HoursService(s).summary(resident.id).total_minutes == 60 * 60
        from civicpoints.scoring.service import ScoringService

        awards = [ScoringService(s).award_of(i) for i in ids]
    assert [a.awarded for a in awards if a] == [30] * 16 + [20, 0, 0, 0]
    crossing = awards[16]
    assert crossing is not None and crossing.cut == 10
    assert "20 left this month → 20 awarded, 10 over the cap" in crossing.explanation["en"]


def test_activity_ending_2330_on_last_day_counts_in_that_month(
    sessions: sessionmaker[Session], ctx: Context, make_resident: Callable, make_activity: Maker
) -> None:
    """An activity ending 23:30 Beijing time on 31 March counts in March (15:30 UTC)."""
    resident = make_resident("夜班志愿者")
    start = datetime(2026, 3, 31, 21, 30, tzinfo=BUSINESS_TZ)
    record = attend(
        sessions, ctx, make_activity(start, hours=2), resident.id, start, start + timedelta(hours=2)
    )
    with transaction(sessions) as s:
        from civicpoints.scoring.service import ScoringService

        award = ScoringService(s).award_of(record)
    assert award is not None and award.month == "2026-03" and award.awarded == 20
    assert start.astimezone(UTC).month == 3


def test_high_risk_duty_earns_twenty_per_hour(
    sessions: sessionmaker[Session], ctx: Context, make_resident: Callable, make_activity: Maker
) -> None:
    """Epidemic-control duty (high risk): 3 h → 60 points."""
    resident = make_resident("防疫值守")
    start = datetime(2026, 5, 6, 8, 0, tzinfo=BUSINESS_TZ)
    activity = make_activity(start, hours=3, category="high_risk", title="疫情防控值守")
    attend(sessions, ctx, activity, resident.id, start, start + timedelta(hours=3))
    with transaction(sessions) as s:
        assert LedgerService(s).balance(wallet_of(resident.id)) == 60


def test_unverified_resident_earns_once_verified(
    sessions: sessionmaker[Session], ctx: Context, make_resident: Callable, make_activity: Maker
) -> None:
    """Unverified: hours now, points only after real-name verification."""
    resident = make_resident("未认证", verified=False)
    start = datetime(2026, 5, 7, 8, 0, tzinfo=BUSINESS_TZ)
    attend(sessions, ctx, make_activity(start), resident.id, start, start + timedelta(hours=2))
    with transaction(sessions) as s:
        assert LedgerService(s).balance(wallet_of(resident.id)) == 0
        assert HoursService(s).summary(resident.id).total_minutes == 120
    with transaction(sessions) as s:
        from civicpoints.identity.service import IdentityService

        # verification alone releases them: activities subscribes to identity's hook
        IdentityService(s, ctx).verify(IdentityService(s, ctx).resident(resident.id), "")
    with transaction(sessions) as s:
        assert LedgerService(s).balance(wallet_of(resident.id)) == 20
