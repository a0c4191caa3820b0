"""The fraud pages of staff: the queue by risk (signals in words, days waited, late marks,
low-risk records approved together), the evidence view (weights, the map, "confirm as false
record") and the administrators' risk policy with its preview. Refusals write nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.activities import Participation
from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.fraud import Case
from civicpoints.fraud.models import PolicyRow
from civicpoints.identity.models import Resident
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.months import last_full_month

from .pages import csrf_of, post_form, sign_in
from .test_pages_admin_rewards import NEW_PASSWORD, new_staff
from .test_review_queue import pending

Sessions = sessionmaker[Session]


def waiting(
    sessions: Sessions, city: City, who: Resident, risk: int, flags: list[str], days: int = 0
) -> uuid.UUID:
    """A paper slip waiting for review with a risk score, signals and an age."""
    with transaction(sessions) as s:
        (record_id,) = pending(s, city, 0, who, 1)
        row = s.get(Participation, record_id)
        assert row is not None
        row.risk, row.flags = risk, flags
        row.created_at = utcnow() - timedelta(days=days, minutes=5)
    return record_id


def status_of(sessions: Sessions, record_id: uuid.UUID) -> str:
    with transaction(sessions) as s:
        row = s.get(Participation, record_id)
        assert row is not None
        return row.status


def test_the_queue_is_riskiest_first_in_words_with_late_records_marked(
    client: TestClient, city: City, sessions: Sessions, make_resident: Callable[..., Resident]
) -> None:
    li = make_resident("李建国")
    mild = waiting(sessions, city, li, 40, ["photo_far_from_site"])
    grave = waiting(sessions, city, li, 120, ["impossible_travel", "photo_near_duplicate"], 5)
    sign_in(client, "reviewer", DEMO_STAFF_PASSWORD)
    page = client.get("/staff/reviews").text
    assert page.index(str(grave)) < page.index(str(mild))
    assert "两次定位相距太远，在这段时间内无法到达" in page and "(+60)" in page
    assert "已等待超过 3 天" in page and "5 天" in page
    home = client.get("/staff").text
    assert "有 1 条记录等待审核已超过规定天数" in home and 'href="/staff/appeals"' in home
    client.cookies.clear()
    sign_in(client, "mz_reviewer", DEMO_STAFF_PASSWORD)  # another department's reviewer
    assert str(grave) not in client.get("/staff/reviews").text
    assert "超过规定天数" not in client.get("/staff").text


def test_low_risk_records_are_approved_together_all_or_none(
    client: TestClient, city: City, sessions: Sessions, make_resident: Callable[..., Resident]
) -> None:
    zhang = make_resident()
    low = [waiting(sessions, city, zhang, 0, []) for _ in range(2)]
    high = waiting(sessions, city, zhang, 40, ["photo_far_from_site"])
    sign_in(client, "reviewer", DEMO_STAFF_PASSWORD)
    page = client.get("/staff/reviews").text
    assert page.count('name="participation_ids"') == 2 and "批量通过" in page
    url = "/staff/reviews/bulk-approve"
    assert client.post(url, data={"participation_ids": [str(i) for i in low]}).status_code == 403
    r = post_form(client, "/staff/reviews", url, participation_ids=[*map(str, low), str(high)])
    assert r.status_code == 409 and "需逐条审核，本次均未通过" in r.text and str(high) in r.text
    assert 'href="#f-participation_ids"' in r.text
    r = post_form(client, "/staff/reviews", url)
    assert r.status_code == 422
    assert {status_of(sessions, i) for i in [*low, high]} == {"pending_review"}
    r = post_form(client, "/staff/reviews", url, participation_ids=[str(i) for i in low])
    assert r.status_code == 303
    assert "已批量通过 2 条低风险记录" in client.get(r.headers["location"]).text
    assert {status_of(sessions, i) for i in low} == {"approved"}


def test_a_record_confirmed_false_opens_a_case(
    client: TestClient, city: City, sessions: Sessions, make_resident: Callable[..., Resident]
) -> None:
    li = make_resident("李建国")
    record_id = waiting(sessions, city, li, 60, ["photo_reused"])
    with transaction(sessions) as s:
        row = s.get(Participation, record_id)
        assert row is not None
        row.checkin_lat, row.checkin_lon = 30.0, 120.0005  # ~48 m east: inside the 100 m circle
        row.checkout_lat, row.checkout_lon = 31.2400, 121.4900  # Shanghai: off the map
    client.cookies.clear()
    sign_in(client, "mz_reviewer", DEMO_STAFF_PASSWORD)
    assert client.get(f"/staff/reviews/{record_id}").status_code == 404  # out of scope
    client.cookies.clear()
    sign_in(client, "reviewer", DEMO_STAFF_PASSWORD)
    url = f"/staff/reviews/{record_id}"
    page = client.get(url).text
    assert "同一张照片已经用在另一条记录上" in page and "权重 +60" in page and "风险分 60" in page
    assert '<svg class="fence-map"' in page and "<title id=" in page and "<desc id=" in page
    assert "签到位置：在区域内" in page and "超出图幅" in page and "比例尺" in page
    assert 'name="fraud"' in page and "认定为虚假记录" in page
    decision = f"{url}/decision"
    fields = {"decision": "reject", "reason": "照片翻拍", "fraud": "yes"}
    assert client.post(decision, data=fields).status_code == 403
    r = post_form(client, url, decision, **{**fields, "decision": "approve"})
    assert r.status_code == 422 and 'href="#f-fraud"' in r.text  # only a rejection confirms
    assert status_of(sessions, record_id) == "pending_review"
    r = post_form(client, url, decision, **fields)
    assert r.status_code == 303 and r.headers["location"].endswith("decided=fraud")
    with transaction(sessions) as s:
        (case,) = s.scalars(select(Case)).all()
        assert case.participation_id == record_id and case.sanction == "warning"


# -- the administrators' risk policy -------------------------------------------------------

FORM = "/admin/risk"


def policy_form(client: TestClient, **changes: str) -> dict[str, str]:
    """The new-version form as the page fills it, with `changes`."""
    import re

    html = client.get(FORM).text.split('id="new-title"', 1)[1]
    fields = dict(re.findall(r'name="([sw]_\w+)"[^>]*value="([^"]*)"', html))
    fields |= dict(re.findall(r'name="(effective_from)"[^>]*value="([^"]*)"', html))
    return {**fields, "region_id": "", "note": "", **changes}


def versions(sessions: Sessions) -> int:
    with transaction(sessions) as s:
        return int(s.scalar(select(func.count()).select_from(PolicyRow)) or 0)


def test_an_administrator_previews_and_saves_a_policy_version(
    client: TestClient, city: City, sessions: Sessions, make_resident: Callable[..., Resident]
) -> None:
    li = make_resident("李建国")
    record_id = waiting(sessions, city, li, 40, ["photo_far_from_site"])  # weighs 40
    with transaction(sessions) as s:
        row = s.get(Participation, record_id)
        assert row is not None
        row.created_at = datetime.combine(last_full_month(local_date(utcnow())), time(12), UTC)
    sign_in(client, "admin", DEMO_STAFF_PASSWORD)
    page = client.get(FORM).text
    assert "系统默认设置" in page and "同一张照片已经用在另一条记录上" in page
    fields = policy_form(client, s_review_at="50")
    assert len([k for k in fields if k.startswith("w_")]) == 17
    r = post_form(client, FORM, f"{FORM}/preview", **fields)
    assert r.status_code == 200 and "现行设置" in r.text
    assert 'id="current-review">1<' in r.text and 'id="proposed-approve">1<' in r.text
    token = csrf_of(client.get(FORM).text)
    r = client.post(
        f"{FORM}/preview", data={"csrf_token": token, **fields}, headers={"HX-Request": "true"}
    )
    assert r.status_code == 200 and "<html" not in r.text and "本方案" in r.text
    bad = {**fields, "s_refuse_at": "20"}  # below review_at
    r = post_form(client, FORM, FORM, **bad)
    assert r.status_code == 422 and "自动驳回分数线不能低于复核分数线" in r.text
    assert 'href="#f-s_refuse_at"' in r.text
    r = post_form(client, FORM, FORM, **{**fields, "w_photo_reused": "abc"})
    assert r.status_code == 422 and 'href="#f-w_photo_reused"' in r.text
    assert client.post(FORM, data=fields).status_code == 403  # no form token
    assert versions(sessions) == 0
    r = post_form(client, FORM, FORM, **{**fields, "note": "提高复核线"})
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "新的风控设置版本已保存" in page and "提高复核线" in page
    assert versions(sessions) == 1


def test_only_administrators_of_the_scope_see_the_risk_policy(
    client: TestClient, city: City, sessions: Sessions
) -> None:
    for username in ("reviewer", "auditor"):
        client.cookies.clear()
        sign_in(client, username, DEMO_STAFF_PASSWORD)
        assert client.get(FORM).status_code == 403
        token = csrf_of(client.get("/staff").text)
        assert client.post(f"{FORM}/preview", data={"csrf_token": token}).status_code == 403
    client.cookies.clear()
    sign_in(client, "admin", DEMO_STAFF_PASSWORD)
    assert client.get(f"{FORM}?region=not-a-region").status_code == 403
    street, other = str(city.streets[0].id), str(city.streets[1].id)
    new_staff(client, city, "beishan_risk", "admin", street)
    client.cookies.clear()
    sign_in(client, "beishan_risk", NEW_PASSWORD)  # a street's administrator
    page = client.get(FORM).text
    assert f'value="{street}" selected' in page and 'value=""' not in page.split("</form>")[0]
    assert client.get(f"{FORM}?region={other}").status_code == 403
    fields = policy_form(client) | {"region_id": ""}
    assert post_form(client, FORM, f"{FORM}/preview", **fields).status_code == 403
    assert post_form(client, FORM, FORM, **fields).status_code == 403
    assert versions(sessions) == 0
    r = post_form(client, FORM, FORM, **(fields | {"region_id": street}))
    assert r.status_code == 303 and versions(sessions) == 1
