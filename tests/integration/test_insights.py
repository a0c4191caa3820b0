"""Insights (issue 13): the incremental rollup equals a full recomputation after runs with
events in between (approvals, a redemption, a clawback, an expiry, a donation), the live
delta fills the gap before the next run, the figures agree with the ledger's and the hours
register's own sums; the 50-resident river clean-up: 50 × 4 h × 10 pts/h = 2,000 points."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities import FraudDesk, OfflineRecordCreate, OfflineService
from civicpoints.cli.city import City
from civicpoints.community import DonationService
from civicpoints.hours import HoursService
from civicpoints.identity.models import Resident
from civicpoints.insights import InsightsService, Rollup
from civicpoints.insights.errors import RegionUnknown
from civicpoints.insights.models import Figure, Member, PeopleCell, RegionFigure
from civicpoints.kit.clock import BUSINESS_TZ, local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.months import key_of, last_full_month, recent_months
from civicpoints.ledger import HoldRequest, HoldService, LedgerService, Resolution, wallet_of

Maker = Callable[..., uuid.UUID]
FIRST = last_full_month(local_date(utcnow()))
THIS = local_date(utcnow()).replace(day=1)
TEN = "甲乙丙丁戊己庚辛壬癸"
VOLATILE = {"generated_at", "live_rows", "rolled_up_to"}


def slips(
    sessions: sessionmaker[Session],
    ctx: Context,
    staff: Callable[[str], Principal],
    activity: uuid.UUID,
    start: datetime,
    people: list[Resident],
) -> list[uuid.UUID]:
    """Paper slips of the river clean-up (4 h each), waiting for review."""
    organizer = staff("organizer")
    with transaction(sessions) as s:
        service = OfflineService(s, ctx)
        return [
            service.record(
                OfflineRecordCreate(
                    resident=r.public_no,
                    activity_id=activity,
                    started_at=start,
                    ended_at=start + timedelta(hours=4),
                    slip_no=f"RIVER-{r.public_no}",
                ),
                organizer,
            ).id
            for r in people
        ]


def approve(
    sessions: sessionmaker[Session], ctx: Context, reviewer: Principal, ids: list[uuid.UUID]
) -> None:
    """The reviewer approves the slips (10 points an hour)."""
    with transaction(sessions) as s:
        for record in ids:
            OfflineService(s, ctx).decide(record, True, "纸质签到单核对无误", reviewer)


def run(sessions: sessionmaker[Session]) -> dict[str, int]:
    """One run of the rollup job."""
    with transaction(sessions) as s:
        return Rollup(s).run(utcnow())


def tables(
    sessions: sessionmaker[Session],
) -> tuple[dict[Any, int], dict[Any, int], dict[Any, int], dict[Any, int]]:
    """The rollup's non-zero figures, memberships, people aggregate cells (a cell that
    comes to zero is deleted, so the aggregate's zeros count as a difference) and non-zero
    figures of cities, districts and streets."""
    with transaction(sessions) as s:
        figures = {
            (f.community_id, f.month, f.figure, f.key): f.value
            for f in s.scalars(select(Figure))
            if f.value
        }
        members = {
            (m.community_id, m.month, m.resident_id): m.n for m in s.scalars(select(Member)) if m.n
        }
        people = {
            (p.region_id, p.month, p.prev, p.is_first, p.band, p.band_change, p.sex): p.n
            for p in s.scalars(select(PeopleCell))
        }
        regions = {
            (r.region_id, r.month, r.figure, r.key): r.value
            for r in s.scalars(select(RegionFigure))
            if r.value
        }
    return figures, members, people, regions


def figures(sessions: sessionmaker[Session], city: City, region: Any = None) -> dict[str, Any]:
    """The city's figures for last month and this one, without the volatile fields."""
    with transaction(sessions) as s:
        read = InsightsService(s).figures(region or city.city, FIRST, THIS, utcnow())
    return read.model_dump(mode="json", exclude=VOLATILE)


