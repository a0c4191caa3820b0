"""The policy simulator (政策模拟, POST /api/v1/insights/simulations): the current rules
replayed reproduce every award of the last twelve months (a property over generated small
cities), raising the monthly cap adds exactly what the cap cut, a district's administrator
simulates their own scope only, bad input is refused in zh-CN and en, nothing is written."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal, Role
from civicpoints.activities import (
    ActivityCreate,
    ActivityService,
    OfflineRecordCreate,
    OfflineService,
)
from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.identity import IdentityService, hash_password
from civicpoints.identity.models import Resident
from civicpoints.insights import SimulationCreate, Simulator
from civicpoints.kit.clock import BUSINESS_TZ, add_months, local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import Base, transaction
from civicpoints.kit.months import key_of, recent_months
from civicpoints.scoring import AwardRow

from .test_api import login

URL = "/api/v1/insights/simulations"
Maker = Callable[..., uuid.UUID]


def serve(
    sessions: sessionmaker[Session],
    ctx: Context,
    staff: Callable[[str], Principal],
    make_activity: Maker,
    people: list[Resident],
    months_ago: int,
    day: int,
    hours: float,
    category: str = "volunteer_service",
) -> None:
    """An activity `months_ago` months back on `day`, the people's paper slips approved."""
    first = add_months(local_date(utcnow()).replace(day=1), -months_ago)
    start = datetime.combine(first.replace(day=day), time(8), BUSINESS_TZ)
    if start >= utcnow() - timedelta(hours=hours + 1):  # early this month: yesterday instead
        start = datetime.combine(local_date(utcnow()) - timedelta(days=1), time(0), BUSINESS_TZ)
    activity = make_activity(start, hours=hours, category=category, capacity=100)
    organizer, reviewer = staff("organizer"), staff("reviewer")
    with transaction(sessions) as s:
        service = OfflineService(s, ctx)
        for r in people:
            record = service.record(
                OfflineRecordCreate(
                    resident=r.public_no,
                    activity_id=activity,
                    started_at=start,
                    ended_at=start + timedelta(hours=hours),
                    slip_no=f"S-{uuid.uuid4().hex[:12]}",
                ),
                organizer,
            )
            service.decide(record.id, True, "纸质签到单核对无误", reviewer)


def elsewhere(
    sessions: sessionmaker[Session], city: City, staff: Callable[[str], Principal]
) -> Maker:
    """`make_activity`, but in the second community (the same street's organizer runs it)."""

    def make(
        starts_at: datetime,
        hours: float = 2.0,
        category: str = "volunteer_service",
        capacity: int = 100,
    ) -> uuid.UUID:
        data = ActivityCreate(
            organization_id=city.committees[1].id,
            region_id=city.communities[1].id,
            title="河道巡查",
            category=category,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=hours),
            place_name="西湖断桥",
            geofence={"type": "circle", "lat": 30.259, "lon": 120.1388, "radius_m": 200},
            capacity=capacity,
            evidence="none",
        )
        with transaction(sessions) as s:
            return ActivityService(s).create(data, staff("organizer")).id

    return make  # fmt: skip


def awarded(sessions: sessionmaker[Session]) -> int:
    """Points actually issued by awards in the last twelve months (the ledger's awards)."""
    months = [key_of(m) for m in recent_months(local_date(utcnow()), 12)]
    with transaction(sessions) as s:
        stmt = select(func.coalesce(func.sum(AwardRow.awarded), 0)).where(
            AwardRow.month.between(months[0], months[-1])
        )
        return int(s.scalar(stmt) or 0)


def simulate(sessions: sessionmaker[Session], who: Principal, **changes: Any) -> Any:
    with transaction(sessions) as s:
        return Simulator(s).simulate(who, SimulationCreate(**changes), utcnow())


def figure(result: Any, key: str) -> Any:
    return next(f for f in result.figures if f.key == key)


