"""为您推荐 at city scale, on both databases: the nightly fit counts in the database what the
model counts in memory; the job ranks only residents active lately and the others at their
first look; a first look ranks with the model the night stored (no fit per request); a list
not refreshed since the night before is ranked again at the look; the resident's district's
activities are the candidates first."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities import ActivityCreate, ActivityService
from civicpoints.cli.city import City
from civicpoints.identity.models import Resident, Token
from civicpoints.insights import RecsService, recs
from civicpoints.insights.recs import _histories
from civicpoints.insights.recs_models import RecModel, RecSetting
from civicpoints.insights.recs_repository import RecsRepository
from civicpoints.insights.recs_rules import Model
from civicpoints.insights.tasks import recommend
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction

from .test_recommendations import publish, stored, took_part


def test_the_nightly_fit_counts_in_the_database_what_the_model_counts_in_memory(
    sessions: sessionmaker[Session], ctx: Context, city: City,
    staff: Callable[[str], Principal], make_resident: Callable[..., Resident],
) -> None:  # fmt: skip
    organizer, now = staff("organizer"), utcnow()
    people = [make_resident(f"居民{n}") for n in "一二三四五六"]
    places = ["断桥", "宝石山下", "北山河道", "孤山"]
    for day, place in enumerate(places, start=1):
        for cat in ("environmental", "volunteer_service"):
            past = publish(sessions, city, organizer, now - timedelta(days=40 - 5 * day),
                           f"{place}{cat}", place=place, category=cat)  # fmt: skip
            took_part(sessions, ctx, organizer, past, people[day - 1 : day + 2])
    with transaction(sessions) as s:
        RecsService(s).turn(people[2].id, "0", now)  # off: left out of both
    with transaction(sessions) as s:
        repo = RecsRepository(s)
        rows = repo.past_of([p.id for p in people if p is not people[2]], now)
        want = Model.fit(_histories(rows, local_date(now)))
        got = RecsService(s).ground(now).model
    assert got.popularity and got.neighbours and got.to_dict() == want.to_dict()
    assert sum(got.popularity.values()) == len(rows)


def test_the_job_ranks_residents_active_lately_and_the_others_at_their_first_look(
    sessions: sessionmaker[Session], ctx: Context, city: City,
    staff: Callable[[str], Principal], make_resident: Callable[..., Resident],
) -> None:  # fmt: skip
    organizer, now = staff("organizer"), utcnow()
    took, signed, quiet = make_resident("参加过"), make_resident("登录过"), make_resident("没来过")
    past = publish(sessions, city, organizer, now - timedelta(days=3))
    took_part(sessions, ctx, organizer, past, [took])
    publish(sessions, city, organizer, now + timedelta(days=2), "社区巡查", place="宝石山下")
    long_ago = now - recs.ACTIVE - timedelta(days=1)
    with transaction(sessions) as s:
        s.execute(update(Resident).values(created_at=long_ago))  # registered long ago
        s.add(Token(token_hash="a" * 64, subject_kind="resident", subject_id=signed.id,
                    expires_at=now + timedelta(hours=12)))  # fmt: skip
    ok, summary = recommend(sessions)
    assert ok and summary["residents"] == 2
    assert len(stored(sessions, took)) == 1 and len(stored(sessions, signed)) == 1
    assert stored(sessions, quiet) == []
    with transaction(sessions) as s:
        shown = RecsService(s).suggestions(quiet.id, utcnow())
    assert len(shown) == 1 and len(stored(sessions, quiet)) == 1  # at the first look


def test_a_list_not_ranked_since_the_night_before_is_ranked_again_at_the_look(
    sessions: sessionmaker[Session], city: City,
    staff: Callable[[str], Principal], make_resident: Callable[..., Resident],
) -> None:  # fmt: skip
    organizer, now = staff("organizer"), utcnow()
    me = make_resident()
    publish(sessions, city, organizer, now + timedelta(days=2))
    recommend(sessions)
    later = publish(sessions, city, organizer, now + timedelta(days=3), "社区巡查",
                    place="宝石山下")  # fmt: skip
    with transaction(sessions) as s:
        RecsService(s).suggestions(me.id, utcnow())  # fresh: not ranked again
    assert later not in {r.activity_id for r in stored(sessions, me)}
    with transaction(sessions) as s:
        old = now - recs.REFRESH - timedelta(minutes=1)
        s.execute(update(RecSetting).where(RecSetting.resident_id == me.id).values(computed_at=old))
    with transaction(sessions) as s:
        RecsService(s).suggestions(me.id, utcnow())
    assert later in {r.activity_id for r in stored(sessions, me)}


def test_a_first_look_ranks_with_the_model_the_night_stored(
    sessions: sessionmaker[Session], ctx: Context, city: City,
    staff: Callable[[str], Principal], make_resident: Callable[..., Resident],
) -> None:  # fmt: skip
    """At night series A is the popular one; by day B's past activity gains more residents.
    A first look ranks with the night's model (A first), not a model fitted on the spot."""
    organizer, now = staff("organizer"), utcnow()
    past_a = publish(sessions, city, organizer, now - timedelta(days=5), "甲", place="甲地")
    past_b = publish(sessions, city, organizer, now - timedelta(days=5), "乙", place="乙地")
    soon = now + timedelta(days=2)
    next_a = publish(sessions, city, organizer, soon, "甲", place="甲地")
    next_b = publish(sessions, city, organizer, soon, "乙", place="乙地")
    took_part(sessions, ctx, organizer, past_a, [make_resident(f"甲{n}") for n in "一二"])
    recommend(sessions)
    took_part(sessions, ctx, organizer, past_b, [make_resident(f"乙{n}") for n in "一二三四五"])
    newcomer = make_resident("新来的")
    with transaction(sessions) as s:
        night = RecsService(s).stored()
        assert night is not None and night.model.popularity.get(_series_of(s, past_b)) is None
        shown = RecsService(s).suggestions(newcomer.id, utcnow())
        assert s.scalar(select(RecModel.id)) is not None
    assert [x.activity.id for x in shown] == [next_a, next_b]