def river_clean_up(
    sessions: sessionmaker[Session],
    ctx: Context,
    staff: Callable[[str], Principal],
    make_activity: Maker,
    make_resident: Callable[..., Resident],
) -> tuple[list[Resident], list[uuid.UUID]]:
    """50 residents (张女士 first) at last month's river clean-up, slips entered."""
    people = [make_resident("张秀英")] + [
        make_resident(f"居民{TEN[i // 10]}{TEN[i % 10]}") for i in range(49)
    ]
    start = datetime.combine(FIRST.replace(day=3), time(8), BUSINESS_TZ)
    activity = make_activity(start, hours=4, title="钱塘江畔净滩", capacity=100)
    return people, slips(sessions, ctx, staff, activity, start, people)


def test_incremental_rollup_equals_a_full_recomputation(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    staff: Callable[[str], Principal],
    make_activity: Maker,
    make_resident: Callable[..., Resident],
    fund: Callable[..., None],
) -> None:
    people, records = river_clean_up(sessions, ctx, staff, make_activity, make_resident)
    zhang, reviewer = people[0], staff("reviewer")
    approve(sessions, ctx, reviewer, records[:25])
    assert run(sessions)["hours"] == 25  # run 1
    approve(sessions, ctx, reviewer, records[25:])
    with transaction(sessions) as s:  # 张女士 redeems 30 of her 40 points (hold, then post)
        holds = HoldService(s)
        req = HoldRequest(
            wallet_of(zhang.id),
            30,
            "redemption:t",
            "兑换",
            "t",
            "h1",
            utcnow() + timedelta(hours=1),
        )
        hold = holds.place(req)
        holds.post(hold.bucket, hold.id, Resolution("核销", "t"))
    assert run(sessions)["hours"] == 25  # run 2: only the new rows
    with transaction(sessions) as s:  # the last slip was found false: clawed back
        FraudDesk(s, ctx).claw_back(records[-1], "照片系翻拍", reviewer)
    fund(people[1].id, 30, days=-1)  # a lot that has already ended, and its expiry
    with transaction(sessions) as s:
        LedgerService(s).expire_due(utcnow(), batch=100)
    with transaction(sessions) as s:
        resident = s.get(Resident, people[2].id)
        assert resident is not None
        DonationService(s).donate(resident, city.communities[0].id, 10, "d1")

    live = figures(sessions, city)  # nothing rolled up since run 2: the live delta
    incremental_tables = (run(sessions), tables(sessions))[1]  # run 3
    after_run = figures(sessions, city)
    with transaction(sessions) as s:
        Rollup(s).rebuild(utcnow())
    assert tables(sessions) == incremental_tables
    assert figures(sessions, city) == after_run == live

    last = {m["month"]: m for m in live["months"]}[key_of(FIRST)]
    assert last["points"]["issued"] == 2000  # 50 × 4 h × 10 pts/h
    assert last["participants"] == 49 and last["participations"] == 49  # one clawed back
    assert last["hours"] == 196.0
    # all 49 are new: "0 returning" is under 10, so "49 new" would give it away
    assert (last["new_volunteers"], last["returning_volunteers"]) == ("x", "<10")
    totals = live["totals"]
    assert totals["by_channel"] == {"app": 0, "offline": 49}
    assert totals["by_category"] == {"volunteer_service": 49}
    assert totals["points"]["redeemed"] == 30 and totals["points"]["expired"] == 30
    assert totals["points"]["clawed_back"] == 40 and totals["points"]["donated"] == 10
    assert totals["outstanding"] == 2000 + 30 - 30 - 30 - 40  # donations stay in the city
    assert totals["liability_fen"] == totals["outstanding"] * 10  # 1 pt = 0.1 yuan
    assert totals["redemption_rate"] == round(100 * 30 / 2030, 1)
    assert totals["clawbacks"] == "<10" and totals["fraud_flags"] == "<10"
    assert totals["registered_residents"] == 50 and totals["participation_rate"] == 98.0


