"""为您推荐 on both databases: the nightly job ranks only upcoming open activities the resident
can join and has not joined; a new resident gets activities near them; a returning one is
told which activity it follows; turning it off deletes the list and keeps them out of the
model; withdrawn consent deletes the list at once; each resident sees only their own."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities import (
    ActivityCreate,
    ActivityService,
    ActivityStatus,
    OfflineRecordCreate,
    OfflineService,
)
from civicpoints.cli.city import City
from civicpoints.community import TeamService
from civicpoints.identity.models import Resident
from civicpoints.insights import InvalidChoice, RecsService
from civicpoints.insights.recs_models import Recommendation, RecSetting
from civicpoints.insights.recs_repository import RecsRepository
from civicpoints.insights.tasks import recommend
from civicpoints.jobs import scheduled_jobs
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.privacy import PrivacyService

from .conftest import WEST_LAKE

FAR = (30.4200, 120.3000)  # about 24 km north-east of West Lake
NEAR_BY = (30.2620, 120.1420)  # about 450 m from West Lake


def publish(
    sessions: sessionmaker[Session],
    city: City,
    organizer: Principal,
    starts: datetime,
    title: str = "断桥垃圾分类指导",
    point: tuple[float, float] = WEST_LAKE,
    place: str = "西湖断桥",
    community: int = 0,
    category: str = "environmental",
    draft: bool = False,
) -> uuid.UUID:
    """An activity of a community's committee at a point (published unless a draft)."""
    data = ActivityCreate(
        organization_id=city.committees[community].id,
        region_id=city.communities[community].id,
        title=title,
        category=category,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        place_name=place,
        geofence={"type": "circle", "lat": point[0], "lon": point[1], "radius_m": 200},
        capacity=30,
        publish=not draft,
    )
    with transaction(sessions) as s:
        return ActivityService(s).create(data, organizer).id


def took_part(
    sessions: sessionmaker[Session],
    ctx: Context,
    organizer: Principal,
    activity: uuid.UUID,
    people: list[Resident],
) -> None:
    """Paper slips of `people` at a past activity (waiting for review: they took part)."""
    with transaction(sessions) as s:
        start = ActivityService(s).get(activity).starts_at
        for r in people:
            OfflineService(s, ctx).record(
                OfflineRecordCreate(
                    resident=r.public_no,
                    activity_id=activity,
                    started_at=start,
                    ended_at=start + timedelta(hours=2),
                    slip_no=f"REC-{activity.hex}-{r.public_no}",
                ),
                organizer,
            )


def stored(sessions: sessionmaker[Session], resident: Resident) -> list[Recommendation]:
    """The resident's stored rows, by rank."""
    with transaction(sessions) as s:
        rows = list(RecsRepository(s).stored(resident.id))
        s.expunge_all()
        return rows


def test_a_new_resident_gets_open_activities_near_them_and_nothing_they_cannot_join(
    sessions: sessionmaker[Session], ctx: Context, city: City,
    staff: Callable[[str], Principal], make_resident: Callable[..., Resident],
) -> None:  # fmt: skip
    organizer, now = staff("organizer"), utcnow()
    regulars = [make_resident(n) for n in ("老张", "老李", "老王")]
    past = publish(sessions, city, organizer, now - timedelta(days=7))
    took_part(sessions, ctx, organizer, past, regulars)
    near = publish(sessions, city, organizer, now + timedelta(days=2))
    close = publish(sessions, city, organizer, now + timedelta(days=3), "社区巡查", NEAR_BY,
                    "宝石山下", category="public_supervision")  # fmt: skip
    far = publish(sessions, city, organizer, now + timedelta(days=2), "远郊植树", FAR,
                  "半山公园", community=1)  # fmt: skip
    draft = publish(sessions, city, organizer, now + timedelta(days=3), draft=True)
    cancelled = publish(sessions, city, organizer, now + timedelta(days=3))
    started = publish(sessions, city, organizer, now - timedelta(hours=1))
    later = publish(sessions, city, organizer, now + timedelta(days=20))
    joined = publish(sessions, city, organizer, now + timedelta(days=4))
    challenge = publish(sessions, city, organizer, now + timedelta(days=4), "河道挑战赛",
                        place="北山河道")  # fmt: skip
    newcomer = make_resident("新居民")
    with transaction(sessions) as s:
        ActivityService(s).set_status(cancelled, ActivityStatus.CANCELLED, organizer)
        ActivityService(s).enroll(joined, newcomer.id)
        teams = TeamService(s)
        team = teams.create(organizer, city.communities[0].id, "河道队", "", regulars[0].id)
        teams.make_challenge(organizer, team.id, challenge)  # members only
    ok, summary = recommend(sessions)
    assert ok and summary["residents"] == 4 and summary["candidates"] == 4
    rows = stored(sessions, newcomer)
    keys = [r.activity_id for r in rows]
    assert set(keys) == {
        near,
        close,
        far,
    }  # not the draft, cancelled, started, later, joined, challenge
    assert keys[-1] == far  # 24 km away comes last
    assert {draft, cancelled, started, later, joined, challenge}.isdisjoint(keys)
    assert [r.rank for r in rows] == [1, 2, 3]
    assert rows[0].reason in ("near", "popular", "age")  # no "joined": nothing joined yet
    with transaction(sessions) as s:
        shown = RecsService(s).suggestions(newcomer.id, utcnow())
    assert [x.activity.id for x in shown] == keys


