"""Issue 10's pages in Chromium: 李先生's story from the other side of the screen.

A resident files an appeal (normal and 长辈模式, 360 px); a reviewer confirms a record as false
from the evidence view (photo, map, signals) and another reviewer refuses the appeal; a reviewer
finds a resident's approved record by platform number and takes it back from its evidence view;
an administrator previews a risk policy on last month's records. Each test owns its resident.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from itertools import count
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.activities import OfflineRecordCreate, OfflineService, PhotoService
from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from civicpoints.identity import IdentityService, Resident
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import build_context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import LedgerService, wallet_of
from tests.e2e.harness import DESKTOP, RESIDENT, assert_elderly_rules, check_axe, shoot
from tests.e2e.test_resident import activity, photo_jpeg, register
from tests.e2e.test_staff import (
    SITE,
    past_activity,
    photo_with_exif,
    staff_principal,
    staff_sign_in,
)

Sessions = sessionmaker[Session]
slips = count(1)
__all__ = ["activity"]  # the fixture: an activity running now


def resident_by_phone(sessions: Sessions, phone: str) -> Resident:
    with transaction(sessions) as s:
        return s.scalars(select(Resident).where(Resident.phone_masked.endswith(phone[-4:]))).one()


def waiting_slip(
    sessions: Sessions, settings: Settings, phone: str, photo: bytes | None = None
) -> uuid.UUID:
    """A paper slip of the resident, with a photo (by default one taken 1 km away), waiting
    for review."""
    activity = past_activity(sessions, settings, "社区环境整治")
    who = resident_by_phone(sessions, phone)
    starts = utcnow() - timedelta(days=1, hours=3)
    ctx = build_context(settings)
    with transaction(sessions) as s:
        organizer = staff_principal(IdentityService(s, ctx), "organizer")
        body = OfflineRecordCreate(
            resident=who.public_no,
            activity_id=activity,
            started_at=starts,
            ended_at=starts + timedelta(hours=2),
            slip_no=f"FR-{uuid.uuid4().hex[:6]}-{next(slips)}",
        )
        record = OfflineService(s, ctx).record(body, organizer)
        if photo is None:
            photo = photo_with_exif(SITE[0] + 0.009, SITE[1], starts + timedelta(minutes=30))
        PhotoService(s, ctx).upload(record.id, who.id, photo, "e2e")
        return record.id


def found_false(sessions: Sessions, settings: Settings, phone: str) -> uuid.UUID:
    """The slip, refused as a false record by `reviewer` (a warning for the resident)."""
    record_id = waiting_slip(sessions, settings, phone)
    ctx = build_context(settings)
    with transaction(sessions) as s:
        reviewer = staff_principal(IdentityService(s, ctx), "reviewer")
        OfflineService(s, ctx).decide(record_id, False, "照片系他人照片翻拍", reviewer, fraud=True)
    return record_id


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_a_resident_files_an_appeal_with_a_photo(
    new_context: Callable[..., BrowserContext],
    live_sessions: Sessions,
    live_settings: Settings,
    tmp_path: Path,
    elder: bool,
    expect_status: Callable[..., None],
) -> None:
    expect_status(422)  # the form sent without a reason, on purpose
    phone = new_context(**RESIDENT).new_page()
    who = register(phone)
    found_false(live_sessions, live_settings, who.phone)
    if elder:
        phone.get_by_role("button", name="长辈模式").click()
        expect(phone.locator("body.elder")).to_have_count(1)
    mode = "elder" if elder else "normal"
    phone.goto("/")
    expect(phone.get_by_text("您有一条服务记录被认定为不属实。")).to_be_visible()
    phone.get_by_role("link", name="我的处理与申诉").first.click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("我的处理与申诉")
    expect(phone.get_by_text("警告", exact=True)).to_be_visible()
    look(phone, f"fraud-cases-{mode}", elder)
    phone.get_by_role("button", name="提交申诉").click()  # no reason yet
    alert = phone.get_by_role("alert")
    expect(alert).to_contain_text("请填写您认为处理有误的理由")
    look(phone, f"fraud-appeal-error-{mode}", elder)
    expect(alert.get_by_role("link")).to_have_attribute("href", re.compile(r"^#f-.+-reason$"))
    phone.get_by_label("您认为处理有误的理由").fill("那天我在现场，社区王阿姨可以作证。")
    phone.get_by_label("现在拍一张照片").set_input_files(photo_jpeg(tmp_path))
    phone.get_by_role("button", name="提交申诉").click()
    expect(phone.get_by_role("status")).to_contain_text("您的申诉已提交")
    expect(phone.get_by_text("正在等待另一位审核员处理。")).to_be_visible()
    look(phone, f"fraud-appealed-{mode}", elder)


def look(page: Page, name: str, elder: bool = False) -> None:
    """axe, the 长辈模式 rules where they apply, no sideways scroll, and a screenshot."""
    check_axe(page)
    if elder:
        assert_elderly_rules(page)
    width = page.viewport_size["width"] if page.viewport_size else 1280
    assert page.evaluate("document.documentElement.scrollWidth") <= width, name
    shoot(page, name)


def test_a_reviewer_confirms_a_false_record_and_another_refuses_the_appeal(
    new_context: Callable[..., BrowserContext],
    live_sessions: Sessions,
    live_settings: Settings,
) -> None:
    phone = new_context(**RESIDENT).new_page()
    who = register(phone)
    record_id = waiting_slip(live_sessions, live_settings, who.phone)

    office = new_context(**DESKTOP).new_page()
    staff_sign_in(office, "reviewer")
    office.goto("/staff/reviews")
    expect(office.locator(f'a[href="/staff/reviews/{record_id}"]').first).to_be_visible()
    look(office, "fraud-queue")
    office.locator(f'a[href="/staff/reviews/{record_id}"]').first.click()
    expect(office.get_by_role("img", name="活动区域和上报位置示意图")).to_be_visible()
    expect(office.locator(".map-legend").get_by_text("照片 1（照片自带定位）")).to_be_visible()
    look(office, "fraud-evidence")
    office.get_by_label("驳回：居民会看到理由").check()
    office.get_by_label("照片不是在活动时间或地点拍的").check()
    office.get_by_label("认定为虚假记录").check()
    office.get_by_role("button", name="保存审核结果").click()
    expect(office.get_by_role("status")).to_contain_text("已驳回并认定为虚假记录")

    phone.goto("/notifications")
    expect(phone.get_by_text("您的一条服务记录被认定为不属实").first).to_be_visible()
    look(phone, "fraud-notices")
    phone.goto("/cases")
    phone.get_by_label("您认为处理有误的理由").fill("照片是我在活动现场拍的。")
    phone.get_by_role("button", name="提交申诉").click()
    expect(phone.get_by_role("status")).to_contain_text("您的申诉已提交")

    office.goto("/staff/appeals")  # the case's reviewer never sees the appeal
    expect(office.get_by_text("照片是我在活动现场拍的。")).to_have_count(0)
    second = new_context(**DESKTOP).new_page()
    staff_sign_in(second, "reviewer2")
    second.goto("/staff/appeals")
    card = second.locator("section.appeal", has_text="照片是我在活动现场拍的。")
    expect(card).to_be_visible()
    look(second, "fraud-appeals")
    card.get_by_label("驳回申诉：维持原处理").check()
    card.get_by_label("处理理由").fill("照片位置在活动地点 1 公里外，与签到单不符。")
    card.get_by_role("button", name="保存审核结果").click()
    expect(second.get_by_role("status")).to_contain_text("已驳回申诉")

    phone.goto("/cases")
    expect(phone.get_by_text("不成立", exact=False).first).to_be_visible()
    expect(phone.get_by_text("照片位置在活动地点 1 公里外")).to_be_visible()
    look(phone, "fraud-appeal-refused")


def approved_slip(
    sessions: Sessions, settings: Settings, phone: str, photo: bytes
) -> tuple[uuid.UUID, int]:
    """The resident, verified, with a slip approved by `reviewer2`: the record and its points."""
    record_id = waiting_slip(sessions, settings, phone, photo)
    ctx = build_context(settings)
    person_id = resident_by_phone(sessions, phone).id
    with transaction(sessions) as s:
        identity = IdentityService(s, ctx)
        person = s.get(Resident, person_id)
        assert person is not None
        identity.verify(person, "")
        second = staff_principal(identity, "reviewer2")
        OfflineService(s, ctx).decide(record_id, True, "", second)
    with transaction(sessions) as s:
        return record_id, LedgerService(s).balance(wallet_of(person_id))


def copy_of(photo: bytes) -> bytes:
    """The photo shrunk to 90 % and saved again at a lower quality (its EXIF lost)."""
    image = Image.open(io.BytesIO(photo))
    out = io.BytesIO()
    image.resize((image.width * 9 // 10, image.height * 9 // 10)).save(out, "JPEG", quality=70)
    return out.getvalue()


def test_a_reviewer_follows_a_look_alike_and_takes_back_the_approved_record(
    new_context: Callable[..., BrowserContext],
    live_sessions: Sessions,
    live_settings: Settings,
    expect_status: Callable[..., None],
) -> None:
    """A slip's photo is a resized copy of one on the resident's approved slip: the reviewer
    sees the two side by side, opens the approved record, and takes it back."""
    expect_status(422)  # the form sent without a reason, on purpose
    phone = new_context(**RESIDENT).new_page()
    who = register(phone)
    taken = utcnow() - timedelta(days=1, hours=2)
    original = photo_with_exif(SITE[0] + 0.0005, SITE[1], taken)
    kept, points = approved_slip(live_sessions, live_settings, who.phone, original)
    assert points > 0
    copied = waiting_slip(live_sessions, live_settings, who.phone, copy_of(original))

    office = new_context(**DESKTOP).new_page()
    staff_sign_in(office, "reviewer")
    office.goto(f"/staff/reviews/{copied}")
    alike = office.locator(".look-alike").filter(has_text="同一位居民")
    expect(alike.get_by_role("img")).to_have_attribute(
        "src", re.compile(f"^/staff/reviews/{kept}/photos/")
    )
    expect(alike).to_contain_text(re.compile(r"(完全相同|几乎相同|非常相似)（差 \d 位）"))
    look(office, "fraud-look-alikes")
    alike.get_by_role("link", name="打开该记录").click()
    expect(office.get_by_role("heading", name="追回这条已通过的记录")).to_be_visible()
    look(office, "fraud-approved-evidence")
    office.get_by_role("button", name="追回积分和服务时长").click()  # no reason yet
    alert = office.get_by_role("alert")
    expect(alert).to_contain_text("请填写追回理由")
    expect(alert.get_by_role("link")).to_have_attribute("href", "#f-reason")
    look(office, "fraud-clawback-error")
    office.get_by_label("追回理由").fill("同一张照片用于两次活动，本人未参加本次活动。")
    office.get_by_role("button", name="追回积分和服务时长").click()
    expect(office.get_by_role("status")).to_contain_text("已追回")
    expect(office.get_by_text(f"追回 {points} 积分")).to_be_visible()
    expect(office.get_by_text("服务时长扣除 2 小时")).to_be_visible()
    expect(office.get_by_role("button", name="追回积分和服务时长")).to_have_count(0)
    look(office, "fraud-clawed")
    office.set_viewport_size({"width": 360, "height": 740})
    look(office, "fraud-clawed")
    office.set_viewport_size({"width": 1280, "height": 800})

    office.get_by_role("link", name="居民的服务记录").click()  # the records by platform number
    office.get_by_label("平台编号").fill(resident_by_phone(live_sessions, who.phone).public_no)
    office.get_by_role("button", name="查找").click()
    expect(office.locator(f'a[href="/staff/reviews/{kept}"]')).to_be_visible()
    expect(office.locator(f'a[href="/staff/reviews/{copied}"]')).to_be_visible()
    look(office, "fraud-records")

    phone.goto("/notifications")
    expect(phone.get_by_text("同一张照片用于两次活动，本人未参加本次活动。").first).to_be_visible()
    expect(phone.get_by_text(f"该记录的积分已追回：{points} 积分。")).to_be_visible()
    look(phone, "fraud-clawback-notice")


def test_an_administrator_previews_a_risk_policy(page: Page) -> None:
    _admin(page)
    page.goto("/admin/risk")
    expect(page.get_by_role("heading", level=1)).to_have_text("风控设置")
    look(page, "fraud-risk-policy")
    page.get_by_label("风险分达到此值即送人工审核").fill("60")
    page.get_by_role("button", name="预览").click()  # htmx: only the result is swapped in
    result = page.locator("#preview-result")
    expect(result.get_by_role("heading", name="在", exact=False)).to_be_visible()
    expect(result.get_by_text("本方案").first).to_be_visible()
    assert page.get_by_label("风险分达到此值即送人工审核").input_value() == "60"  # kept
    result.scroll_into_view_if_needed()
    look(page, "fraud-risk-preview")


def _admin(page: Page) -> None:
    """The administrator lands on /admin, not /staff."""
    page.goto("/login")
    page.get_by_label("手机号或平台编号").fill("admin")
    page.get_by_label("密码").fill(DEMO_STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("form[action='/logout']")).to_have_count(1)


def test_a_suspended_resident_reads_until_when_and_why_in_elder_mode(
    new_context: Callable[..., BrowserContext],
    live_sessions: Sessions,
    live_settings: Settings,
    activity: str,
) -> None:
    phone = new_context(**RESIDENT).new_page()
    who = register(phone)
    for _ in range(2):  # a warning, then a suspension
        found_false(live_sessions, live_settings, who.phone)
    phone.get_by_role("button", name="长辈模式").click()
    expect(phone.locator("body.elder")).to_have_count(1)  # the switch's page has loaded
    phone.goto("/")
    banner = phone.locator(".suspended-banner")
    expect(banner).to_contain_text("您暂时不能获取积分")
    expect(banner).to_contain_text("因第 2 次确认的虚假记录")
    look(phone, "fraud-suspended-home-elder", elder=True)
    phone.goto(f"/activities/{activity}/checkin")
    expect(phone.locator(".suspended-banner")).to_contain_text("暂停至")
    look(phone, "fraud-suspended-checkin-elder", elder=True)
