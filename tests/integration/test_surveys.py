"""Surveys (问卷): targeting checked in SQL (region subtree, activities' participants), one
response per resident, nothing written on bad input, staff scope, free text for the owner only,
results with small counts suppressed — on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities import OfflineRecordCreate, OfflineService
from civicpoints.cli.city import City
from civicpoints.identity import IdentityService, ResidentCreate
from civicpoints.identity.models import Resident
from civicpoints.insights import (
    AlreadyAnswered,
    AnswerIn,
    InvalidSurvey,
    SurveyCreate,
    SurveyNotFound,
    SurveyService,
)
from civicpoints.insights.survey_models import SurveyAnswer, SurveyResponse
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.errors import Forbidden

from .conftest import id_number
from .test_api import login, resident_headers

QUESTIONS: list[dict[str, Any]] = [
    {"kind": "single", "text": "您是否感到更有归属感？", "options": ["有归属感", "没有变化"]},
    {
        "kind": "multiple",
        "text": "您参加过哪些活动？",
        "options": ["志愿服务", "环保行动", "公共监督"],
    },
    {"kind": "scale_1_5", "text": "总体满意度"},
    {"kind": "text", "text": "您的建议", "required": False},
]


def draft(city: City, **over: Any) -> SurveyCreate:
    """A questionnaire of the first street."""
    body = {"title": "居民满意度问卷", "region_id": city.streets[0].id, "questions": QUESTIONS}
    return SurveyCreate.model_validate(body | over)


def opened(
    sessions: sessionmaker[Session], who: Principal, body: SurveyCreate
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """Create and open a survey for a week; its id and its questions' ids."""
    with transaction(sessions) as s:
        service = SurveyService(s)
        view = service.create(who, body)
        service.open(who, view.survey.id, utcnow() + timedelta(days=7), utcnow())
        return view.survey.id, [q.id for q in view.questions]


def answers(qs: list[uuid.UUID], pick: int = 0, text: str = "") -> list[AnswerIn]:
    """A full response: option `pick`, the first two activities, 4 points, some text."""
    return [
        AnswerIn(question_id=qs[0], choices=[pick]),
        AnswerIn(question_id=qs[1], choices=[0, 1]),
        AnswerIn(question_id=qs[2], value=4),
        AnswerIn(question_id=qs[3], text=text),
    ]


def submit(
    sessions: sessionmaker[Session], rid: uuid.UUID, sid: uuid.UUID, a: list[AnswerIn]
) -> None:
    with transaction(sessions) as s:
        SurveyService(s).submit(rid, sid, a, utcnow())


