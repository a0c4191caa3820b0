"""The resident's earning journey in Chromium: register, find an activity, enrol, check in and
out with the phone's position and a photo, see the record, the history and the messages.

Screenshots of every page at 360 and 1280 px, axe on each, in normal and 长辈模式 and in en.
The activity is made here (running now, a circle at 宝石山) so the journey owns its data.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from itertools import count
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.activities import Activity, ActivityCreate, ActivityService
from civicpoints.cli.fraud_sim_images import scene
from civicpoints.identity import IdentityService
from civicpoints.identity.models import Staff
from civicpoints.kit.clock import BUSINESS_TZ, utcnow
from civicpoints.kit.context import build_context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from tests.e2e.harness import DESKTOP, RESIDENT, check_axe, shoot, small_targets
from tests.integration.conftest import id_number

SITE = (30.2650, 120.1420)  # 宝石山下: the activity's circle, and where the phone says it is
PASSWORD = "Baoshishan#2026"
serial = count(60)


@dataclass
class Newcomer:
    """A resident registered through the page in this test."""

    phone: str
    name: str


def photo_jpeg(tmp: Path) -> Path:
    """A JPEG as a phone takes it: EXIF time (Beijing, now) and GPS at the site."""

    def dms(v: float) -> tuple[float, float, float]:
        d, m = int(v), int((v - int(v)) * 60)
        return float(d), float(m), round(((v - d) * 60 - m) * 60, 4)

    # A scene of its own: two uploads of one picture would be flagged as a re-used photo.
    img, exif = scene(uuid.uuid4().int % 1_000_000).resize((640, 480)), Image.Exif()
    exif[0x8825] = {1: "N", 2: dms(SITE[0]), 3: "E", 4: dms(SITE[1])}
    stamp = utcnow().astimezone(BUSINESS_TZ).strftime("%Y:%m:%d %H:%M:%S")
    exif.get_ifd(0x8769)[0x9003] = stamp  # DateTimeOriginal
    exif.get_ifd(0x8769)[0x9011] = "+08:00"  # OffsetTimeOriginal
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    path = tmp / f"site-{uuid.uuid4().hex[:8]}.jpg"
    path.write_bytes(out.getvalue())
    return path


@pytest.fixture
def activity(live_sessions: sessionmaker[Session], live_settings: Settings) -> str:
    """An environmental action running now at SITE, by the organizer of a demo activity."""
    with transaction(live_sessions) as s:
        model = s.scalars(select(Activity).limit(1)).one()
        staff = s.get(Staff, model.created_by)
        assert staff is not None
        who = IdentityService(s, build_context(live_settings)).staff_principal(staff)
        start = utcnow() - timedelta(minutes=20)
        data = ActivityCreate(
            organization_id=model.organization_id,
            region_id=model.region_id,
            title=f"宝石山垃圾捡拾 {next(serial)}",
            category="environmental",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            place_name="宝石山登山口",
            geofence={"type": "circle", "lat": SITE[0], "lon": SITE[1], "radius_m": 150},
            capacity=30,
            evidence="photo_gps",
        )
        return str(ActivityService(s).create(data, who).id)


def register(page: Page) -> Newcomer:
    """A new resident registers through /register and lands on the home page."""
    n = next(serial)
    who = Newcomer(phone=f"1390066{n:04d}", name="王桂芳")
    page.goto("/register")
    page.get_by_label("姓名（与身份证一致）").fill(who.name)
    page.get_by_label("身份证号").fill(id_number(n, birth="19550512"))
    page.get_by_label("手机号").fill(who.phone)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("#f-community_id").select_option(index=1)
    page.locator("#f-consent").check()
    page.get_by_role("button", name="注册").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("您好")
    return who


def look(page: Page, name: str, elder_also: bool = False) -> None:
    """axe and a screenshot at this width, tap targets at least 48 px, no sideways scroll."""
    check_axe(page)
    assert small_targets(page, 48) == [], small_targets(page, 48)
    width = page.viewport_size["width"] if page.viewport_size else 360
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shoot(page, f"resident-{name}")


def test_a_new_resident_enrols_checks_in_and_out_and_sees_the_record(
    new_context: Callable[..., BrowserContext], activity: str, tmp_path: Path
) -> None:
    ctx = new_context(
        **RESIDENT,
        geolocation={"latitude": SITE[0], "longitude": SITE[1], "accuracy": 15},
        permissions=["geolocation"],
    )
    page = ctx.new_page()
    register(page)
    page.goto("/activities?category=environmental")
    expect(page.get_by_role("heading", level=1)).to_have_text("活动")
    page.wait_for_url("**lat=*")  # resident.js: permission granted, so nearest first
    expect(page.get_by_text("离您最近的排在前面")).to_be_visible()
    look(page, "activities")
    page.locator(f'a[href="/activities/{activity}"]').click()
    expect(page.get_by_text("50 分/次")).to_be_visible()
    look(page, "activity")
    page.get_by_role("button", name="报名参加").click()
    expect(page.get_by_text("您已报名。")).to_be_visible()
    look(page, "activity-enrolled")

    page.get_by_role("link", name="签到").click()
    expect(page.get_by_role("status")).to_have_text("已获取位置（精度 15 米）")
    look(page, "checkin")
    page.locator("#f-photo").set_input_files(photo_jpeg(tmp_path))
    page.get_by_role("button", name="签到").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("已签到")
    look(page, "record-checked-in")
    page.get_by_role("link", name="签退").click()
    expect(page.get_by_role("status")).to_contain_text("已获取位置")
    page.get_by_role("button", name="签退").click()
    outcome = page.locator(".outcome")
    expect(outcome).to_contain_text("等待审核")  # a stay of minutes: the reviewer looks first
    expect(outcome).to_contain_text("您在现场的时间比活动要求的短")
    look(page, "record-waiting")

    page.goto("/records")
    look(page, "records")
    page.goto("/history")
    look(page, "history")
    page.goto("/notifications")
    look(page, "notifications")

    page.set_viewport_size(DESKTOP["viewport"])
    for path, name in ((f"/activities/{activity}", "activity"), ("/records", "records")):
        page.goto(path)
        look(page, name)


@pytest.mark.expect_status(422)
def test_a_refused_position_is_said_plainly(
    new_context: Callable[..., BrowserContext], activity: str
) -> None:
    page = new_context(**RESIDENT).new_page()  # no permission: the browser refuses
    register(page)
    page.goto(f"/activities/{activity}")
    page.get_by_role("button", name="报名参加").click()
    page.get_by_role("link", name="签到").click()
    expect(page.get_by_role("status")).to_contain_text("您没有允许本页使用位置信息")
    page.wait_for_load_state("load")  # scripts in, before the form leaves the page
    page.get_by_role("button", name="签到").click()
    expect(page.get_by_role("alert")).to_contain_text("没有获取到您手机的位置")
    look(page, "checkin-refused")


def test_the_pages_in_elder_mode_and_in_english(
    new_context: Callable[..., BrowserContext], activity: str
) -> None:
    page = new_context(**RESIDENT).new_page()
    register(page)
    page.get_by_role("button", name="长辈模式").click()
    expect(page.locator("body.elder")).to_have_count(1)
    for path, name in (
        ("/activities", "activities-elder"),
        (f"/activities/{activity}", "activity-elder"),
        ("/history", "history-elder"),
    ):
        page.goto(path)
        check_axe(page)
        assert small_targets(page, 60) == [], small_targets(page, 60)
        shoot(page, f"resident-{name}")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html[lang=en]")).to_have_count(1)  # the switch's page has loaded
    page.goto(f"/activities/{activity}")
    expect(page.get_by_text("50 points per participation")).to_be_visible()
    check_axe(page)
    shoot(page, "resident-activity-en")
