"""The core resident pages with JavaScript turned off (old phones, data savers, broken scripts):
sign in, home, activities, enrol, records, rewards, redeem, vouchers, an appeal with its
photo — all plain forms.

(axe needs JavaScript, so these pages are checked with it in the other tests.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import BrowserContext, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.identity import Resident
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import LedgerService, Movement, wallet_of
from tests.e2e.harness import RESIDENT
from tests.e2e.test_journey_fraud import found_false
from tests.e2e.test_resident import photo_jpeg, register

ITEM = "10元超市购物券"


def _fund(sessions: sessionmaker[Session], phone_tail: str, points: int) -> None:
    """Credit the newcomer (found by name and phone's masked tail) one lot of points."""
    with transaction(sessions) as s:
        resident = s.scalars(
            select(Resident).where(Resident.phone_masked.endswith(phone_tail))
        ).one()
        now = utcnow()
        move = Movement("award", points, "test", "测试 / test", "test", now, f"nojs:{resident.id}")
        LedgerService(s).credit(wallet_of(resident.id), move, now + timedelta(days=365))


def test_the_core_journey_works_without_javascript(
    new_context: Callable[..., BrowserContext], live_sessions: sessionmaker[Session]
) -> None:
    page = new_context(**RESIDENT, java_script_enabled=False).new_page()
    newcomer = register(page)
    expect(page.locator(".big-number")).to_contain_text("0")
    page.get_by_role("link", name="去实名认证").click()
    page.get_by_role("button", name="立即认证").click()
    expect(page.get_by_text("您已完成实名认证。")).to_be_visible()

    page.goto("/activities")
    page.locator(".main a[href^='/activities/']").first.click()
    page.get_by_role("button", name="报名参加").click()
    expect(page.get_by_text("您已报名。")).to_be_visible()
    page.goto("/records")
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    _fund(live_sessions, newcomer.phone[-4:], 100)
    page.goto("/")
    expect(page.locator(".big-number")).to_contain_text("100")
    page.get_by_role("navigation", name="主要栏目").get_by_role(
        "link", name="兑换", exact=True
    ).click()
    page.get_by_role("link", name=ITEM).first.click()
    page.get_by_role("link", name="兑换", exact=True).last.click()
    page.get_by_role("button", name="确认兑换").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("兑换成功")
    page.get_by_role("link", name="出示兑换券").click()
    expect(page.locator("svg.qr")).to_be_visible()  # drawn by the server, no script needed
    page.goto("/")
    expect(page.locator(".big-number")).to_contain_text("0")


def test_an_appeal_is_filed_without_javascript(
    new_context: Callable[..., BrowserContext],
    live_sessions: sessionmaker[Session],
    live_settings: Settings,
    tmp_path: Path,
) -> None:
    page = new_context(**RESIDENT, java_script_enabled=False).new_page()
    newcomer = register(page)
    found_false(live_sessions, live_settings, newcomer.phone)
    page.goto("/")
    page.get_by_role("link", name="我的处理与申诉").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的处理与申诉")
    page.get_by_label("您认为处理有误的理由").fill("当天我在现场，有签到单为证。")
    page.get_by_label("或者从手机里选一张照片").set_input_files(photo_jpeg(tmp_path))
    page.get_by_role("button", name="提交申诉").click()
    expect(page.get_by_text("您的申诉已提交。")).to_be_visible()
    expect(page.get_by_text("当天我在现场，有签到单为证。")).to_be_visible()
