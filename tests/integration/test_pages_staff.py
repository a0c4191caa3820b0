"""The staff console: activities, the service point (lookup, slips, import) and reviews."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Role
from civicpoints.activities.models import Evidence as PhotoEvidence
from civicpoints.activities.models import Participation
from civicpoints.activities.photos import PhotoService
from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.identity.models import Resident
from civicpoints.identity.schemas import ResidentCreate
from civicpoints.identity.service import IdentityService
from civicpoints.kit.clock import BUSINESS_TZ, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction

from .conftest import WEST_LAKE, id_number
from .pages import csrf_of, post_form, sign_in
from .test_api import PASSWORD, register, scene

Sessions = sessionmaker[Session]


def as_staff(client: TestClient, username: str) -> None:
    sign_in(client, username, DEMO_STAFF_PASSWORD)


def local(at: datetime) -> str:
    """A datetime-local value in Beijing time."""
    return at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%dT%H:%M")


def records(sessions: Sessions) -> list[Participation]:
    with transaction(sessions) as s:
        return list(s.scalars(select(Participation)).all())


def other_street_staff(sessions: Sessions, ctx: Context, city: City, role: str) -> str:
    """A staff member with `role` over the second street (北山街道 is the first)."""
    username = f"other_{role}"
    with transaction(sessions) as s:
        identity = IdentityService(s, ctx)
        member = identity.add_staff(username, "西溪街道 同事", DEMO_STAFF_PASSWORD + "x")
        identity.grant(member, role, region_id=city.streets[1].id)
    return username


def sign_in_other(client: TestClient, username: str) -> None:
    sign_in(client, username, DEMO_STAFF_PASSWORD + "x")


def past_activity(make_activity: Callable[..., uuid.UUID], **kw: object) -> uuid.UUID:
    return make_activity(utcnow() - timedelta(days=2), **kw)


def slip(client: TestClient, resident: Resident, activity: uuid.UUID, no: str) -> str:
    """Enter a paper slip through the page; the new record's print page."""
    start = utcnow() - timedelta(days=2)
    r = post_form(
        client,
        f"/staff/slips/new?resident={resident.id}",
        f"/staff/slips/new?resident={resident.id}",
        resident=resident.public_no,
        activity_id=str(activity),
        slip_no=no,
        started_at=local(start),
        ended_at=local(start + timedelta(hours=2)),
        note="",
    )
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


# -- who may open what -----------------------------------------------------------------


def test_a_resident_opening_the_console_gets_403(client: TestClient, city: City) -> None:
    assert register(client, city, 31).status_code == 201
    sign_in(client, "13800000031", PASSWORD)
    for path in ("/staff", "/staff/reviews", "/staff/residents"):
        r = client.get(path)
        assert r.status_code == 403, path
        assert "<h1" in r.text and 'class="staff-nav"' not in r.text


def test_a_stranger_is_sent_to_sign_in_and_lands_on_the_console(client: TestClient) -> None:
    r = client.get("/staff/reviews", follow_redirects=False)
    assert r.headers["location"] == "/login?next=%2Fstaff%2Freviews"
    r = post_form(client, "/login", "/login", username="organizer", password=DEMO_STAFF_PASSWORD)
    assert r.headers["location"] == "/staff"


def test_the_nav_shows_only_what_the_roles_allow(client: TestClient, city: City) -> None:
    as_staff(client, "organizer")
    page = client.get("/staff").text
    assert 'class="staff-nav"' in page and 'body class="normal staff"' in page
    assert 'href="/staff/activities"' in page and 'href="/staff/reviews"' not in page
    assert "长辈模式" not in page and 'action="/elder"' not in page
    client.post("/logout", data={"csrf_token": csrf_of(page)})
    as_staff(client, "reviewer")
    page = client.get("/staff").text
    assert 'href="/staff/reviews"' in page and 'href="/staff/activities"' not in page
    assert client.get("/staff/activities").status_code == 403
    assert client.get("/staff/import").status_code == 403


# -- activities ------------------------------------------------------------------------


