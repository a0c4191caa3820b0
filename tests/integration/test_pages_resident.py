"""The resident's earning pages: activities, enrolment, check-in/out, records, history, news."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.kit.clock import utcnow

from .conftest import WEST_LAKE
from .pages import csrf_of, post_form, sign_in
from .test_api import PASSWORD, resident_headers

MakeActivity = Callable[..., uuid.UUID]


def resident(client: TestClient, city: City, n: int, verify: bool = True) -> dict[str, str]:
    """Register (and verify) resident `n` through the API, then sign in through the page."""
    headers = resident_headers(client, city, n, verify)
    sign_in(client, f"1380000{n:04d}", PASSWORD)
    return headers


def soon(hours: float = 2.0) -> object:
    """A start time an hour from now."""
    return utcnow() + timedelta(hours=hours)


# -- the list ------------------------------------------------------------------------------


def test_the_list_shows_time_place_points_and_places(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    make_activity(utcnow() + timedelta(days=1), title="社区巡逻", capacity=10)
    make_activity(utcnow() + timedelta(days=2), category="environmental", title="河道清理")
    make_activity(utcnow() - timedelta(days=2), title="已经结束的活动")
    resident(client, city, 1)
    page = client.get("/activities")
    assert page.status_code == 200
    text = page.text
    assert "社区巡逻" in text and "河道清理" in text and "已经结束的活动" not in text
    assert "10 分/小时" in text and "50 分/次" in text
    assert "还剩 10 个名额（共 10 个）" in text
    assert "西湖断桥" in text


def test_the_list_filters_by_category_in_chinese(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    make_activity(utcnow() + timedelta(days=1), title="社区巡逻")
    make_activity(utcnow() + timedelta(days=1), category="environmental", title="河道清理")
    resident(client, city, 2)
    text = client.get("/activities?category=environmental").text
    assert "河道清理" in text and "社区巡逻" not in text
    for name in ("志愿服务", "高风险", "环保行动", "公共监督", "教育支持"):
        assert name in text
    assert "社区巡逻" in client.get("/activities?category=nonsense").text


def test_the_list_puts_the_nearest_first_when_the_phone_gives_its_position(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    make_activity(utcnow() + timedelta(days=1), title="明天的活动")
    make_activity(utcnow() + timedelta(days=3), title="后天的活动")
    resident(client, city, 3)
    by_time = client.get("/activities").text
    assert by_time.index("明天的活动") < by_time.index("后天的活动")
    near = client.get(f"/activities?lat={WEST_LAKE[0]}&lon={WEST_LAKE[1]}").text
    assert "您就在这里" in near and "离您最近的排在前面" in near


# -- one activity, enrol, cancel -----------------------------------------------------------


def test_enrol_and_cancel_with_plain_forms(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    activity = make_activity(soon(), capacity=5)
    resident(client, city, 4)
    url = f"/activities/{activity}"
    page = client.get(url)
    assert "报名参加" in page.text and "需要的证明" in page.text
    r = post_form(client, url, f"{url}/enrollment")
    assert r.status_code == 303 and r.headers["location"].startswith(url)
    page = client.get(url).text
    assert "您已报名" in page and "还剩 4 个名额（共 5 个）" in page
    r = post_form(client, url, f"{url}/enrollment")  # a second time: the API's words
    assert r.status_code == 409 and "您已报名此活动" in r.text and 'role="alert"' in r.text
    r = post_form(client, url, f"{url}/enrollment/cancel")
    assert r.status_code == 303
    assert "还剩 5 个名额（共 5 个）" in client.get(url).text


def test_a_full_activity_puts_the_resident_on_the_waiting_list(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    activity = make_activity(soon(), capacity=1)
    url = f"/activities/{activity}"
    resident(client, city, 5)
    post_form(client, url, f"{url}/enrollment")
    client.cookies.clear()
    resident(client, city, 6)
    assert "报名候补" in client.get(url).text
    assert post_form(client, url, f"{url}/enrollment").status_code == 303
    assert "您在候补名单第 1 位" in client.get(url).text


def test_an_ended_activity_refuses_in_the_api_words(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    activity = make_activity(utcnow() - timedelta(hours=3), hours=1)
    resident(client, city, 7)
    url = f"/activities/{activity}"
    page = client.get(url).text
    assert "活动已结束" in page
    token = csrf_of(page)
    r = client.post(f"{url}/enrollment", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 409 and "活动已结束" in r.text


def test_enrol_without_the_form_token_changes_nothing(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    activity = make_activity(soon(), capacity=5)
    resident(client, city, 8)
    url = f"/activities/{activity}"
    r = client.post(f"{url}/enrollment", data={}, follow_redirects=False)
    assert r.status_code == 403 and "页面已过期" in r.text
    assert "还剩 5 个名额（共 5 个）" in client.get(url).text


def test_an_unknown_activity_is_a_404_page(client: TestClient, city: City) -> None:
    resident(client, city, 9)
    r = client.get(f"/activities/{uuid.uuid4()}")
    assert r.status_code == 404 and "<h1>" in r.text


def test_strangers_sign_in_first_and_staff_are_refused(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    r = client.get("/activities", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    sign_in(client, "organizer", DEMO_STAFF_PASSWORD)
    assert client.get("/activities").status_code == 403