def test_a_returning_resident_is_told_which_activity_a_pick_follows(
    sessions: sessionmaker[Session], ctx: Context, city: City,
    staff: Callable[[str], Principal], make_resident: Callable[..., Resident],
) -> None:  # fmt: skip
    organizer, now = staff("organizer"), utcnow()
    me, others = make_resident("王阿姨"), [make_resident(n) for n in ("邻居甲", "邻居乙")]
    past = publish(sessions, city, organizer, now - timedelta(days=7), "周六断桥捡垃圾")
    elsewhere = publish(sessions, city, organizer, now - timedelta(days=6), "宝石山清洁",
                        place="宝石山下")  # fmt: skip
    took_part(sessions, ctx, organizer, past, [me, others[0]])
    took_part(sessions, ctx, organizer, elsewhere, others)
    again = publish(sessions, city, organizer, now + timedelta(days=7), "周六断桥捡垃圾")
    publish(sessions, city, organizer, now + timedelta(days=7), "宝石山清洁", place="宝石山下")
    recommend(sessions)
    first = stored(sessions, me)[0]
    assert (first.activity_id, first.reason, first.reason_arg) == (
        again,
        "joined",
        "周六断桥捡垃圾",
    )


def test_turning_it_off_deletes_the_list_stops_the_job_and_leaves_them_out_of_the_model(
    sessions: sessionmaker[Session], ctx: Context, city: City,
    staff: Callable[[str], Principal], make_resident: Callable[..., Resident],
) -> None:  # fmt: skip
    organizer, now = staff("organizer"), utcnow()
    me, other = make_resident("李大伯"), make_resident("赵阿姨")
    past = publish(sessions, city, organizer, now - timedelta(days=3))
    took_part(sessions, ctx, organizer, past, [me, other])
    publish(sessions, city, organizer, now + timedelta(days=2))
    recommend(sessions)
    assert len(stored(sessions, me)) == 1
    with transaction(sessions) as s:
        assert RecsService(s).turn(me.id, "0", utcnow()) is False
    assert stored(sessions, me) == []
    ok, summary = recommend(sessions)
    assert ok and summary["residents"] == 1 and stored(sessions, me) == []
    with transaction(sessions) as s:
        assert RecsService(s).suggestions(me.id, utcnow()) == []
        ground = RecsService(s).ground(utcnow())
        assert sum(ground.model.popularity.values()) == 1  # only the other resident's
        assert s.get(RecSetting, me.id).enabled is False  # type: ignore[union-attr]
    with transaction(sessions) as s:
        assert RecsService(s).turn(me.id, "1", utcnow()) is True
    assert len(stored(sessions, me)) == 1  # computed at once


def test_a_bad_choice_is_refused_and_nothing_is_written(
    sessions: sessionmaker[Session], make_resident: Callable[..., Resident]
) -> None:
    me = make_resident()
    with transaction(sessions) as s:
        for bad in ("", "yes", "2", "0 "):
            try:
                RecsService(s).turn(me.id, bad, utcnow())
            except InvalidChoice as exc:
                assert exc.status == 422 and "开启或关闭" in exc.message("zh-CN")
            else:
                raise AssertionError(f"{bad!r} was accepted")
        assert s.scalar(select(func.count()).select_from(RecSetting)) == 0