def _series_of(s: Session, activity: uuid.UUID) -> str:
    a = ActivityService(s).get(activity)
    return f"{a.organization_id}|{a.category}|{a.place_name}"


def test_the_residents_district_comes_first_when_candidates_are_many(
    sessions: sessionmaker[Session], city: City, staff: Callable[[str], Principal],
    make_resident: Callable[..., Resident], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A city has more upcoming activities than are ranked: the resident's own district's
    are taken first, not the soonest of the whole city."""
    now, home = utcnow(), city.communities[0]
    other = next(c for c in city.communities if c.path.split("/")[1] != home.path.split("/")[1])
    elsewhere = _publish_in(sessions, city, staff("env_officer"), other.id, now + timedelta(days=1))
    mine = publish(sessions, city, staff("organizer"), now + timedelta(days=5))
    me = make_resident()
    monkeypatch.setattr(recs, "CANDIDATES", 1)
    with transaction(sessions) as s:
        shown = RecsService(s).suggestions(me.id, utcnow())
    assert [x.activity.id for x in shown] == [mine] and elsewhere != mine


def _publish_in(
    sessions: sessionmaker[Session],
    city: City,
    officer: Principal,
    region: uuid.UUID,
    starts: object,
) -> uuid.UUID:
    """An activity of the environment bureau in a community of another district."""
    data = ActivityCreate(
        organization_id=city.departments["HB"].id,
        region_id=region,
        title="江边清洁",
        category="environmental",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),  # type: ignore[operator]
        place_name="钱塘江边",
        geofence={"type": "circle", "lat": 30.2300, "lon": 120.1700, "radius_m": 200},
        capacity=30,
        publish=True,
    )
    with transaction(sessions) as s:
        return ActivityService(s).create(data, officer).id


def test_first_looks_share_their_candidates_for_a_minute(
    sessions: sessionmaker[Session], city: City, staff: Callable[[str], Principal],
    make_resident: Callable[..., Resident], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A first look prepares its district's candidates once for the next minute's first
    looks (the cost of a first look at 2,000 candidates); after that they are read again."""
    organizer, now = staff("organizer"), utcnow()
    first = publish(sessions, city, organizer, now + timedelta(days=2))
    recommend(sessions)  # stores the model
    a, b, c = make_resident("甲"), make_resident("乙"), make_resident("丙")
    with transaction(sessions) as s:
        RecsService(s).suggestions(a.id, utcnow())
    second = publish(sessions, city, organizer, now + timedelta(days=3), "社区巡查",
                     place="宝石山下")  # fmt: skip
    with transaction(sessions) as s:
        RecsService(s).suggestions(b.id, utcnow())
    assert [r.activity_id for r in stored(sessions, b)] == [first]
    monkeypatch.setattr(recs, "SLATE_TTL", 0.0)
    with transaction(sessions) as s:
        RecsService(s).suggestions(c.id, utcnow())
    assert {r.activity_id for r in stored(sessions, c)} == {first, second}