def activity_form(city: City, **over: str) -> dict[str, str]:
    start = utcnow() + timedelta(days=3)
    form = {
        "title": "河道清理",
        "description": "",
        "category": "environmental",
        "organization_id": str(city.committees[0].id),
        "region_id": str(city.communities[0].id),
        "place_name": "北山街道 西湖边",
        "coords": "30.2741， 120.1551",
        "radius_m": "150",
        "starts_at": local(start),
        "ends_at": local(start + timedelta(hours=2)),
        "capacity": "20",
        "evidence": "photo_gps",
        "publish": "yes",
    }
    return {**form, **over}


def test_an_organizer_publishes_an_activity_with_pasted_coordinates(
    client: TestClient, city: City
) -> None:
    as_staff(client, "organizer")
    r = post_form(client, "/staff/activities/new", "/staff/activities/new", **activity_form(city))
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    assert "河道清理" in page.text and "150 米" in page.text and "30.2741" in page.text
    assert 'hx-trigger="every 10s"' in page.text and "0 / 20" not in page.text
    assert "已报名 0 人，共 20 个名额" in page.text
    fragment = client.get(r.headers["location"] + "/roster")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "河道清理" in client.get("/staff/activities").text


@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"coords": "西湖"}, "coords", "纬度"),
        ({"radius_m": "0"}, "radius_m", "半径"),
        ({"capacity": "0"}, "capacity", "1"),
    ],
)
def test_the_activity_form_shows_the_api_message_beside_the_field(
    client: TestClient, city: City, over: dict[str, str], field: str, message: str
) -> None:
    as_staff(client, "organizer")
    r = post_form(
        client, "/staff/activities/new", "/staff/activities/new", **activity_form(city, **over)
    )
    assert r.status_code == 422
    beside = re.search(rf'id="f-{field}-error">(.*?)</p>', r.text, re.S)
    assert beside and message in beside.group(1), r.text
    assert f'href="#f-{field}"' in r.text


def test_an_end_before_the_start_is_refused_with_the_api_words(
    client: TestClient, city: City
) -> None:
    as_staff(client, "organizer")
    form = activity_form(city)
    form["ends_at"] = form["starts_at"]
    r = post_form(client, "/staff/activities/new", "/staff/activities/new", **form)
    assert r.status_code == 422 and 'id="f-ends_at-error"' in r.text


def test_another_streets_organizer_sees_no_roster_and_cannot_cancel(
    client: TestClient,
    city: City,
    sessions: Sessions,
    ctx: Context,
    make_activity: Callable[..., uuid.UUID],
) -> None:
    activity = make_activity(utcnow() + timedelta(days=1))
    sign_in_other(client, other_street_staff(sessions, ctx, city, Role.ORGANIZER))
    assert client.get(f"/staff/activities/{activity}").status_code == 404
    assert client.get(f"/staff/activities/{activity}/roster").status_code == 404
    r = post_form(client, "/staff", f"/staff/activities/{activity}/cancel")
    assert r.status_code == 404
    assert "垃圾分类指导" not in client.get("/staff/activities").text


def test_cancel_asks_on_a_page_first(
    client: TestClient, make_activity: Callable[..., uuid.UUID]
) -> None:
    activity = make_activity(utcnow() + timedelta(days=1))
    as_staff(client, "organizer")
    ask = client.get(f"/staff/activities/{activity}/cancel")
    assert "确定取消这个活动吗" in ask.text
    r = client.post(f"/staff/activities/{activity}/cancel", follow_redirects=False)
    assert r.status_code == 403  # no token: nothing changes
    assert "已取消" not in client.get(f"/staff/activities/{activity}").text
    r = post_form(
        client, f"/staff/activities/{activity}/cancel", f"/staff/activities/{activity}/cancel"
    )
    assert r.status_code == 303
    assert "已取消" in client.get(f"/staff/activities/{activity}").text


# -- the service point -----------------------------------------------------------------


