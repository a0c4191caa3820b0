"""The staff console in Chromium: journey 3 (a paper slip for an elderly resident, a CSV import
with one bad row) and the reviewer's half of journey 1 (the evidence, then approval)."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities import (
    ActivityCreate,
    ActivityService,
    OfflineRecordCreate,
    OfflineService,
    PhotoService,
)
from civicpoints.activities.models import Participation
from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from civicpoints.cli.demo_data import DEMO_PASSWORD, ZHANG_PHONE
from civicpoints.cli.fraud_sim_images import scene
from civicpoints.identity import IdentityService, Resident
from civicpoints.kit.clock import BUSINESS_TZ, utcnow
from civicpoints.kit.context import build_context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.regions import Level, RegionService
from tests.e2e.harness import RESIDENT, check_axe, shoot

Sessions = sessionmaker[Session]
SITE = (30.2590, 120.1388)


def staff_sign_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("手机号或平台编号").fill(username)
    page.get_by_label("密码").fill(DEMO_STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/staff$"))


def staff_principal(identity: IdentityService, username: str) -> Principal:
    member = identity.staff_by_username(username)
    assert member is not None
    return identity.staff_principal(member)


def look(page: Page, name: str) -> None:
    """No serious or critical axe violation, and a screenshot to look at."""
    check_axe(page)
    shoot(page, f"staff-{name}")


def past_activity(sessions: Sessions, settings: Settings, title: str) -> uuid.UUID:
    """An activity of 北山街道's organizer that ended yesterday."""
    start = utcnow() - timedelta(days=1, hours=3)
    with transaction(sessions) as s:
        identity = IdentityService(s, build_context(settings))
        who = staff_principal(identity, "organizer")
        street = who.grants[0].region_path or ""
        regions = RegionService(s)
        place = next(
            r for r in regions.tree() if r.path.startswith(street) and r.level == Level.COMMUNITY
        )
        org = next(o for o in regions.organizations() if o.region_id == place.id)
        data = ActivityCreate(
            organization_id=org.id,
            region_id=place.id,
            title=title,
            category="volunteer_service",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            place_name="北山街道社区服务中心",
            geofence={"type": "circle", "lat": SITE[0], "lon": SITE[1], "radius_m": 150},
            capacity=30,
        )
        return ActivityService(s).create(data, who).id


def resident_named(sessions: Sessions, name: str) -> Resident:
    with transaction(sessions) as s:
        found = s.scalars(select(Resident).where(Resident.name == name)).first()
    assert found is not None
    return found


def records_of(sessions: Sessions, activity: uuid.UUID) -> list[Participation]:
    with transaction(sessions) as s:
        stmt = select(Participation).where(Participation.activity_id == activity)
        return list(s.scalars(stmt).all())


def local(at: datetime, fmt: str = "%Y-%m-%dT%H:%M") -> str:
    return at.astimezone(BUSINESS_TZ).strftime(fmt)


def test_journey_3_a_paper_slip_for_an_elderly_resident(
    page: Page, live_sessions: Sessions, live_settings: Settings
) -> None:
    activity = past_activity(live_sessions, live_settings, "重阳敬老茶话会")
    elder = resident_named(live_sessions, "张秀英")
    staff_sign_in(page, "organizer")
    look(page, "home")
    page.get_by_role("link", name="居民与纸质单据").click()
    page.get_by_label("姓名").fill("张秀英")
    page.get_by_label("身份证号后四位").fill(elder.id_masked[-4:])
    page.get_by_role("button", name="查找").first.click()
    expect(page.get_by_role("cell", name=elder.id_masked)).to_be_visible()
    look(page, "residents")
    page.get_by_role("link", name="录入纸质单据 （张秀英）").click()
    starts = utcnow() - timedelta(days=1, hours=3)
    page.get_by_label("活动").select_option(str(activity))
    page.get_by_label("单据号").fill("BS-E2E-1")
    page.get_by_label("开始时间（北京时间）").fill(local(starts))
    page.get_by_label("结束时间（北京时间）").fill(local(starts + timedelta(hours=2)))
    look(page, "slip-new")
    page.get_by_role("button", name="保存单据").click()
    expect(page.get_by_role("status")).to_contain_text("单据已保存")
    look(page, "slip-print")
    (record,) = records_of(live_sessions, activity)
    assert record.resident_id == elder.id and record.status == "pending_review"


