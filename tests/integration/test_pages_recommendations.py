"""为您推荐 on the pages: the home page's block with each pick's reason (no JavaScript), in
长辈模式 too; the switch on 我的数据 turns it off (list deleted, block gone) and on again; a bad
value is refused beside the form with nothing written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.cli.city import City
from civicpoints.insights.recs_models import Recommendation, RecSetting
from civicpoints.insights.tasks import recommend
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction

from .pages import csrf_of, post_form, sign_in
from .test_api import PASSWORD, register
from .test_recommendations import FAR, publish


def rows(sessions: sessionmaker[Session], table: type) -> int:
    with transaction(sessions) as s:
        return s.scalar(select(func.count()).select_from(table)) or 0


def test_home_shows_the_picks_with_reasons_and_the_switch_turns_them_off_and_on(
    client: TestClient, city: City, sessions: sessionmaker[Session],
    staff: Callable[[str], Principal],
) -> None:  # fmt: skip
    organizer, now = staff("organizer"), utcnow()
    publish(sessions, city, organizer, now + timedelta(days=2), "断桥垃圾分类指导")
    publish(sessions, city, organizer, now + timedelta(days=3), "远郊植树", FAR, "半山公园",
            community=1)  # fmt: skip
    assert register(client, city, 41).status_code == 201
    sign_in(client, "13800000041", PASSWORD)
    home = client.get("/").text  # never computed: ranked on this first look
    assert "为您推荐" in home and "断桥垃圾分类指导" in home and "离您不到 500 米" in home
    assert home.index("断桥垃圾分类指导") < home.index("远郊植树")
    assert "离您 2" in home  # the planting day is about 24 km away: "离您 24.x 公里"
    assert rows(sessions, Recommendation) == 2
    recommend(sessions)  # the nightly run replaces the list in place
    assert rows(sessions, Recommendation) == 2
    client.post("/elder", data={"csrf_token": csrf_of(home), "on": "1", "next": "/"})
    elder = client.get("/").text
    assert 'class="elder' in elder or "elder" in elder.split("<body", 1)[1][:80]
    assert "为您推荐" in elder and "断桥垃圾分类指导" in elder
    client.get("/lang/en")
    english = client.get("/").text
    assert "Recommended for you" in english and "Less than 500 m from you" in english
    assert "km from you" in english  # the planting day, about 24 km away
    client.get("/lang/zh-CN")

    bad = post_form(client, "/me/data", "/me/data/recommendations", on="maybe")
    assert bad.status_code == 422 and "请选择开启或关闭为您推荐" in bad.text
    assert rows(sessions, RecSetting) == 1 and rows(sessions, Recommendation) == 2

    off = post_form(client, "/me/data", "/me/data/recommendations", on="0")
    assert off.status_code == 303 and off.headers["location"] == "/me/data?done=recs_off"
    assert "您的推荐列表已删除" in client.get(off.headers["location"]).text
    assert rows(sessions, Recommendation) == 0
    assert "为您推荐" not in client.get("/").text
    recommend(sessions)
    assert rows(sessions, Recommendation) == 0  # the nightly run leaves them alone

    on = post_form(client, "/me/data", "/me/data/recommendations", on="1")
    assert on.status_code == 303 and rows(sessions, Recommendation) == 2
    assert "断桥垃圾分类指导" in client.get("/").text


def test_the_switch_needs_a_signed_in_resident_and_the_page_token(
    client: TestClient, city: City
) -> None:
    r = client.post("/me/data/recommendations", data={"on": "0"}, follow_redirects=False)
    assert r.status_code in (303, 403)
    assert register(client, city, 42).status_code == 201
    sign_in(client, "13800000042", PASSWORD)
    forged = client.post("/me/data/recommendations", data={"on": "0"}, follow_redirects=False)
    assert forged.status_code == 403