def resident_elsewhere(sessions: Sessions, ctx: Context, city: City, name: str) -> Resident:
    data = ResidentCreate(
        name=name,
        id_number=id_number(77),
        phone="13900009977",
        password="Qiantang-tide-1958",
        community_id=city.communities[3].id,  # the second street's first community
        consent=True,
    )
    with transaction(sessions) as s:
        return IdentityService(s, ctx).register(data, password_hash="x")


def test_a_resident_is_found_by_name_and_id_digits_with_numbers_masked(
    client: TestClient,
    city: City,
    sessions: Sessions,
    ctx: Context,
    make_resident: Callable[..., Resident],
) -> None:
    mine = make_resident(name="王秀兰")
    make_resident(name="王秀兰")  # same name, other digits
    resident_elsewhere(sessions, ctx, city, "王秀兰")
    last4 = mine.id_masked[-4:]
    as_staff(client, "organizer")
    page = client.get("/staff/residents", params={"name": "王秀兰", "last4": last4}).text
    assert mine.public_no in page and mine.id_masked in page and mine.phone_masked in page
    assert page.count("/staff/slips/new?resident=") == 1  # not the namesake, not elsewhere
    assert id_number(1) not in page and "13900000001" not in page
    by_number = client.get("/staff/residents", params={"number": mine.public_no}).text
    assert f"/staff/slips/new?resident={mine.id}" in by_number


def test_lookup_stays_within_the_staff_members_streets(
    client: TestClient, city: City, sessions: Sessions, ctx: Context
) -> None:
    far = resident_elsewhere(sessions, ctx, city, "赵桂芳")
    as_staff(client, "organizer")
    page = client.get("/staff/residents", params={"name": "赵桂芳", "last4": far.id_masked[-4:]})
    assert far.public_no not in page.text and "没有找到" in page.text
    by_number = client.get("/staff/residents", params={"number": far.public_no}).text
    assert "/staff/slips/new?resident=" not in by_number and "没有找到" in by_number
    assert client.get(f"/staff/slips/new?resident={far.id}").status_code == 404


def test_lookup_explains_a_bad_question(client: TestClient) -> None:
    as_staff(client, "organizer")
    r = client.get("/staff/residents", params={"name": "王秀兰", "last4": "12"})
    assert r.status_code == 422 and 'id="f-last4-error"' in r.text


def test_a_paper_slip_is_entered_and_printed(
    client: TestClient,
    sessions: Sessions,
    make_resident: Callable[..., Resident],
    make_activity: Callable[..., uuid.UUID],
) -> None:
    elder = make_resident(name="周阿婆")
    activity = past_activity(make_activity)
    as_staff(client, "organizer")
    form = client.get(f"/staff/slips/new?resident={elder.id}").text
    assert "周阿婆" in form and elder.id_masked in form and "垃圾分类指导" in form
    where = slip(client, elder, activity, "BS-0001")
    page = client.get(where).text
    assert "BS-0001" in page and elder.id_masked in page and "等待审核" in page
    (record,) = records(sessions)
    assert record.status == "pending_review" and record.source == "offline"
    assert client.get("/staff/slips/blank").status_code == 200


def test_a_slip_with_an_impossible_time_is_refused_beside_the_field(
    client: TestClient,
    sessions: Sessions,
    make_resident: Callable[..., Resident],
    make_activity: Callable[..., uuid.UUID],
) -> None:
    elder = make_resident()
    activity = past_activity(make_activity)
    as_staff(client, "organizer")
    start = utcnow() - timedelta(days=2)
    r = post_form(
        client,
        "/staff/slips/new",
        "/staff/slips/new",
        resident=elder.public_no,
        activity_id=str(activity),
        slip_no="BS-2",
        started_at=local(start),
        ended_at=local(start - timedelta(hours=1)),
        note="",
    )
    assert r.status_code == 422 and 'id="f-ended_at-error"' in r.text
    assert records(sessions) == []


def test_another_street_cannot_print_a_slip(
    client: TestClient,
    city: City,
    sessions: Sessions,
    ctx: Context,
    make_resident: Callable[..., Resident],
    make_activity: Callable[..., uuid.UUID],
) -> None:
    as_staff(client, "organizer")
    where = slip(client, make_resident(), past_activity(make_activity), "BS-3")
    client.cookies.clear()
    sign_in_other(client, other_street_staff(sessions, ctx, city, Role.ORGANIZER))
    assert client.get(where).status_code == 404


