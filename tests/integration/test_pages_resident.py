"""The resident's earning pages: activities, enrolment, check-in/out, records, history, news."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.identity.models import Resident
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings

from .conftest import WEST_LAKE
from .pages import csrf_of, post_form, sign_in
from .test_api import PASSWORD, jpeg, login, no_presence_minimum, resident_headers
from .test_receipts import sequence

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


# -- check in and out ----------------------------------------------------------------------

HERE = {"lat": str(WEST_LAKE[0]), "lon": str(WEST_LAKE[1])}


def enrolled(client: TestClient, activity: uuid.UUID) -> str:
    """Enrol through the page; returns the activity's URL."""
    url = f"/activities/{activity}"
    assert post_form(client, url, f"{url}/enrollment").status_code == 303
    return url


def attend(
    client: TestClient, url: str, action: str, photo: bytes | None = None, **fields: str
) -> httpx.Response:
    """Post the check-in or check-out form as a browser does (multipart, with its token)."""
    token = csrf_of(client.get(f"{url}/{action}").text)
    files = {"photo": ("p.jpg", photo, "image/jpeg")} if photo is not None else None
    data = {"csrf_token": token, **(fields or HERE)}
    return client.post(f"{url}/{action}", data=data, files=files, follow_redirects=False)


def records_count(client: TestClient) -> int:
    """How many records the resident's records page lists."""
    return client.get("/records").text.count('href="/records/')


