"""The reviewer's evidence view of issue 10: each photo beside its look-alikes from other records
(the image only when the reviewer may open that record; else the facts in words, nobody
named), the clawback of an approved record with its result in words, a resident's records by
platform number, and dates written as people write them. Refusals write nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities import (
    ActivityCreate,
    ActivityService,
    FraudDesk,
    OfflineService,
    Participation,
)
from civicpoints.activities.models import Evidence
from civicpoints.activities.photos import PhotoService
from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.fraud import Case
from civicpoints.identity.models import Resident
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.months import last_full_month
from civicpoints.ledger import LedgerService, wallet_of
from tests import fraud_images

from .conftest import WEST_LAKE
from .pages import csrf_of, post_form, sign_in
from .test_clawback import spend
from .test_fraud_cases import refuse_as_fraud
from .test_fraud_signals_wired import check_in, check_out
from .test_pages_fraud import signed_in_resident
from .test_pages_fraud_staff import FORM, policy_form
from .test_review_queue import pending

Sessions = sessionmaker[Session]
START = datetime(2026, 11, 10, 1, 0, tzinfo=UTC)  # 09:00 Beijing time


@dataclass(frozen=True)
class Scene:
    """李先生's photo used three times: his approved record (in the reviewer's street), his
    record with a resized copy (same street), and 赵桂兰's record with another copy in a
    department's activity of another street (out of the street reviewer's scope)."""

    li: Resident
    kept: uuid.UUID
    kept_photo: uuid.UUID
    copied: uuid.UUID
    far: uuid.UUID
    far_photo: uuid.UUID


def _attend(
    sessions: Sessions,
    ctx: Context,
    activity: uuid.UUID,
    who: Resident,
    start: datetime,
    data: bytes,
) -> tuple[uuid.UUID, uuid.UUID]:
    """Check in and out at West Lake with a photo: the record's id and the photo's."""
    check_in(sessions, ctx, activity, who.id, WEST_LAKE, start)
    record = check_out(sessions, ctx, activity, who.id, WEST_LAKE, start + timedelta(hours=1))
    with transaction(sessions) as s:
        PhotoService(s, ctx).upload(record.id, who.id, data, "test")
        photo = s.scalars(select(Evidence.id).where(Evidence.participation_id == record.id))
        return record.id, photo.one()


def _far_activity(sessions: Sessions, city: City, staff: Callable[[str], Principal]) -> uuid.UUID:
    """The environment bureau's clean-up in another street's community."""
    data = ActivityCreate(
        organization_id=city.departments["HB"].id,
        region_id=city.communities[3].id,
        title="钱江新城环保日",
        category="environmental",
        starts_at=START + timedelta(days=1),
        ends_at=START + timedelta(days=1, hours=2),
        place_name="钱江新城",
        geofence={"type": "circle", "lat": WEST_LAKE[0], "lon": WEST_LAKE[1], "radius_m": 200},
        capacity=50,
        evidence="photo",
    )
    with transaction(sessions) as s:
        return ActivityService(s).create(data, staff("env_officer")).id


@pytest.fixture
def scene(
    sessions: Sessions,
    ctx: Context,
    city: City,
    staff: Callable[[str], Principal],
    make_resident: Callable[..., Resident],
    make_activity: Callable[..., uuid.UUID],
) -> Scene:
    li, zhao = make_resident("李建国"), make_resident("赵桂兰")
    first = make_activity(START, category="environmental", evidence="photo", title="西湖边捡垃圾")
    second = make_activity(
        START + timedelta(days=3), category="environmental", evidence="photo", title="断桥环保行动"
    )
    far = _far_activity(sessions, city, staff)
    original = fraud_images.photo(11)
    image = fraud_images.load(original)
    small = fraud_images.jpeg(image.resize((image.width * 4 // 5, image.height * 4 // 5)), 70)
    other = fraud_images.jpeg(image.resize((image.width * 9 // 10, image.height * 9 // 10)), 60)
    kept, kept_photo = _attend(sessions, ctx, first, li, START, original)
    far_record, far_photo = _attend(sessions, ctx, far, zhao, START + timedelta(days=1), other)
    copied, _ = _attend(sessions, ctx, second, li, START + timedelta(days=3), small)
    with transaction(sessions) as s:
        row = s.get(Participation, kept)
        assert row is not None and row.status == "approved"
    return Scene(li, kept, kept_photo, copied, far_record, far_photo)


def test_each_photo_shows_its_look_alikes_with_the_image_only_in_scope(
    client: TestClient, scene: Scene
) -> None:
    sign_in(client, "reviewer", DEMO_STAFF_PASSWORD)
    page = client.get(f"/staff/reviews/{scene.copied}").text
    assert "相似的照片" in page
    # his own earlier record, in the street: the image, the record, in words how near
    assert f'src="/staff/reviews/{scene.kept}/photos/{scene.kept_photo}"' in page
    assert f'href="/staff/reviews/{scene.kept}"' in page
    assert "同一位居民" in page and "西湖边捡垃圾" in page
    assert re.search(r"(完全相同|几乎相同|非常相似)（差 \d 位）", page)
    # 赵桂兰's record in another street: what and when in words, no image, nobody named
    assert "另一位居民" in page and "钱江新城环保日" in page and "不在您的审核范围内" in page
    assert str(scene.far) not in page and str(scene.far_photo) not in page
    assert "赵桂兰" not in page
    assert client.get(f"/staff/reviews/{scene.far}/photos/{scene.far_photo}").status_code == 404
    client.get("/lang/en")
    page = client.get(f"/staff/reviews/{scene.copied}").text
    assert "Similar photos" in page and re.search(r"bits? apart\)", page)
    client.cookies.clear()
    sign_in(client, "auditor", DEMO_STAFF_PASSWORD)  # city-wide: sees both, decides nothing
    page = client.get(f"/staff/reviews/{scene.copied}").text
    assert f'src="/staff/reviews/{scene.far}/photos/{scene.far_photo}"' in page
    assert 'name="decision"' not in page
    assert client.get(f"/staff/reviews/{scene.far}/photos/{scene.far_photo}").status_code == 200


def balance_and_debt(sessions: Sessions, who: Resident) -> tuple[int, int]:
    with transaction(sessions) as s:
        ledger = LedgerService(s)
        return ledger.balance(wallet_of(who.id)), ledger.debt(wallet_of(who.id))


def cases(sessions: Sessions) -> int:
    with transaction(sessions) as s:
        return int(s.scalar(select(func.count()).select_from(Case)) or 0)


def status_of(sessions: Sessions, record_id: uuid.UUID) -> str:
    with transaction(sessions) as s:
        row = s.get(Participation, record_id)
        assert row is not None
        return row.status


def test_a_reviewer_takes_back_an_approved_record_from_its_evidence_view(
    client: TestClient, city: City, sessions: Sessions, scene: Scene
) -> None:
    awarded, _ = balance_and_debt(sessions, scene.li)
    assert awarded > 20
    with transaction(sessions) as s:
        spend(s, wallet_of(scene.li.id), awarded - 20, "evidence-spend")
    url = f"/staff/reviews/{scene.kept}"
    action = f"{url}/clawback"
    sign_in(client, "mz_reviewer", DEMO_STAFF_PASSWORD)  # another department: not found
    assert client.get(url).status_code == 404
    token = csrf_of(client.get("/staff").text)
    r = client.post(action, data={"csrf_token": token, "reason": "照片重复使用"})
    assert r.status_code == 404
    client.cookies.clear()
    sign_in(client, "reviewer", DEMO_STAFF_PASSWORD)
    page = client.get(url).text
    assert f'action="{action}"' in page and 'name="decision"' not in page
    assert client.post(action, data={"reason": "照片重复使用"}).status_code == 403  # no token
    r = post_form(client, url, action, reason="  ")
    assert r.status_code == 422 and 'role="alert"' in r.text and 'href="#f-reason"' in r.text
    r = post_form(client, url, action, reason="很" * 501)
    assert r.status_code == 422 and 'href="#f-reason"' in r.text
    assert status_of(sessions, scene.kept) == "approved" and cases(sessions) == 0
    assert balance_and_debt(sessions, scene.li) == (20, 0)
    r = post_form(client, url, action, reason="同一张照片用于两条记录")
    assert r.status_code == 303 and r.headers["location"] == f"{url}?clawed=1"
    page = client.get(r.headers["location"]).text
    assert 'role="status"' in page and "已追回" in page
    assert "追回 20 积分" in page
    assert f"{awarded - 20} 积分已被使用，记为欠分" in page
    assert "服务时长扣除 1 小时" in page and "警告" in page
    assert f'action="{action}"' not in page  # once only
    assert status_of(sessions, scene.kept) == "revoked" and cases(sessions) == 1
    assert balance_and_debt(sessions, scene.li) == (0, awarded - 20)  # never below zero
    r = post_form(client, url, action, reason="再追回一次")  # the form is gone; a replay
    assert r.status_code == 409 and cases(sessions) == 1
    with transaction(sessions) as s:
        (case,) = s.scalars(select(Case)).all()
        assert case.kind == "clawback" and case.points_taken == 20


def test_the_resident_is_told_why_points_were_taken_back(
    client: TestClient,
    city: City,
    sessions: Sessions,
    ctx: Context,
    staff: Callable[..., Principal],
) -> None:
    li = signed_in_resident(client, city, sessions, 81)
    with transaction(sessions) as s:
        (record_id,) = pending(s, city, 0, li, 1)
    with transaction(sessions) as s:
        OfflineService(s, ctx).decide(record_id, True, "", staff("reviewer"))
    with transaction(sessions) as s:
        FraudDesk(s, ctx).claw_back(record_id, "签到单系代签", staff("reviewer"))
    page = client.get("/notifications").text
    assert "签到单系代签" in page and "积分已追回" in page


def test_an_auditor_may_take_back_an_approved_record_of_any_street(
    client: TestClient, sessions: Sessions, scene: Scene
) -> None:
    sign_in(client, "auditor", DEMO_STAFF_PASSWORD)
    assert 'href="/staff/records"' in client.get("/admin").text  # where an auditor lands
    assert 'href="/staff/records"' in client.get("/staff").text
    url = f"/staff/reviews/{scene.kept}"
    r = post_form(client, url, f"{url}/clawback", reason="审计抽查：照片重复")
    assert r.status_code == 303 and status_of(sessions, scene.kept) == "revoked"


def test_a_residents_records_are_found_by_platform_number_in_scope(
    client: TestClient, sessions: Sessions, scene: Scene
) -> None:
    sign_in(client, "reviewer", DEMO_STAFF_PASSWORD)
    page = client.get(f"/staff/reviews/{scene.copied}").text
    number = scene.li.public_no
    assert f'href="/staff/records?number={number}"' in page
    page = client.get(f"/staff/records?number={number}").text
    assert f'href="/staff/reviews/{scene.kept}"' in page
    assert f'href="/staff/reviews/{scene.copied}"' in page and "已通过" in page
    assert 'href="/staff/records"' in client.get("/staff/reviews").text
    r = client.get("/staff/records?number=not-a-number")
    assert r.status_code == 422 and 'href="#f-number"' in r.text
    client.cookies.clear()
    sign_in(client, "mz_reviewer", DEMO_STAFF_PASSWORD)
    page = client.get(f"/staff/records?number={number}").text
    assert str(scene.kept) not in page and "没有找到" in page


def test_dates_are_written_as_people_write_them(
    client: TestClient,
    city: City,
    sessions: Sessions,
    ctx: Context,
    staff: Callable[..., Principal],
    make_activity: Callable[..., uuid.UUID],
) -> None:
    li = signed_in_resident(client, city, sessions, 82)
    for _ in range(2):  # a warning, then a suspension
        refuse_as_fraud(sessions, ctx, city, li, staff("reviewer"))
    banner = client.get("/").text.split('class="suspended-banner"', 1)[1].split("</div>", 1)[0]
    assert re.search(r"暂停至 \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", banner), banner
    assert not re.search(r"\d{4}-\d{2}-\d{2}", banner)
    page = f"/activities/{make_activity(utcnow())}/checkin"
    r = post_form(client, page, page, lat=str(WEST_LAKE[0]), lon=str(WEST_LAKE[1]))
    summary = r.text.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert r.status_code == 403 and re.search(r"暂停至 \d{4}年\d{1,2}月\d{1,2}日", summary)
    client.get("/lang/en")
    banner = client.get("/").text.split('class="suspended-banner"', 1)[1].split("</div>", 1)[0]
    assert re.search(r"until \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}", banner), banner
    client.cookies.clear()
    sign_in(client, "admin", DEMO_STAFF_PASSWORD)
    month = last_full_month(local_date(utcnow()))
    r = post_form(client, FORM, f"{FORM}/preview", **policy_form(client))
    assert r.status_code == 200 and f"{month.year}年{month.month}月" in r.text
    assert f"{month:%Y-%m}" not in r.text.split('id="preview-result"', 1)[1]
    client.get("/lang/en")
    r = post_form(client, FORM, f"{FORM}/preview", **policy_form(client))
    assert f"{month:%B %Y}" in r.text
