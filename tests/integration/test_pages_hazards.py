"""隐患随手拍 pages: the resident's form (no JavaScript needed) and 我的上报; the police's
queue, duplicate candidates and decision forms; messages; other departments get 404."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.community import HazardReport

from .conftest import WEST_LAKE
from .pages import csrf_of, post_form, sign_in
from .test_api import count, jpeg
from .test_pages_resident import resident


def send(client: TestClient, city: City, photo: bytes | None, **over: str) -> object:
    """Post the 随手拍 form as a browser without JavaScript would (no position)."""
    token = csrf_of(client.get("/hazards/new").text)
    data = {
        "csrf_token": token,
        "category": "safety",
        "community_id": str(city.communities[0].id),
        "address": "保俶路 12 号路口",
        "description": "井盖缺失",
        "lat": "",
        "lon": "",
    } | over
    files = {"photo": ("p.jpg", photo or b"", "image/jpeg")}
    return client.post("/hazards/new", data=data, files=files, follow_redirects=False)


def test_report_follow_and_decide_through_the_pages(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    resident(client, city, 1)
    form = client.get("/hazards/new")
    assert form.status_code == 200
    assert 'capture="environment"' in form.text and "随手拍" in client.get("/").text
    # No photo: the form again with the message beside the field, nothing written.
    bad = send(client, city, None)
    assert bad.status_code == 422 and "请拍一张隐患现场的照片" in bad.text  # type: ignore[attr-defined]
    assert count(sessions, HazardReport) == 0
    far = send(
        client,
        city,
        jpeg(WEST_LAKE[0] + 0.05, WEST_LAKE[1]),
        lat=str(WEST_LAKE[0]),
        lon=str(WEST_LAKE[1]),
    )
    assert far.status_code == 422 and "照片拍摄位置" in far.text  # type: ignore[attr-defined]
    ok = send(client, city, jpeg(*WEST_LAKE))
    assert ok.status_code == 303  # type: ignore[attr-defined]
    mine = client.get("/hazards")
    assert "等待部门处理" in mine.text and "杭州市公安局" in mine.text
    # The police decide it.
    client.cookies.clear()
    sign_in(client, "police_officer", DEMO_STAFF_PASSWORD)
    queue = client.get("/staff/hazards")
    assert "保俶路 12 号路口" in queue.text
    with sessions() as s:
        rid = s.query(HazardReport.id).scalar()
    page = f"/staff/hazards/{rid}"
    detail = client.get(page)
    assert detail.status_code == 200 and "没有其他关于此隐患的上报" in detail.text
    assert client.get(f"{page}/photo").headers["content-type"] == "image/jpeg"
    refused = post_form(client, page, f"{page}/decision", decision="reject", reason="")
    assert refused.status_code == 422 and "驳回须填写理由" in refused.text
    done = post_form(client, page, f"{page}/decision", decision="confirm")
    assert done.status_code == 303
    # The resident reads it, with the points.
    client.cookies.clear()
    sign_in(client, "13800000001", "Hangzhou#2026")
    assert "已确认" in client.get("/hazards").text
    messages = client.get("/notifications").text
    assert "您的隐患上报已确认" in messages and "20" in messages


def test_other_departments_get_404_on_a_report(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    resident(client, city, 1)
    assert send(client, city, jpeg(*WEST_LAKE)).status_code == 303  # type: ignore[attr-defined]
    with sessions() as s:
        rid = s.query(HazardReport.id).scalar()
    client.cookies.clear()
    sign_in(client, "env_officer", DEMO_STAFF_PASSWORD)
    assert "保俶路" not in client.get("/staff/hazards").text
    assert client.get(f"/staff/hazards/{rid}").status_code == 404
    assert client.get(f"/staff/hazards/{rid}/photo").status_code == 404