def test_withdrawn_consent_deletes_the_list_at_once(
    sessions: sessionmaker[Session], ctx: Context, city: City,
    staff: Callable[[str], Principal], make_resident: Callable[..., Resident],
) -> None:  # fmt: skip
    """PIPL: nothing derived from the resident is kept once consent is withdrawn — not until the
    night's run, but in the withdrawal's own transaction (identity's `consent_withdrawn` hook)."""
    organizer, now = staff("organizer"), utcnow()
    me, other = make_resident(), make_resident()
    publish(sessions, city, organizer, now + timedelta(days=2))
    recommend(sessions)
    assert len(stored(sessions, me)) == 1 and len(stored(sessions, other)) == 1
    with transaction(sessions) as s:
        PrivacyService(s, ctx).withdraw(me.id)
    assert stored(sessions, me) == []
    assert len(stored(sessions, other)) == 1  # only theirs
    ok, summary = recommend(sessions)
    assert ok and summary["removed"] == 0 and summary["residents"] == 1
    assert stored(sessions, me) == []
    with transaction(sessions) as s:
        assert RecsService(s).suggestions(me.id, utcnow()) == []  # not computed on the spot


def test_each_resident_sees_only_their_own_list_and_joins_drop_out_at_once(
    sessions: sessionmaker[Session], ctx: Context, city: City,
    staff: Callable[[str], Principal], make_resident: Callable[..., Resident],
) -> None:  # fmt: skip
    organizer, now = staff("organizer"), utcnow()
    a, b = make_resident("甲"), make_resident("乙")
    first = publish(sessions, city, organizer, now + timedelta(days=1))
    second = publish(sessions, city, organizer, now + timedelta(days=2), "社区巡查", NEAR_BY,
                     "宝石山下")  # fmt: skip
    with transaction(sessions) as s:
        RecsService(s).turn(b.id, "0", utcnow())
    recommend(sessions)
    assert {r.activity_id for r in stored(sessions, a)} == {first, second}
    with transaction(sessions) as s:
        assert RecsService(s).suggestions(b.id, utcnow()) == []  # b's own: off, none
        ActivityService(s).enroll(first, a.id)
    with transaction(sessions) as s:
        shown = RecsService(s).suggestions(a.id, utcnow())
    assert [x.activity.id for x in shown] == [second]  # joined since: dropped at once
    recommend(sessions)  # the next ranking does not store what the resident joined
    assert [r.activity_id for r in stored(sessions, a)] == [second]


def test_a_resident_never_computed_is_ranked_on_first_look(
    sessions: sessionmaker[Session], city: City,
    staff: Callable[[str], Principal], make_resident: Callable[..., Resident],
) -> None:  # fmt: skip
    organizer, now = staff("organizer"), utcnow()
    near = publish(sessions, city, organizer, now + timedelta(days=2))
    far = publish(sessions, city, organizer, now + timedelta(days=2), "远郊植树", FAR,
                  "半山公园", community=1)  # fmt: skip
    newcomer = make_resident("刚注册")
    with transaction(sessions) as s:
        shown = RecsService(s).suggestions(newcomer.id, utcnow())
    assert [x.activity.id for x in shown] == [near, far]
    assert shown[0].reason.code == "near" and float(shown[0].reason.arg) < 0.5
    with transaction(sessions) as s:
        assert s.get(RecSetting, newcomer.id).computed_at is not None  # type: ignore[union-attr]


def test_the_job_runs_from_the_command_line_and_is_recorded(
    sessions: sessionmaker[Session], settings: Settings, city: City,
    staff: Callable[[str], Principal], make_resident: Callable[..., Resident],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """`civicpoints jobs run insights.recommend`, as cron would (scheduled at 04:15)."""
    from typer.testing import CliRunner

    from civicpoints.cli.main import app
    from civicpoints.kit.settings import get_settings

    assert scheduled_jobs(settings)["insights.recommend"][1] == {"hour": 4, "minute": 15}
    me = make_resident()
    publish(sessions, city, staff("organizer"), utcnow() + timedelta(days=1))
    monkeypatch.setenv("CIVICPOINTS_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("CIVICPOINTS_PII_KEY", settings.pii_key or "")
    get_settings.cache_clear()
    try:
        ran = CliRunner().invoke(app, ["jobs", "run", "insights.recommend"])
    finally:
        get_settings.cache_clear()
    assert ran.exit_code == 0 and "'stored': 1" in ran.output, ran.output
    assert len(stored(sessions, me)) == 1
