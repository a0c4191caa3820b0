"""问卷 pages: staff build a questionnaire without JavaScript (rows added by a button), open
it; a resident sees the card on home, answers once (errors shown beside the question, nothing
written), gets a thank-you and then the already-answered state; results are suppressed and free
text is the owner's only."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.insights.survey_models import SurveyAnswer, SurveyResponse
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.web.app import create_app

from .pages import csrf_of, post_form, sign_in
from .test_api import PASSWORD, register


def count(sessions: sessionmaker[Session], table: type) -> int:
    with transaction(sessions) as s:
        return s.scalar(select(func.count()).select_from(table)) or 0


def builder(client: TestClient, button: str, fields: dict[str, str]) -> httpx.Response:
    """Press a button of the builder (its name is `action`, as post_form's parameter is)."""
    token = csrf_of(client.get("/staff/surveys/new").text)
    data = {"csrf_token": token, "action": button, **fields}
    return client.post("/staff/surveys/new", data=data, follow_redirects=False)


def build(client: TestClient, city: City) -> str:
    """Build and open a two-question survey of the first street through the pages."""
    fields = {"title": "社区归属感调查", "region_id": str(city.streets[0].id), "target": "region",
              "rows": "1", "text1": "您是否更有归属感？", "kind1": "single",
              "options1": "有归属感\n没有变化", "required1": "yes"}  # fmt: skip
    more = builder(client, "add", fields)
    assert more.status_code == 200 and 'name="text2"' in more.text  # a second row, no JS
    fields |= {"rows": "2", "text2": "您的建议", "kind2": "text"}
    bad = builder(client, "save", fields | {"options1": "只有一个"})  # fmt: skip
    assert bad.status_code == 422 and "2–10 个选项" in bad.text
    saved = builder(client, "save", fields)
    assert saved.status_code == 303, saved.text
    page = saved.headers["location"]
    opened = post_form(client, page, f"{page}/open", closes_on="2099-01-01")
    assert opened.status_code == 422  # more than a year away
    day = re.search(r'name="closes_on" type="date" value="([0-9-]+)"', client.get(page).text)
    assert day is not None
    opened = post_form(client, page, f"{page}/open", closes_on=day.group(1))
    assert opened.status_code == 303, opened.text
    return page.rsplit("/", 1)[1]


def test_build_answer_once_and_read_results(
    client: TestClient, city: City, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    sign_in(client, "organizer", DEMO_STAFF_PASSWORD)
    assert client.get("/staff/surveys").status_code == 200
    sid = build(client, city)
    with TestClient(create_app(settings)) as me:
        assert register(me, city, 1).status_code == 201
        sign_in(me, "13800000001", PASSWORD)
        home = me.get("/").text
        assert f'href="/surveys/{sid}"' in home and "社区归属感调查" in home
        form = me.get(f"/surveys/{sid}")
        assert form.status_code == 200 and 'type="radio" name="q1"' in form.text
        empty = post_form(me, f"/surveys/{sid}", f"/surveys/{sid}", q2="很好")
        assert empty.status_code == 422 and "这道题必须回答" in empty.text
        assert 'href="#f-q1"' in empty.text and "很好" in empty.text  # kept, linked summary
        nul = post_form(me, f"/surveys/{sid}", f"/surveys/{sid}", q1="0", q2="坏\x01字")
        assert nul.status_code == 422
        assert count(sessions, SurveyResponse) == 0 and count(sessions, SurveyAnswer) == 0
        done = post_form(me, f"/surveys/{sid}", f"/surveys/{sid}", q1="0", q2="多办活动")
        assert done.status_code == 303 and done.headers["location"].endswith("/thanks")
        assert "已记录" in me.get(done.headers["location"]).text
        state = me.get(f"/surveys/{sid}")
        assert "您已填写过这份问卷" in state.text and 'name="q1"' not in state.text
        twice = post_form(me, "/", f"/surveys/{sid}", q1="1")
        assert twice.status_code == 409 and "只能填写一次" in twice.text
        assert count(sessions, SurveyResponse) == 1 and count(sessions, SurveyAnswer) == 2
        assert f'href="/surveys/{sid}"' not in me.get("/").text
        assert me.get(f"/staff/surveys/{sid}/results").status_code in (303, 401, 403)
    results = client.get(f"/staff/surveys/{sid}/results")
    assert results.status_code == 200 and "&lt;10" in results.text
    assert "多办活动" not in results.text  # one respondent: not even the owner reads it
    with TestClient(create_app(settings)) as admin:
        sign_in(admin, "admin", DEMO_STAFF_PASSWORD)
        theirs = admin.get(f"/staff/surveys/{sid}/results")
        assert theirs.status_code == 200 and "只向问卷创建人显示" in theirs.text
        refused = post_form(admin, f"/staff/surveys/{sid}", f"/staff/surveys/{sid}/close")
        assert refused.status_code == 403
        sign_in(admin, "reviewer", DEMO_STAFF_PASSWORD)
        assert admin.get(f"/staff/surveys/{sid}").status_code == 404


def test_a_resident_outside_the_target_gets_404(
    client: TestClient, city: City, settings: Settings
) -> None:
    sign_in(client, "organizer", DEMO_STAFF_PASSWORD)
    sid = build(client, city)
    with TestClient(create_app(settings)) as other:
        assert register(other, city, 3, community_id=str(city.communities[3].id)).status_code == 201
        sign_in(other, "13800000003", PASSWORD)
        assert other.get(f"/surveys/{sid}").status_code == 404
        assert f"/surveys/{sid}" not in other.get("/").text