def csv_file(rows: list[str]) -> bytes:
    return ("slip_no,resident,activity_id,started_at,ended_at,note\n" + "\n".join(rows)).encode()


def test_import_previews_every_row_and_writes_nothing_with_a_bad_row(
    client: TestClient,
    sessions: Sessions,
    make_resident: Callable[..., Resident],
    make_activity: Callable[..., uuid.UUID],
) -> None:
    a, b = make_resident(), make_resident()
    activity = past_activity(make_activity)
    start = (utcnow() - timedelta(days=2)).astimezone(BUSINESS_TZ)
    t0, t1 = (
        start.strftime("%Y-%m-%d %H:%M"),
        (start + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
    )
    good = csv_file(
        [f"S1,{a.public_no},{activity},{t0},{t1},", f"S2,{b.public_no},{activity},{t0},{t1},"]
    )
    bad = csv_file(
        [f"S1,{a.public_no},{activity},{t0},{t1},", f"S2,{b.public_no},{activity},{t1},{t0},"]
    )
    as_staff(client, "organizer")
    token = csrf_of(client.get("/staff/import").text)
    r = client.post("/staff/import", data={"csrf_token": token}, files={"file": ("s.csv", bad)})
    assert r.status_code == 200
    assert (
        "第 3 行" in r.text and "未保存任何记录" in r.text and "/staff/import/confirm" not in r.text
    )
    assert records(sessions) == []
    r = client.post("/staff/import", data={"csrf_token": token}, files={"file": ("s.csv", good)})
    assert records(sessions) == [] and "/staff/import/confirm" in r.text
    payload = re.search(r'name="payload" value="([^"]+)"', r.text)
    assert payload
    done = client.post(
        "/staff/import/confirm",
        data={"csrf_token": token, "payload": payload.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "新增 2 条" in client.get(done.headers["location"]).text
    assert len(records(sessions)) == 2


def test_the_import_template_has_the_exact_columns(client: TestClient) -> None:
    as_staff(client, "organizer")
    r = client.get("/staff/import/template.csv")
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.decode("utf-8-sig").splitlines()[0] == (
        "slip_no,resident,activity_id,started_at,ended_at,note"
    )


def test_import_without_a_token_or_a_file(client: TestClient) -> None:
    as_staff(client, "organizer")
    r = client.post("/staff/import", files={"file": ("s.csv", b"x")}, follow_redirects=False)
    assert r.status_code == 403
    token = csrf_of(client.get("/staff/import").text)
    r = client.post("/staff/import", data={"csrf_token": token})
    assert r.status_code == 422 and 'id="f-file-error"' in r.text


# -- reviews ---------------------------------------------------------------------------


def dms(value: float) -> tuple[float, float, float]:
    """Degrees, minutes, seconds as EXIF writes them."""
    minutes = value % 1 * 60
    return float(int(value)), float(int(minutes)), round(minutes % 1 * 60, 2)


def jpeg_at(lat: float, lon: float, taken: str) -> bytes:
    """A small JPEG with an EXIF time and GPS position."""
    exif = Image.Exif()
    exif[0x0132] = taken  # DateTime
    exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    out = io.BytesIO()
    scene().save(out, "JPEG", exif=exif)
    return out.getvalue()


def pending_with_photo(
    client: TestClient,
    sessions: Sessions,
    ctx: Context,
    resident: Resident,
    activity: uuid.UUID,
) -> uuid.UUID:
    slip(client, resident, activity, "BS-9")
    (record,) = records(sessions)
    taken = (utcnow() - timedelta(days=2)).astimezone(BUSINESS_TZ).strftime("%Y:%m:%d %H:%M:%S")
    photo = jpeg_at(WEST_LAKE[0] + 0.01, WEST_LAKE[1], taken)  # about 1.1 km north
    with transaction(sessions) as s:
        PhotoService(s, ctx).upload(record.id, resident.id, photo, "test")
    return record.id


def test_a_reviewer_sees_the_evidence_side_by_side_and_approves(
    client: TestClient,
    sessions: Sessions,
    ctx: Context,
    make_resident: Callable[..., Resident],
    make_activity: Callable[..., uuid.UUID],
) -> None:
    elder = make_resident(name="孙大爷")
    as_staff(client, "organizer")
    record = pending_with_photo(client, sessions, ctx, elder, past_activity(make_activity))
    client.cookies.clear()
    as_staff(client, "reviewer")
    queue = client.get("/staff/reviews").text
    assert f"/staff/reviews/{record}" in queue and "孙大爷" in queue
    page = client.get(f"/staff/reviews/{record}").text
    assert elder.id_masked in page and id_number(1) not in page
    assert "米" in page and "区域外" in page  # the photo's distance from the area
    assert "照片自带的位置离活动地点较远" in page
    img = re.search(r'<img src="([^"]+)"', page)
    assert img
    photo = client.get(img.group(1))
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    r = post_form(
        client, f"/staff/reviews/{record}", f"/staff/reviews/{record}/decision", decision="approve"
    )
    assert r.status_code == 303
    assert [p.status for p in records(sessions)] == ["approved"]


def test_a_rejection_needs_a_reason_and_takes_a_common_one(
    client: TestClient,
    sessions: Sessions,
    make_resident: Callable[..., Resident],
    make_activity: Callable[..., uuid.UUID],
) -> None:
    as_staff(client, "organizer")
    slip(client, make_resident(), past_activity(make_activity), "BS-5")
    (record,) = records(sessions)
    client.cookies.clear()
    as_staff(client, "reviewer")
    path = f"/staff/reviews/{record.id}"
    r = post_form(client, path, path + "/decision", decision="reject", reason="")
    assert r.status_code == 422 and 'id="f-reason-error"' in r.text
    r = post_form(
        client,
        path,
        path + "/decision",
        decision="reject",
        reason_choice="The paper slip is incomplete or cannot be read",
        reason="缺少签名",
    )
    assert r.status_code == 303
    (after,) = records(sessions)
    assert after.status == "rejected" and after.review_reason == "纸质单据不完整或看不清；缺少签名"


def test_a_reviewer_of_another_street_gets_404_and_cannot_decide(
    client: TestClient,
    city: City,
    sessions: Sessions,
    ctx: Context,
    make_resident: Callable[..., Resident],
    make_activity: Callable[..., uuid.UUID],
) -> None:
    resident = make_resident()
    as_staff(client, "organizer")
    record = pending_with_photo(client, sessions, ctx, resident, past_activity(make_activity))
    with transaction(sessions) as s:
        (photo_id,) = s.scalars(select(PhotoEvidence.id)).all()
    client.cookies.clear()
    sign_in_other(client, other_street_staff(sessions, ctx, city, Role.REVIEWER))
    assert f"/staff/reviews/{record}" not in client.get("/staff/reviews").text
    assert client.get(f"/staff/reviews/{record}").status_code == 404
    assert client.get(f"/staff/reviews/{record}/photos/{photo_id}").status_code == 404
    r = post_form(client, "/staff/reviews", f"/staff/reviews/{record}/decision", decision="approve")
    assert r.status_code == 404
    assert [p.status for p in records(sessions)] == ["pending_review"]


def test_a_decision_without_the_token_changes_nothing(
    client: TestClient,
    sessions: Sessions,
    make_resident: Callable[..., Resident],
    make_activity: Callable[..., uuid.UUID],
) -> None:
    as_staff(client, "organizer")
    slip(client, make_resident(), past_activity(make_activity), "BS-6")
    (record,) = records(sessions)
    client.cookies.clear()
    as_staff(client, "reviewer")
    r = client.post(
        f"/staff/reviews/{record.id}/decision", data={"decision": "approve"}, follow_redirects=False
    )
    assert r.status_code == 403
    assert [p.status for p in records(sessions)] == ["pending_review"]