def test_figures_agree_with_the_ledger_and_the_hours_register(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    staff: Callable[[str], Principal],
    make_activity: Maker,
    make_resident: Callable[..., Resident],
) -> None:
    """City-wide, month by month: the ledger's own flows and the register's own minutes
    (independent queries over the source tables) are what the rollup says."""
    _, records = river_clean_up(sessions, ctx, staff, make_activity, make_resident)
    approve(sessions, ctx, staff("reviewer"), records)
    run(sessions)
    reviewer = staff("reviewer")
    with transaction(sessions) as s:
        FraudDesk(s, ctx).claw_back(records[0], "照片系翻拍", reviewer)
    months = recent_months(local_date(utcnow()), 2)
    with transaction(sessions) as s:
        flows = LedgerService(s).flows_by_month(months)
        minutes = HoursService(s).minutes_by_month(months)
    got = {m["month"]: m for m in figures(sessions, city)["months"]}
    for f in flows:
        p = got[f.month]["points"]
        assert (p["issued"], p["redeemed"], p["expired"]) == (f.issued, f.redeemed, f.expired)
        assert p["clawed_back"] == f.clawed_back
        assert got[f.month]["hours"] == round(minutes[f.month] / 60, 1)
    assert got[key_of(FIRST)]["points"]["issued"] == 2000


def test_the_job_twice_in_a_row_counts_nothing_twice(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    staff: Callable[[str], Principal],
    make_activity: Maker,
    make_resident: Callable[..., Resident],
) -> None:
    """Idempotent: a second run finds nothing new; the figures do not move."""
    _, records = river_clean_up(sessions, ctx, staff, make_activity, make_resident)
    approve(sessions, ctx, staff("reviewer"), records[:12])
    first = run(sessions)
    before = tables(sessions)
    assert run(sessions) == {"ledger": 0, "hours": 0, "fraud": 0, "residents": 0}
    assert tables(sessions) == before and first["hours"] == 12
    with transaction(sessions) as s:  # `civicpoints insights population 001 200`
        InsightsService(s).set_population(city.streets[0].code, 200, utcnow())
        with pytest.raises(RegionUnknown):
            InsightsService(s).set_population("NOPE", 200, utcnow())
    street = figures(sessions, city, city.streets[0])
    assert street["totals"]["points"]["issued"] == 480
    assert street["totals"]["participants"] == 12 and street["totals"]["population"] == 200
    assert street["totals"]["population_rate"] == 6.0
    other = figures(sessions, city, city.streets[1])
    assert other["totals"]["points"]["issued"] == 0 and other["totals"]["participants"] == "<10"


def test_the_demo_leaves_the_rollup_current(sessions: sessionmaker[Session], ctx: Context) -> None:
    """`civicpoints demo` runs the job at its end: nothing is left to the live delta, and the
    city's figures are the ledger's own, month by month."""
    from civicpoints.cli.demo import load_demo
    from civicpoints.regions import Region

    assert load_demo(sessions, ctx, residents=20, seed=7) is True
    with transaction(sessions) as s:
        city = s.scalars(select(Region).where(Region.parent_id.is_(None))).one()
        read = InsightsService(s).figures(city, FIRST, THIS, utcnow())
        flows = LedgerService(s).flows_by_month(recent_months(local_date(utcnow()), 2))
    assert read.live_rows == 0 and read.rolled_up_to is not None
    assert [m.points.issued for m in read.months] == [f.issued for f in flows]
    assert sum(m.points.issued for m in read.months) > 0