def test_journey_3_an_import_with_one_bad_row_writes_nothing(
    page: Page, live_sessions: Sessions, live_settings: Settings
) -> None:
    activity = past_activity(live_sessions, live_settings, "社区读书角")
    a = resident_named(live_sessions, "李明")
    b = resident_named(live_sessions, "张秀英")
    starts = utcnow() - timedelta(days=1, hours=3)
    t0, t1 = local(starts, "%Y-%m-%d %H:%M"), local(starts + timedelta(hours=1), "%Y-%m-%d %H:%M")
    csv = (
        "slip_no,resident,activity_id,started_at,ended_at,note\n"
        f"IM-1,{a.public_no},{activity},{t0},{t1},\n"
        f"IM-2,{b.public_no},{activity},{t1},{t0},\n"
    ).encode()
    staff_sign_in(page, "organizer")
    page.goto("/staff/import")
    look(page, "import")
    page.get_by_label("CSV 文件").set_input_files(
        {"name": "slips.csv", "mimeType": "text/csv", "buffer": csv}
    )
    page.get_by_role("button", name="检查文件").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("有 1 行有问题，未保存任何记录")
    expect(alert.get_by_role("link", name="第 3 行")).to_be_visible()
    expect(page.locator("#line-3")).to_contain_text("结束时间")
    expect(page.get_by_role("button", name="导入")).to_have_count(0)
    look(page, "import-preview")
    assert records_of(live_sessions, activity) == []


def photo_with_exif(lat: float, lon: float, taken: datetime) -> bytes:
    def dms(value: float) -> tuple[float, float, float]:
        minutes = value % 1 * 60
        return float(int(value)), float(int(minutes)), round(minutes % 1 * 60, 2)

    exif = Image.Exif()
    exif[0x0132] = local(taken, "%Y:%m:%d %H:%M:%S")
    exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    out = io.BytesIO()
    picture = scene(uuid.uuid4().int % 1_000_000).resize((640, 480))  # a picture of its own
    picture.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_journey_1_a_reviewer_sees_the_evidence_and_approves(
    page: Page, live_sessions: Sessions, live_settings: Settings
) -> None:
    activity = past_activity(live_sessions, live_settings, "河道清理")
    resident = resident_named(live_sessions, "李明")
    starts = utcnow() - timedelta(days=1, hours=3)
    ctx = build_context(live_settings)
    with transaction(live_sessions) as s:
        identity = IdentityService(s, ctx)
        organizer = staff_principal(identity, "organizer")
        body = OfflineRecordCreate(
            resident=resident.public_no,
            activity_id=activity,
            started_at=starts,
            ended_at=starts + timedelta(hours=2),
            slip_no="RV-1",
        )
        record = OfflineService(s, ctx).record(body, organizer)
        photo = photo_with_exif(SITE[0] + 0.009, SITE[1], starts + timedelta(minutes=30))
        PhotoService(s, ctx).upload(record.id, resident.id, photo, "e2e")
        record_id = record.id
    staff_sign_in(page, "reviewer")
    page.goto("/staff/reviews")
    look(page, "reviews")
    page.locator(f'a[href="/staff/reviews/{record_id}"]').click()
    image = page.get_by_role("img", name="居民上传的照片")
    expect(image).to_be_visible()
    image.scroll_into_view_if_needed()
    # visible is not loaded: on a busy machine the bytes may still be on their way
    image.evaluate(
        "img => img.complete ? null : new Promise(done => {"
        " img.addEventListener('load', done, {once: true});"
        " img.addEventListener('error', done, {once: true}); })"
    )
    assert image.evaluate("img => img.naturalWidth") == 640
    expect(page.get_by_text("拍摄时间（EXIF）")).to_be_visible()
    expect(page.get_by_text("在活动区域外", exact=False).first).to_be_visible()
    expect(page.get_by_text("照片自带的位置离活动地点较远")).to_be_visible()
    look(page, "review")
    page.get_by_label("通过：记录服务时长并发放积分").check()
    page.get_by_role("button", name="保存审核结果").click()
    expect(page.get_by_role("status")).to_contain_text("已通过")
    assert [r.status for r in records_of(live_sessions, activity)] == ["approved"]


@pytest.mark.expect_status(403)
def test_a_resident_opening_the_console_gets_the_403_page(resident_page: Page) -> None:
    resident_page.goto("/login")
    resident_page.get_by_label("手机号或平台编号").fill(ZHANG_PHONE)
    resident_page.get_by_label("密码").fill(DEMO_PASSWORD)
    resident_page.get_by_role("button", name="登录").click()
    expect(resident_page.get_by_role("heading", name="我的积分").first).to_be_visible()
    resident_page.goto("/staff")
    expect(resident_page.locator("h1")).to_have_count(1)
    expect(resident_page.locator(".staff-nav")).to_have_count(0)
    shoot(resident_page, "staff-resident-403")


def test_the_lookup_reads_at_360_and_a_form_in_english(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(**RESIDENT).new_page()
    staff_sign_in(page, "organizer")
    page.goto("/staff/residents?name=张秀英&last4=0000")
    expect(page.get_by_text("没有找到此人")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    look(page, "residents-none")
    page.goto("/lang/en?next=/staff/activities/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Publish an activity")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    look(page, "activity-new-en")
