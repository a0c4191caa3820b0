"""The demo's volunteer team: 北山河道清洁志愿队 of the first community. Its captain and members
cleaned the lakeside path and the stream mouth for four hours on a Saturday
morning; the organizer entered the paper sign-in sheet and the reviewer approved it, so every
member has the hours and the team pool the points (10 an hour, up to 2,000 for 50 people); the
民政专干 paid the 社区活动室装修基金 from the pool. A second clean-up is open for the members."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities import (
    Activity,
    ActivityCreate,
    ActivityService,
    OfflineRecordCreate,
    OfflineService,
)
from civicpoints.cli.city import City
from civicpoints.community import TeamService
from civicpoints.identity import Resident, Verification
from civicpoints.kit.clock import BUSINESS_TZ, local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction

TEAM = "北山河道清洁志愿队"
ABOUT = "每月第一个周六清理北山街沿湖步道和沿山河口的垃圾与漂浮物"
PLACE = "北山街沿湖步道—沿山河口"
AT = (30.2603, 120.1402)
MEMBERS = 50
DAYS_AGO = 6
HOURS = 4
Free = Callable[[uuid.UUID, datetime, datetime], bool]


def load_teams(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    staff: dict[str, Principal],
    pool: list[uuid.UUID],
    free: Free,
    book: Callable[[uuid.UUID, datetime, datetime], None],
) -> uuid.UUID | None:
    """The team, its past clean-up (paper sheet, approved), the room fund paid, the next one.

    Members come from `pool` (not the named residents, whose stories have their own numbers);
    `free(resident, start, end)` says whether one is not serving elsewhere then (nobody is in
    two places at once), and `book` notes that they are."""
    home = city.communities[0].id
    start = datetime.combine(local_date(utcnow()) - timedelta(days=DAYS_AGO), time(8), BUSINESS_TZ)
    end = start + timedelta(hours=HOURS)
    with transaction(sessions) as s:
        people = _members(s, home, pool, start, end, free)
    if not people:
        return None
    for person in people:
        book(person.id, start, end)
    organizer, reviewer, civil = staff["organizer"], staff["reviewer"], staff["civil"]
    with transaction(sessions) as s:
        service = TeamService(s)
        team = service.create(organizer, home, TEAM, ABOUT, people[min(1, len(people) - 1)].id)
        service.add_members(organizer, team.id, [p.id for p in people])
        past = _publish(s, city, organizer, "沿湖步道与河口清洁（志愿队积分挑战赛）", start)
        service.make_challenge(organizer, team.id, past.id)
        team_id, past_id = team.id, past.id
    for n, person in enumerate(people, start=1):
        with transaction(sessions) as s:
            desk = OfflineService(s, ctx)
            slip = OfflineRecordCreate(
                resident=person.public_no, activity_id=past_id, started_at=start,
                ended_at=end, slip_no=f"HD{start:%Y%m%d}-{n:03d}",
                note="志愿队纸质签到表 / the team's paper sign-in sheet",
            )  # fmt: skip
            record = desk.record(slip, organizer)
            desk.decide(record.id, True, "签到表与现场照片核对无误 / sheet checked", reviewer)
    with transaction(sessions) as s:
        service = TeamService(s)
        units = service.pool(team_id) // 100
        item = next((i for i in service.items_for(service.staff_team(civil, team_id))
                     if i.code == "COMMUNITY-FUND"), None)  # fmt: skip
        if item is not None and units > 0:
            service.redeem(civil, team_id, item.id, units, "社区活动室装修（地面与照明）",
                           "demo-room-fund")  # fmt: skip
    with transaction(sessions) as s:
        nxt = datetime.combine(local_date(utcnow()) + timedelta(days=8), time(8), BUSINESS_TZ)
        upcoming = _publish(s, city, organizer, "沿湖步道与河口清洁（第二次积分挑战赛）", nxt)
        TeamService(s).make_challenge(organizer, team_id, upcoming.id)
    return team_id


def _members(
    s: Session,
    community: uuid.UUID,
    ids: list[uuid.UUID],
    start: datetime,
    end: datetime,
    free: Free,
) -> list[Resident]:
    """Up to MEMBERS residents of the community free then, verified ones first."""
    rows = {r.id: r for r in s.scalars(select(Resident).where(Resident.community_id == community))}
    free_ids = [rid for rid in dict.fromkeys(ids) if rid in rows and free(rid, start, end)]
    # verified ones first: their points reach the pool at once (the others' once verified)
    free_ids.sort(key=lambda rid: rows[rid].verification != Verification.VERIFIED)
    return [rows[rid] for rid in free_ids[:MEMBERS]]


def _publish(s: Session, city: City, by: Principal, title: str, start: datetime) -> Activity:
    """A four-hour clean-up of the first community, run by its residents' committee."""
    fence = {"type": "circle", "lat": AT[0], "lon": AT[1], "radius_m": 400}
    data = ActivityCreate(
        organization_id=city.committees[0].id, region_id=city.communities[0].id, title=title,
        description=f"{TEAM}的积分挑战赛：{ABOUT}。积分计入团队积分池，服务时长计入个人。",
        category="volunteer_service", starts_at=start, ends_at=start + timedelta(hours=HOURS),
        place_name=PLACE, geofence=fence, capacity=60, evidence="none",
    )  # fmt: skip
    return ActivityService(s).create(data, by)