def test_the_commands_rebuild_and_enter_a_population(
    sessions: sessionmaker[Session],
    city: City,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    make_resident: Callable[..., Resident],
    fund: Callable[..., None],
) -> None:
    """`civicpoints insights rebuild`, `… population CODE N`; `jobs run insights.rollup`."""
    from typer.testing import CliRunner

    from civicpoints.cli.main import app
    from civicpoints.kit.settings import get_settings

    monkeypatch.setenv("CIVICPOINTS_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("CIVICPOINTS_PII_KEY", settings.pii_key or "")
    get_settings.cache_clear()
    fund(make_resident().id, 70)
    try:
        runner = CliRunner()
        ran = runner.invoke(app, ["jobs", "run", "insights.rollup"])
        assert ran.exit_code == 0 and "'ledger': 1" in ran.output, ran.output
        rebuilt = runner.invoke(app, ["insights", "rebuild"])
        assert rebuilt.exit_code == 0 and "'ledger': 1" in rebuilt.output, rebuilt.output
        entered = runner.invoke(app, ["insights", "population", city.city.code, "500000"])
        assert entered.exit_code == 0, entered.output
        refused = runner.invoke(app, ["insights", "population", "NOPE", "5"])
        assert refused.exit_code == 2 and "区域代码 NOPE 不存在" in refused.output
    finally:
        get_settings.cache_clear()
    assert figures(sessions, city)["totals"]["population"] == 500000


def test_two_workers_at_once_count_every_row_once(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    staff: Callable[[str], Principal],
    make_activity: Maker,
    make_resident: Callable[..., Resident],
) -> None:
    """Two runs started together (two workers past the slot claim, or a run by hand beside
    the scheduler's) add each row once: the seen rows decide, whoever commits first."""
    import threading

    _, records = river_clean_up(sessions, ctx, staff, make_activity, make_resident)
    approve(sessions, ctx, staff("reviewer"), records[:20])
    run(sessions)
    approve(sessions, ctx, staff("reviewer"), records[20:])
    start, counted, failed = threading.Barrier(2), [], []

    def worker() -> None:
        start.wait()
        try:
            counted.append(run(sessions)["hours"])
        except Exception as exc:  # pragma: no cover - reported below
            failed.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failed and sorted(counted) == [0, 30]
    concurrent = tables(sessions)
    with transaction(sessions) as s:
        Rollup(s).rebuild(utcnow())
    assert tables(sessions) == concurrent
    assert sum(v for k, v in concurrent[0].items() if k[2:] == ("points", "issued")) == 2000


def test_runs_remember_only_the_rows_inside_the_next_overlap(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    staff: Callable[[str], Principal],
    make_activity: Maker,
    make_resident: Callable[..., Resident],
) -> None:
    """Runs are one at a time, so a rebuild (or a run) records in `insights_seen` only the rows
    the next run can read again — those recorded within OVERLAP of its `now` — and every row is
    still counted once: rows counted half an hour ago are never looked up again."""
    from sqlalchemy import func

    from civicpoints.insights.models import Seen
    from civicpoints.insights.rollup import OVERLAP

    _, records = river_clean_up(sessions, ctx, staff, make_activity, make_resident)
    approve(sessions, ctx, staff("reviewer"), records[:20])
    # A rebuild half an hour from now: every row lies before that run's overlap.
    with transaction(sessions) as s:
        first = Rollup(s).rebuild(utcnow() + 3 * OVERLAP)
        remembered = s.scalar(select(func.count()).select_from(Seen))
    assert first["hours"] == 20 and remembered == 0
    # A rebuild now: every row lies inside the next run's overlap, so each is remembered.
    with transaction(sessions) as s:
        first = Rollup(s).rebuild(utcnow())
        remembered = s.scalar(select(func.count()).select_from(Seen))
    registered = first["residents"]  # registered a moment ago: the clean-up's 50 and more
    assert registered >= 50
    assert first["hours"] == 20 and remembered == first["ledger"] + first["hours"] + registered
    rolled = tables(sessions)
    approve(sessions, ctx, staff("reviewer"), records[20:])
    with transaction(sessions) as s:
        counted = Rollup(s).run(utcnow())
        remembered = s.scalar(select(func.count()).select_from(Seen))
    # The 30 new rows are counted once; the 20 before are looked up, not counted again.
    assert (
        counted["hours"] == 30
        and remembered == first["ledger"] + first["hours"] + registered + 30 + counted["ledger"]
    )
    assert tables(sessions) != rolled
    with transaction(sessions) as s:
        again = Rollup(s).run(utcnow())
    assert again == {"ledger": 0, "hours": 0, "fraud": 0, "residents": 0}
    incremental = tables(sessions)
    with transaction(sessions) as s:
        Rollup(s).rebuild(utcnow())
    assert tables(sessions) == incremental