def test_check_in_and_out_with_position_and_photo_earns_points(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    no_presence_minimum(client)
    start = utcnow() - timedelta(minutes=10)
    activity = make_activity(start, category="environmental", evidence="photo_gps")
    resident(client, city, 11)
    url = enrolled(client, activity)
    form = client.get(f"{url}/checkin").text
    assert 'accept="image/*"' in form and 'capture="environment"' in form
    assert 'enctype="multipart/form-data"' in form and 'name="lat"' in form
    assert "data-wait=" in form and "正在获取位置" in form
    r = attend(client, url, "checkin", jpeg(*WEST_LAKE))
    assert r.status_code == 303 and r.headers["location"].startswith("/records/")
    assert "已签到" in client.get(r.headers["location"]).text
    r = attend(client, url, "checkout")
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "您已获得 50 积分" in page and "每次有效参与 50 分" in page


def test_a_short_stay_waits_for_review_and_says_why(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    activity = make_activity(utcnow() - timedelta(minutes=10))
    resident(client, city, 12)
    url = enrolled(client, activity)
    assert attend(client, url, "checkin").status_code == 303
    r = attend(client, url, "checkout")
    page = client.get(r.headers["location"]).text
    assert "等待审核" in page and "您在现场的时间比活动要求的短" in page


def test_check_in_without_a_position_says_so_and_records_nothing(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    activity = make_activity(utcnow() - timedelta(minutes=10))
    resident(client, city, 13)
    url = enrolled(client, activity)
    r = attend(client, url, "checkin", lat="", lon="")
    assert r.status_code == 422 and "没有获取到您手机的位置" in r.text
    assert records_count(client) == 0


def test_check_in_far_away_is_refused_in_the_api_words(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    activity = make_activity(utcnow() - timedelta(minutes=10))
    resident(client, city, 14)
    url = enrolled(client, activity)
    r = attend(client, url, "checkin", lat="30.30", lon="120.20")
    assert r.status_code == 422 and "西湖断桥" in r.text and 'role="alert"' in r.text
    assert records_count(client) == 0


def test_a_bad_photo_undoes_the_check_in_it_came_with(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    activity = make_activity(utcnow() - timedelta(minutes=10))
    resident(client, city, 15)
    url = enrolled(client, activity)
    r = attend(client, url, "checkin", b"not a photo at all")
    assert r.status_code in (415, 422) and 'role="alert"' in r.text
    assert records_count(client) == 0
    assert attend(client, url, "checkin").status_code == 303  # then without it: fine


def test_a_photo_over_the_limit_is_refused_before_anything_changes(
    client: TestClient, city: City, settings: Settings, make_activity: MakeActivity
) -> None:
    activity = make_activity(utcnow() - timedelta(minutes=10))
    resident(client, city, 16)
    url = enrolled(client, activity)
    huge = b"\xff\xd8" + b"0" * (settings.upload_max_bytes + 70_000)
    r = attend(client, url, "checkin", huge)
    assert r.status_code == 413 and "文件太大" in r.text
    assert records_count(client) == 0


def test_check_in_without_the_form_token_changes_nothing(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    activity = make_activity(utcnow() - timedelta(minutes=10))
    resident(client, city, 17)
    url = enrolled(client, activity)
    r = client.post(f"{url}/checkin", data=HERE, files={"photo": ("p.jpg", jpeg(), "image/jpeg")})
    assert r.status_code == 403 and "页面已过期" in r.text
    assert records_count(client) == 0


def test_a_stranger_posting_a_photo_is_sent_to_sign_in(
    client: TestClient, make_activity: MakeActivity
) -> None:
    activity = make_activity(utcnow() - timedelta(minutes=10))
    r = client.post(
        f"/activities/{activity}/checkin",
        data=HERE,
        files={"photo": ("p.jpg", jpeg(), "image/jpeg")},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


# -- records, history, receipts ------------------------------------------------------------


def test_records_show_the_reviewers_reason_and_others_are_404(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    activity = make_activity(utcnow() - timedelta(minutes=10))
    resident(client, city, 18)
    url = enrolled(client, activity)
    attend(client, url, "checkin")
    record_url = attend(client, url, "checkout").headers["location"]
    record_id = record_url.rsplit("/", 1)[1]
    decision = {"decision": "reject", "reason": "照片里看不到您本人"}
    reviewer = login(client, "reviewer")
    r = client.post(f"/api/v1/reviews/{record_id}/decision", json=decision, headers=reviewer)
    assert r.status_code == 200, r.text
    assert "照片里看不到您本人" in client.get("/records").text
    assert "审核人员没有通过" in client.get(record_url).text
    client.cookies.clear()
    resident(client, city, 19)
    r = client.get(record_url)
    assert r.status_code == 404 and "照片里看不到您本人" not in r.text
    assert "找不到这条服务记录" in r.text


def test_history_explains_each_line_and_gives_its_receipt(
    client: TestClient, city: City, settings: Settings, make_activity: MakeActivity
) -> None:
    no_presence_minimum(client)
    activity = make_activity(utcnow() - timedelta(minutes=10), category="environmental")
    resident(client, city, 20)
    url = enrolled(client, activity)
    attend(client, url, "checkin", jpeg(*WEST_LAKE))
    attend(client, url, "checkout")
    page = client.get("/history").text
    assert "+50 分" in page and "每次有效参与 50 分" in page and "本月剩余" in page
    entry_id = re.search(r'href="/history/([0-9a-f-]+)/receipt"', page).group(1)  # type: ignore[union-attr]
    sequence(settings)
    r = client.get(f"/history/{entry_id}/receipt")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.headers["content-disposition"] == f'attachment; filename="receipt-{entry_id}.json"'
    assert r.json()["entry"]["amount"] == 50
    client.cookies.clear()
    resident(client, city, 21)
    other = client.get(f"/history/{entry_id}/receipt")
    assert other.status_code == 404 and "找不到该积分分录" in other.text
    unknown = client.get(f"/history/{uuid.uuid4()}/receipt")
    assert unknown.status_code == 404 and "找不到该积分分录" in unknown.text


def test_history_pages_by_twenty(
    client: TestClient, city: City, fund: Callable[..., None], sessions: sessionmaker[Session]
) -> None:
    resident(client, city, 22)
    with transaction(sessions) as s:
        me = s.scalars(select(Resident).where(Resident.name == "张秀英")).all()[-1].id
    for _ in range(25):
        fund(me, 1)
    first = client.get("/history").text
    assert first.count("/receipt") == 20 and "更早的记录" in first
    older = re.search(r'href="(/history\?before=\d+)"', first).group(1)  # type: ignore[union-attr]
    assert client.get(older).text.count("/receipt") == 5


# -- messages ------------------------------------------------------------------------------


def test_messages_tell_of_points_expiry_and_refusals_newest_first(
    client: TestClient, city: City, make_activity: MakeActivity, fund: Callable[..., None]
) -> None:
    no_presence_minimum(client)
    earn = make_activity(utcnow() - timedelta(minutes=10), category="environmental")
    refuse = make_activity(utcnow() - timedelta(minutes=10), title="社区巡逻", flag_outside=True)
    resident(client, city, 23)
    assert "还没有消息" in client.get("/notifications").text
    url = enrolled(client, earn)
    attend(client, url, "checkin", jpeg(*WEST_LAKE))
    attend(client, url, "checkout")
    url = enrolled(client, refuse)
    attend(client, url, "checkin")
    last = attend(client, url, "checkout", lat="30.30", lon="120.20").headers["location"]
    assert "签退时，您的手机不在活动地点" in client.get(last).text
    decision = {"decision": "reject", "reason": "签退位置不对"}
    reviewer = login(client, "reviewer")
    record_id = last.rsplit("/", 1)[1]
    r = client.post(f"/api/v1/reviews/{record_id}/decision", json=decision, headers=reviewer)
    assert r.status_code == 200, r.text
    me = client.get("/api/v1/me", headers=login(client, "13800000023", PASSWORD)).json()["id"]
    fund(uuid.UUID(me), 30, days=10)
    page = client.get("/notifications").text
    assert "您获得了 50 积分" in page
    assert "30 分将于" in page or "30 积分将于" in page
    assert "您的服务记录没有通过审核：社区巡逻" in page and "签退位置不对" in page
    assert page.index("将于") < page.index("没有通过审核") < page.index("您获得了 50 积分")


def test_messages_are_only_ones_own(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    no_presence_minimum(client)
    activity = make_activity(utcnow() - timedelta(minutes=10), category="environmental")
    resident(client, city, 24)
    url = enrolled(client, activity)
    attend(client, url, "checkin", jpeg(*WEST_LAKE))
    attend(client, url, "checkout")
    assert "您获得了 50 积分" in client.get("/notifications").text
    client.cookies.clear()
    resident(client, city, 25)
    assert "您获得了 50 积分" not in client.get("/notifications").text