def stored(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with transaction(sessions) as s:
        return (
            s.scalar(select(func.count()).select_from(SurveyResponse)) or 0,
            s.scalar(select(func.count()).select_from(SurveyAnswer)) or 0,
        )


def elsewhere(sessions: sessionmaker[Session], ctx: Context, city: City) -> Resident:
    """A resident of a community in the second street."""
    data = ResidentCreate(
        name="李建国", id_number=id_number(99, birth="19450101"), phone="13911119001",
        password="Qiantang-tide-1958", community_id=city.communities[3].id, consent=True,
    )  # fmt: skip
    with transaction(sessions) as s:
        return IdentityService(s, ctx).register(data, password_hash="x")


def test_a_region_survey_reaches_its_subtree_only(
    sessions: sessionmaker[Session], ctx: Context, city: City,
    staff: Callable[[str], Principal], make_resident: Callable[..., Resident],
) -> None:  # fmt: skip
    inside, outside = make_resident(), elsewhere(sessions, ctx, city)
    sid, qs = opened(sessions, staff("organizer"), draft(city))
    with transaction(sessions) as s:
        service = SurveyService(s)
        assert [x.id for x in service.waiting(inside.id, utcnow())] == [sid]
        assert service.waiting(outside.id, utcnow()) == []
        with pytest.raises(SurveyNotFound):  # not targeted: as if it did not exist
            service.for_resident(outside.id, sid)
    with pytest.raises(SurveyNotFound):
        submit(sessions, outside.id, sid, answers(qs))
    assert stored(sessions) == (0, 0)


def test_an_activity_survey_reaches_its_participants_only(
    sessions: sessionmaker[Session], ctx: Context, city: City,
    staff: Callable[[str], Principal], make_resident: Callable[..., Resident],
    make_activity: Callable[..., uuid.UUID],
) -> None:  # fmt: skip
    took_part, neighbour = make_resident(), make_resident("王桂兰")
    start = utcnow() - timedelta(days=2)
    activity = make_activity(start)
    with transaction(sessions) as s:
        OfflineService(s, ctx).record(
            OfflineRecordCreate(resident=took_part.public_no, activity_id=activity,
                                started_at=start, ended_at=start + timedelta(hours=2),
                                slip_no="SURVEY-1"),
            staff("organizer"),
        )  # fmt: skip
    body = draft(city, target="activities", activity_ids=[activity])
    sid, qs = opened(sessions, staff("organizer"), body)
    with transaction(sessions) as s:
        service = SurveyService(s)
        assert [x.id for x in service.waiting(took_part.id, utcnow())] == [sid]
        assert service.waiting(neighbour.id, utcnow()) == []
    with pytest.raises(SurveyNotFound):
        submit(sessions, neighbour.id, sid, answers(qs))
    submit(sessions, took_part.id, sid, answers(qs))  # the free text left empty: no row
    assert stored(sessions) == (1, 4)


def test_one_response_each_and_nothing_written_on_bad_input(
    sessions: sessionmaker[Session], city: City,
    staff: Callable[[str], Principal], make_resident: Callable[..., Resident],
) -> None:  # fmt: skip
    me = make_resident()
    sid, qs = opened(sessions, staff("organizer"), draft(city))
    bad = [
        answers(qs)[1:],  # a required question left out
        [AnswerIn(question_id=qs[0], choices=[0, 1]), *answers(qs)[1:]],  # two on a single
        [AnswerIn(question_id=qs[0], choices=[7]), *answers(qs)[1:]],  # no such option
        [*answers(qs), AnswerIn(question_id=qs[0], choices=[1])],  # twice the same question
        [*answers(qs)[:3], AnswerIn(question_id=uuid.uuid4(), text="x")],  # another survey's
        [*answers(qs)[:2], AnswerIn(question_id=qs[2], choices=[1]), answers(qs)[3]],
    ]
    for a in bad:
        with pytest.raises(InvalidSurvey):
            submit(sessions, me.id, sid, a)
    assert stored(sessions) == (0, 0)
    submit(sessions, me.id, sid, answers(qs, text="希望多办活动"))
    assert stored(sessions) == (1, 5)
    with pytest.raises(AlreadyAnswered) as err:
        submit(sessions, me.id, sid, answers(qs, pick=1))
    assert "只能填写一次" in err.value.message("zh-CN")
    assert stored(sessions) == (1, 5)
    with transaction(sessions) as s:
        service = SurveyService(s)
        assert service.waiting(me.id, utcnow()) == []
        assert service.for_resident(me.id, sid).answered


def test_drafts_are_the_owners_and_closed_surveys_take_no_answers(
    sessions: sessionmaker[Session], city: City,
    staff: Callable[[str], Principal], make_resident: Callable[..., Resident],
) -> None:  # fmt: skip
    me, organizer, admin = make_resident(), staff("organizer"), staff("admin")
    with transaction(sessions) as s:
        view = SurveyService(s).create(organizer, draft(city))
    sid = view.survey.id
    with transaction(sessions) as s:
        with pytest.raises(SurveyNotFound):  # a draft is nobody's to answer
            SurveyService(s).for_resident(me.id, sid)
        with pytest.raises(Forbidden):  # the admin sees it but does not own it
            SurveyService(s).open(admin, sid, utcnow() + timedelta(days=1), utcnow())
        with pytest.raises(InvalidSurvey):
            SurveyService(s).open(organizer, sid, utcnow() - timedelta(days=1), utcnow())
    with pytest.raises(Forbidden), transaction(sessions) as s:  # outside the organizer's street
        SurveyService(s).create(organizer, draft(city, region_id=city.streets[1].id))
    with pytest.raises(InvalidSurvey), transaction(sessions) as s:  # a choice of one option
        q = [{"kind": "single", "text": "是否满意", "options": ["是"]}]
        SurveyService(s).create(organizer, draft(city, questions=q))
    with transaction(sessions) as s:
        service = SurveyService(s)
        service.open(organizer, sid, utcnow() + timedelta(days=1), utcnow())
        service.close(organizer, sid, utcnow())
    with pytest.raises(Exception, match="closed"):
        submit(sessions, me.id, sid, answers([q.id for q in view.questions]))
    assert stored(sessions) == (0, 0)


def residents(sessions: sessionmaker[Session], ctx: Context, city: City, n: int) -> list[uuid.UUID]:
    """`n` residents of the first community (registered in one transaction)."""
    out = []
    with transaction(sessions) as s:
        identity = IdentityService(s, ctx)
        for i in range(n):
            data = ResidentCreate(
                name="居民", phone=f"1370000{i:04d}",
                id_number=id_number(i, birth=f"1961{i % 12 + 1:02d}{i // 12 + 1:02d}"),
                password="Qiantang-tide-1958", community_id=city.communities[0].id, consent=True,
            )  # fmt: skip
            out.append(identity.register(data, password_hash="x").id)
    return out


def test_results_suppress_small_counts_and_free_text_is_the_owners(
    sessions: sessionmaker[Session], ctx: Context, city: City,
    staff: Callable[[str], Principal],
) -> None:  # fmt: skip
    who = {u: staff(u) for u in ("organizer", "admin", "auditor", "reviewer", "env_officer")}
    sid, qs = opened(sessions, who["organizer"], draft(city))
    people = residents(sessions, ctx, city, 12)
    for i, rid in enumerate(people):  # 11 feel more at home, 1 does not
        submit(sessions, rid, sid, answers(qs, pick=int(i == 0), text=f"建议{i}"))
    with transaction(sessions) as s:
        service = SurveyService(s)
        mine = service.results(who["organizer"], sid)
        assert mine.respondents == 12
        single = mine.questions[0][1]
        # 11 and 1 add up to 12: the 1 reads "<10" and the 11 is hidden with it ("x")
        assert [o.count for o in single.options] == ["x", "<10"]
        assert single.answered == 12 and all(o.percent is None for o in single.options)
        scale = mine.questions[2][1]
        assert [o.count for o in scale.options] == ["<10", "<10", "<10", 12, "<10"]
        assert scale.mean is None  # hidden counts: the mean would give them away
        assert sorted(mine.questions[3][2] or []) == sorted(f"建议{i}" for i in range(12))
        for other in ("admin", "auditor"):  # may read the counts, never the free text
            theirs = service.results(who[other], sid)
            assert theirs.questions[3][2] is None and theirs.respondents == 12
        for stranger in ("reviewer", "env_officer"):
            with pytest.raises(SurveyNotFound):
                service.results(who[stranger], sid)


def test_under_ten_respondents_nothing_is_shown(
    sessions: sessionmaker[Session], ctx: Context, city: City,
    staff: Callable[[str], Principal],
) -> None:  # fmt: skip
    organizer = staff("organizer")
    sid, qs = opened(sessions, organizer, draft(city))
    for rid in residents(sessions, ctx, city, 3):
        submit(sessions, rid, sid, answers(qs, text="只有三个人"))
    with transaction(sessions) as s:
        r = SurveyService(s).results(organizer, sid)
    assert r.respondents == "<10"
    for _, res, texts in r.questions:
        assert res.answered == "<10" and all(o.count == "<10" for o in res.options)
        assert res.mean is None and texts in (None, [])


def test_the_api_keeps_free_text_from_all_but_the_owner(client: TestClient, city: City) -> None:
    organizer = login(client, "organizer")
    body = {"title": "问卷", "region_id": str(city.streets[0].id), "questions": QUESTIONS}
    made = client.post("/api/v1/surveys", json=body, headers=organizer)
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    closes = (utcnow() + timedelta(days=3)).isoformat()
    opened_ = client.post(
        f"/api/v1/surveys/{sid}/open", json={"closes_at": closes}, headers=organizer
    )
    assert opened_.status_code == 200 and opened_.json()["status"] == "open"
    me = resident_headers(client, city)
    assert [x["id"] for x in client.get("/api/v1/surveys", headers=me).json()] == [sid]
    form = client.get(f"/api/v1/surveys/{sid}/questionnaire", headers=me).json()
    qs = [q["id"] for q in form["questions"]]
    reply = {
        "answers": [
            {"question_id": qs[0], "choices": [0]},
            {"question_id": qs[1], "choices": [2]},
            {"question_id": qs[2], "value": 5},
            {"question_id": qs[3], "text": "很好"},
        ]
    }
    for evil in ("坏\u0000字", "x" * 501):
        bad = {"answers": [*reply["answers"][:3], {"question_id": qs[3], "text": evil}]}
        assert (
            client.post(f"/api/v1/surveys/{sid}/responses", json=bad, headers=me).status_code == 422
        )
    first = client.post(f"/api/v1/surveys/{sid}/responses", json=reply, headers=me)
    assert first.status_code == 201, first.text
    again = client.post(f"/api/v1/surveys/{sid}/responses", json=reply, headers=me)
    assert again.status_code == 409 and again.json()["code"] == "insights.survey_already_answered"
    owner = client.get(f"/api/v1/surveys/{sid}/results", headers=organizer).json()
    assert owner["questions"][3]["texts"] == []  # one respondent: not even the owner reads it
    assert owner["respondents"] == "<10"
    for who in (login(client, "admin"), login(client, "auditor")):
        r = client.get(f"/api/v1/surveys/{sid}/results", headers=who)
        assert r.status_code == 200 and r.json()["questions"][3]["texts"] is None
        assert "很好" not in r.text
    assert client.get(f"/api/v1/surveys/{sid}/results", headers=me).status_code in (401, 403)
    assert (
        client.get(f"/api/v1/surveys/{sid}", headers=login(client, "reviewer")).status_code == 404
    )
