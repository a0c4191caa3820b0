"""The review queue is limited to the reviewer's scope in SQL, so every page is complete."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal, Role
from civicpoints.activities.models import Activity, Participation
from civicpoints.activities.offline import OfflineService
from civicpoints.cli.city import City
from civicpoints.identity.models import Resident
from civicpoints.identity.service import IdentityService
from civicpoints.kit.clock import BUSINESS_TZ
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction

PAST = datetime(2026, 11, 2, 9, 0, tzinfo=BUSINESS_TZ)
FOREIGN = 224


def pending(s: Session, city: City, community: int, resident: Resident, n: int) -> list[uuid.UUID]:
    """`n` paper slips waiting for review, each on its own session in `community`."""
    ids = []
    for _ in range(n):
        activity = Activity(
            organization_id=city.committees[community].id,
            region_id=city.communities[community].id,
            title="旧单据",
            category="volunteer_service",
            status="published",
            starts_at=PAST,
            ends_at=PAST + timedelta(hours=2),
            place_name="社区服务中心",
            geofence={"type": "circle", "lat": 30.0, "lon": 120.0, "radius_m": 100},
            capacity=10,
            created_by=city.staff["admin"].id,
        )
        s.add(activity)
        s.flush()
        record = Participation(
            activity_id=activity.id,
            resident_id=resident.id,
            source="offline",
            status="pending_review",
            started_at=PAST,
            ended_at=PAST + timedelta(hours=2),
            flags=[],
        )
        s.add(record)
        s.flush()
        ids.append(record.id)
    return ids


def page_through(
    sessions: sessionmaker[Session], ctx: Context, who: Principal, limit: int
) -> list[uuid.UUID]:
    """Every id the queue shows, following the cursor page by page."""
    seen: list[uuid.UUID] = []
    after = None
    while True:
        with transaction(sessions) as s:
            page = [r.id for r in OfflineService(s, ctx).queue(who, limit, after)]
        seen += page
        if len(page) < limit:
            return seen
        after = page[-1]


def test_own_new_record_is_on_page_one_behind_224_foreign_ones(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    make_resident: Callable[..., Resident],
    staff: Callable[[str], Principal],
) -> None:
    """Beishan's reviewer: 224 older Shangcheng records first, their own newest on page one."""
    resident = make_resident("排队测试")
    with transaction(sessions) as s:
        older_own = pending(s, city, 0, resident, 2)
    with transaction(sessions) as s:
        foreign = pending(s, city, 12, resident, FOREIGN)  # Qingbo Street, another district
    with transaction(sessions) as s:
        newest_own = pending(s, city, 1, resident, 1)
    reviewer = staff("reviewer")
    with transaction(sessions) as s:
        first_page = [r.id for r in OfflineService(s, ctx).queue(reviewer, 50, None)]
    assert first_page == [*newest_own, *reversed(older_own)]
    for limit in (1, 2, 50):
        assert page_through(sessions, ctx, reviewer, limit) == first_page
    everything = page_through(sessions, ctx, staff("admin"), 100)
    assert len(everything) == len(set(everything)) == FOREIGN + 3
    assert everything[0] == newest_own[0] and set(foreign) < set(everything)
    assert page_through(sessions, ctx, staff("mz_reviewer"), 50) == []  # a department's reviewer
    with transaction(sessions) as s:  # a reviewer of one residents' committee, by organization
        identity = IdentityService(s, ctx)
        member = identity.add_staff("qingbo_jw", "清波居委会审核员", None, password_hash="x")
        identity.grant(member, Role.REVIEWER, organization_id=city.committees[12].id)
        committee = identity.staff_principal(member)
    assert page_through(sessions, ctx, committee, 100) == list(reversed(foreign))