events = st.lists(
    st.tuples(
        st.integers(0, 2),  # resident
        st.integers(0, 4),  # months ago
        st.integers(1, 26),  # day of the month
        st.sampled_from([0.4, 1.0, 2.5, 8.0, 12.0]),  # hours (0.4: under one 30-min block)
        st.sampled_from(["volunteer_service", "high_risk", "environmental"]),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=events)
def test_the_current_rules_replayed_reproduce_every_award(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    staff: Callable[[str], Principal],
    make_activity: Maker,
    make_resident: Callable[..., Resident],
    plan: list[tuple[int, int, int, float, str]],
) -> None:
    people = [make_resident(n) for n in ("张秀英", "李建国", "王芳")]
    for who, ago, day, hours, category in plan:
        serve(sessions, ctx, staff, make_activity, [people[who]], ago, day, hours, category)
    result = simulate(sessions, staff("admin"))
    assert result.reproduced == result.decisions > 0
    issued = figure(result, "points_issued")
    assert issued.current == issued.proposed == awarded(sessions)
    assert sum(m.current for m in result.months) == issued.current
    assert all(f.difference in (0, 0.0, None) for f in result.figures)


def test_raising_the_cap_adds_only_what_the_cap_cut(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    staff: Callable[[str], Principal],
    make_activity: Maker,
    make_resident: Callable[..., Resident],
) -> None:
    # 张女士: 垃圾分类指导 twice a week, 2 h each (40 points a week, under the 500 cap);
    # 李先生: four 8-hour high-risk shifts in the same month (640 points, 140 over the cap).
    zhang, li = make_resident("张秀英"), make_resident("李建国")
    for day in (2, 5, 9, 12, 16, 19, 23, 26):
        serve(sessions, ctx, staff, make_activity, [zhang], 1, day, 2.0)
    for day in (3, 10, 17, 24):
        serve(sessions, ctx, staff, make_activity, [li], 1, day, 8.0, "high_risk")
    admin = staff("admin")
    assert awarded(sessions) == 8 * 20 + 500
    raised = simulate(sessions, admin, monthly_cap=800)
    issued = figure(raised, "points_issued")
    assert (issued.current, issued.proposed, issued.difference) == (660, 800, 140)
    assert figure(raised, "cost").difference == 140 * raised.fen_per_point
    month = key_of(add_months(local_date(utcnow()).replace(day=1), -1))
    by_month = {m.month: (m.current, m.proposed) for m in raised.months}
    assert by_month[month] == (660, 800)
    # 张女士 was never at the cap: a higher cap alone gives her nothing; her rate does.
    assert figure(simulate(sessions, admin, monthly_cap=1_000), "points_issued").proposed == 800
    rate = simulate(sessions, admin, rates={"volunteer_service": 12})
    assert figure(rate, "points_issued").difference == 8 * 2 * 2  # 2 more an hour, 16 h
    lower = simulate(sessions, admin, monthly_cap=100)
    assert figure(lower, "points_issued").proposed == 100 + 100  # her 160 are cut too
    # Expiry after one month: last month's points would run out (unspent share) only then.
    short = simulate(sessions, admin, expiry_months=1)
    assert figure(short, "outstanding").proposed <= figure(short, "outstanding").current


def test_a_regional_weight_applies_in_that_region_only(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    staff: Callable[[str], Principal],
    make_activity: Maker,
    make_resident: Callable[..., Resident],
) -> None:
    zhang = make_resident("张秀英")
    serve(sessions, ctx, staff, make_activity, [zhang], 1, 4, 2.0)  # 20 points
    admin = staff("admin")
    here = simulate(
        sessions, admin, weights=[{"region_id": city.communities[0].id, "percent": 150}]
    )
    assert figure(here, "points_issued").difference == 10
    there = simulate(
        sessions, admin, weights=[{"region_id": city.communities[1].id, "percent": 150}]
    )
    assert figure(there, "points_issued").difference == 0


def test_a_cap_shared_with_decisions_outside_the_scope_is_counted(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    staff: Callable[[str], Principal],
    make_activity: Maker,
    make_resident: Callable[..., Resident],
) -> None:
    # 李先生 earns 400 in the first community (two 10-hour high-risk shifts), then 200 in the
    # second: only 100 of it paid, the month's cap of 500 shared.
    li = make_resident("李建国")
    for day in (3, 5):
        serve(sessions, ctx, staff, make_activity, [li], 1, day, 10.0, "high_risk")
    other = elsewhere(sessions, city, staff)
    serve(sessions, ctx, staff, other, [li], 1, 20, 10.0, "high_risk")
    with transaction(sessions) as s:
        identity = IdentityService(s, ctx)
        member = identity.add_staff("c2_admin", "社区管理员 吴主任", None, password_hash="x")
        identity.grant(member, Role.ADMIN, region_id=city.communities[1].id)
        community_admin = identity.staff_principal(member)
    mine = simulate(sessions, community_admin)
    assert (mine.decisions, mine.reproduced) == (1, 1)
    assert figure(mine, "points_issued").current == 100
    raised = simulate(sessions, community_admin, monthly_cap=800)
    assert figure(raised, "points_issued").proposed == 200  # only the scope's own decision
    # The first community's 400 stay as they were (not 600): 300 of the 400 left are paid.
    both = simulate(sessions, community_admin, monthly_cap=800, rates={"high_risk": 30})
    assert figure(both, "points_issued").proposed == 300


@pytest.fixture
def street_admin(sessions: sessionmaker[Session], ctx: Context, city: City) -> Principal:
    """An administrator of the second street only."""
    with transaction(sessions) as s:
        identity = IdentityService(s, ctx)
        member = identity.add_staff(
            "street2_admin",
            "街道管理员 周主任",
            None,
            password_hash=hash_password(DEMO_STAFF_PASSWORD),
        )
        identity.grant(member, Role.ADMIN, region_id=city.streets[1].id)
        return identity.staff_principal(member)


def test_another_streets_administrator_sees_only_their_own_scope(
    client: TestClient,
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    staff: Callable[[str], Principal],
    make_activity: Maker,
    make_resident: Callable[..., Resident],
    street_admin: Principal,
) -> None:
    zhang = make_resident("张秀英")  # serves in the first street's community
    serve(sessions, ctx, staff, make_activity, [zhang], 1, 4, 2.0)
    headers = login(client, "street2_admin")
    mine = client.post(URL, json={"monthly_cap": 800}, headers=headers)
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["region"]["id"] == str(city.streets[1].id)
    assert body["decisions"] == 0
    assert all(m["current"] == 0 for m in body["months"])
    for other in (city.streets[0].id, city.city.id, uuid.uuid4()):  # scope before existence
        r = client.post(URL, json={"region_id": str(other)}, headers=headers)
        assert r.status_code == 403, r.text
    weight = {"weights": [{"region_id": str(city.communities[0].id), "percent": 120}]}
    assert client.post(URL, json=weight, headers=headers).status_code == 404
    city_admin = login(client, "admin")
    whole = client.post(URL, json={"rates": {"volunteer_service": 12}}, headers=city_admin).json()
    assert whole["decisions"] == 1 and whole["figures"][0]["difference"] == 4
    assert client.post(URL, json={}, headers=login(client, "auditor")).status_code == 403
    assert client.post(URL, json={}, headers=login(client, "organizer")).status_code == 403
    assert client.post(URL, json={}).status_code == 401


@pytest.mark.parametrize(
    ("body", "zh", "en"),
    [
        ({"monthly_cap": -1}, "须不小于", "greater than or equal"),
        ({"monthly_cap": 10_000_001}, "须不大于", "less than or equal"),
        ({"expiry_months": 0}, "须不小于", "greater than or equal"),
        ({"expiry_months": 61}, "须不大于", "less than or equal"),
        ({"rates": {"volunteer_service": 0}}, "须不小于", "greater than or equal"),
        ({"rates": {"knitting": 5}}, "", ""),
        (
            {"weights": [{"region_id": str(uuid.UUID(int=1)), "percent": 9}]},
            "须不小于",
            "greater than or equal",
        ),
        (
            {"prices": [{"item_id": str(uuid.UUID(int=1)), "price_points": 0}]},
            "须不小于",
            "greater than or equal",
        ),
        ({"monthly_cap": "600"}, "", ""),
        ({"surprise": 1}, "", ""),
    ],
)
def test_bad_input_is_refused_in_both_languages(
    client: TestClient, body: dict[str, Any], zh: str, en: str
) -> None:
    headers = login(client, "admin")
    r = client.post(URL, json=body, headers=headers | {"Accept-Language": "zh-CN"})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert "以下内容有误" in r.text and zh in r.text
    assert "invalid fields" in r.text and en in r.text, problem


def test_too_many_or_repeated_changes_are_refused(client: TestClient, city: City) -> None:
    headers = login(client, "admin") | {"Accept-Language": "en"}
    weights = [{"region_id": str(r.id), "percent": 110} for r in city.communities[:2]]
    twice = client.post(URL, json={"weights": [weights[0], weights[0]]}, headers=headers)
    assert twice.status_code == 422 and "only once" in twice.text
    many = {
        "rates": {c: 11 for c in ("volunteer_service", "high_risk", "environmental")},
        "monthly_cap": 600,
        "expiry_months": 6,
        "weights": [{"region_id": str(r.id), "percent": 110} for r in city.communities[:10]],
        "prices": [{"item_id": str(uuid.UUID(int=i + 1)), "price_points": 9} for i in range(10)],
    }
    r = client.post(URL, json=many, headers=headers)
    assert r.status_code == 422 and "at most 20 changes" in r.text
    missing = {"prices": [{"item_id": str(uuid.UUID(int=7)), "price_points": 9}]}
    assert client.post(URL, json=missing, headers=headers).status_code == 404


def counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Rows in every table of the schema."""
    with transaction(sessions) as s:
        return {
            t.name: int(s.scalar(select(func.count()).select_from(t)) or 0)
            for t in Base.metadata.sorted_tables
        }


def test_a_simulation_writes_nothing(
    client: TestClient,
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    staff: Callable[[str], Principal],
    make_activity: Maker,
    make_resident: Callable[..., Resident],
) -> None:
    serve(sessions, ctx, staff, make_activity, [make_resident("张秀英")], 1, 4, 2.0)
    headers = login(client, "admin")
    before = counts(sessions)
    body = {"monthly_cap": 800, "expiry_months": 6, "rates": {"high_risk": 30}}
    assert client.post(URL, json=body, headers=headers).status_code == 200
    assert client.post(URL, json={"monthly_cap": -5}, headers=headers).status_code == 422
    after = counts(sessions)
    # The audit log keeps every staff POST (who asked what, docs/audit.md): one line each.
    assert after.pop("audit_entry") == before.pop("audit_entry") + 2
    assert after == before
