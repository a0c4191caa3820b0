"""Property: whatever events arrive between runs (service recorded and paid, clawed back,
restored, points expiring; served in this month or earlier ones), the figures with the live
delta, the figures after a run, and the tables after a run all equal a full rebuild — for the
city, for each resident's district and street; the people aggregate of the city and the
districts says what counting the memberships themselves says, and the figures of the city,
the districts and the street (their own rows) what summing their communities' rows says."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.hours import HoursService
from civicpoints.identity.models import Resident
from civicpoints.insights import InsightsService, Rollup
from civicpoints.insights.models import Figure
from civicpoints.insights.repository import InsightsRepository
from civicpoints.insights.service import month_end
from civicpoints.insights.tally import CUMULATIVE
from civicpoints.kit.clock import local_date, start_of_local_day, utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.months import key_of, recent_months
from civicpoints.ledger import LedgerService, Movement, wallet_of
from civicpoints.regions import Region

from .test_insights import FIRST, THIS, figures, run, tables

serve = st.tuples(st.just("serve"), st.integers(0, 2), st.integers(0, 70), st.integers(30, 240))
fix = st.tuples(st.sampled_from(["claw", "restore"]), st.integers(0, 30))
ops = st.lists(
    st.one_of(serve, fix, st.just(("expire",)), st.just(("run",))), min_size=1, max_size=12
)


def _serve(s: Session, resident: Resident, days_ago: int, minutes: int, n: int) -> uuid.UUID:
    """A participation served `days_ago`: its hours, and its points (10 an hour)."""
    served = local_date(utcnow()) - timedelta(days=days_ago)
    record = uuid.uuid4()
    HoursService(s).record(resident.id, record, "volunteer_service", minutes, served)
    at = start_of_local_day(served) + timedelta(hours=10)
    move = Movement("award", minutes // 6, "test", "服务 / service", "t", at, f"p:{record}")
    LedgerService(s).credit(wallet_of(resident.id), move, at + timedelta(days=365))
    return record


def spread(s: Session, city: City, people: list[Resident]) -> list[Region]:
    """Move the second resident to another district, the third to another street of the
    first's district (before any service); the regions whose figures are compared: the
    city, both districts and the first's street."""
    regions = InsightsService(s).regions

    def up(region: Region) -> Region:
        assert region.parent_id is not None
        return regions.get(region.parent_id)

    home = city.communities[0]
    street, district = up(home), up(up(home))
    other = next(c for c in city.communities if up(up(c)).id != district.id)
    near = next(c for c in city.communities if up(up(c)).id == district.id and up(c) != street)
    for resident, community in ((people[1], other), (people[2], near)):
        row = s.get(Resident, resident.id)
        assert row is not None
        row.community_id = community.id
    return [city.city, district, up(up(other)), street]


def counted_both_ways(s: Session, region: Region) -> None:
    """After a run (no live delta): a city's or district's people from the aggregate equal
    the count over the memberships themselves (the queries streets still use)."""
    months, on = [key_of(FIRST), key_of(THIS)], month_end(THIS)
    repo = InsightsRepository(s)
    people = repo.people(region.id, months[0], months[-1]).people(months[-1])
    live = repo.participants(region, months[0], months[-1], [])
    assert {m: (people.participants[m], people.new[m]) for m in months} == {
        m: live.get(m, (0, 0)) for m in months
    }
    assert +people.cells == +Counter(repo.cells(region, months[0], months[-1], [], on))


def summed_both_ways(s: Session, region: Region) -> None:
    """After a run (no live delta): a region's figures and its sums up to the last month
    equal the sums of its communities' rows (the city-wide id's too, at the root: what the
    figures of every region were summed from before `insights_region_figure`), and the
    residents registered equal the count of the region's residents."""
    first, last = key_of(FIRST), key_of(THIS)
    inside = InsightsService(s).inside(region)
    months: Counter[tuple[str, str, str]] = Counter()
    upto: Counter[tuple[str, str]] = Counter()
    for f in s.scalars(select(Figure).where(Figure.community_id.in_(inside))):
        if first <= f.month <= last:
            months[(f.month, f.figure, f.key)] += f.value
        if f.figure in CUMULATIVE and f.month <= last:
            upto[(f.figure, f.key)] += f.value
    repo = InsightsRepository(s)
    nonzero = lambda c: {k: v for k, v in c.items() if v}  # noqa: E731
    assert nonzero(repo.figures(region, first, last)) == nonzero(months)
    assert nonzero(repo.upto(region, last)) == nonzero(upto)
    residents = select(func.count()).where(Resident.community_id.in_(inside))
    assert upto[("registered", "residents")] == s.scalar(residents)


def raw(sessions: sessionmaker[Session], regions: list[Region]) -> list[Any]:
    """Each region's people (unsuppressed: three residents are under 10) for last month and
    this one, and its residents registered, with the live delta."""
    months, out = [key_of(FIRST), key_of(THIS)], []
    with transaction(sessions) as s:
        service, delta = InsightsService(s), Rollup(s).live(utcnow())
        for region in regions:
            inside = service.inside(region)
            p = service.people(region, months, delta, inside, month_end(THIS))
            sums = service._sums(region, months, delta, inside)
            registered = sums[("upto", "registered", "residents")]
            out.append((+p.participants, +p.new, +p.cells, registered))
    return out


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=ops)
def test_any_events_between_runs_equal_a_rebuild(
    sessions: sessionmaker[Session],
    city: City,
    make_resident: Callable[..., Resident],
    fund: Callable[..., None],
    steps: list[tuple[Any, ...]],
) -> None:
    people = [make_resident(name) for name in ("张秀英", "李建国", "王芳")]
    with transaction(sessions) as s:
        regions = spread(s, city, people)
    records: list[uuid.UUID] = []
    for op in steps:
        if op[0] == "run":
            run(sessions)
        elif op[0] == "serve":
            with transaction(sessions) as s:
                records.append(_serve(s, people[op[1]], op[2], op[3], len(records)))
        elif op[0] == "expire":
            fund(people[0].id, 7, days=-1)
            with transaction(sessions) as s:
                LedgerService(s).expire_due(utcnow(), batch=100)
        elif records:
            record = records[op[1] % len(records)]
            with transaction(sessions) as s:
                hours = HoursService(s)
                (hours.correct if op[0] == "claw" else hours.uncorrect)(record, "核查", "t")
    live, live_people = figures(sessions, city), raw(sessions, regions)
    run(sessions)
    incremental, after_run = tables(sessions), figures(sessions, city)
    assert raw(sessions, regions) == live_people
    with transaction(sessions) as s:
        for region in regions[:3]:  # the city and the two districts
            counted_both_ways(s, region)
        for region in regions:
            summed_both_ways(s, region)
    with transaction(sessions) as s:
        Rollup(s).rebuild(utcnow())
    assert tables(sessions) == incremental
    assert figures(sessions, city) == after_run == live
    assert raw(sessions, regions) == live_people
    months = recent_months(local_date(utcnow()), 2)  # the oracle: the domains' own sums
    with transaction(sessions) as s:
        flows = LedgerService(s).flows_by_month(months)
        minutes = HoursService(s).minutes_by_month(months)
    got = {m["month"]: m for m in live["months"]}
    for f in flows:
        p = got[f.month]["points"]
        assert (p["issued"], p["expired"], p["clawed_back"]) == (f.issued, f.expired, f.clawed_back)
        assert got[f.month]["hours"] == round(minutes[f.month] / 60, 1)
    assert live["totals"]["outstanding"] == flows[-1].outstanding
