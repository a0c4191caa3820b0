"""积分捐赠 in a real browser: a resident gives with JavaScript off (a plain form), sees the
thank-you and the receipt link; the page in 长辈模式 meets the elderly-friendly rules; the
民政专干's pool page lists what expires first. Screenshots at 360 px and in 长辈模式."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from tests.e2e.harness import DESKTOP, RESIDENT, assert_elderly_rules, check_axe, shoot
from tests.e2e.test_every_page import _sign_in
from tests.e2e.test_resident import look, register
from tests.e2e.test_without_javascript import _fund


@pytest.mark.expect_status(409)  # giving more than she holds: the form again, with the reason
def test_a_resident_gives_points_without_javascript(
    new_context: Callable[..., BrowserContext], live_sessions: sessionmaker[Session]
) -> None:
    page = new_context(**RESIDENT, java_script_enabled=False).new_page()
    newcomer = register(page)
    page.get_by_role("link", name="去实名认证").click()
    page.get_by_role("button", name="立即认证").click()
    expect(page.get_by_text("您已完成实名认证。")).to_be_visible()  # not left mid-navigation
    _fund(live_sessions, newcomer.phone[-4:], 100)
    page.goto("/")
    page.get_by_role("link", name="捐赠积分").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("捐赠积分")
    page.get_by_label("捐赠积分数").fill("30")
    page.get_by_label("在社区爱心榜上显示我（只显示姓，如 张**）").check()
    page.get_by_role("button", name="捐赠", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("谢谢您")
    expect(page.get_by_text("您向本社区爱心积分池捐赠了 30 分。")).to_be_visible()
    expect(page.get_by_role("link", name="下载凭证")).to_be_visible()
    page.goto("/donate")
    page.get_by_label("捐赠积分数").fill("500")
    page.get_by_role("button", name="捐赠", exact=True).click()
    expect(page.locator(".error-summary")).to_contain_text("积分不足")


def test_the_donation_pages_look_right_at_360_and_in_elder_mode(
    new_context: Callable[..., BrowserContext],
    live_sessions: sessionmaker[Session],
    live_url: str,
) -> None:
    page = new_context(**RESIDENT).new_page()
    newcomer = register(page)
    page.get_by_role("link", name="去实名认证").click()
    page.get_by_role("button", name="立即认证").click()
    expect(page.get_by_text("您已完成实名认证。")).to_be_visible()  # not left mid-navigation
    _fund(live_sessions, newcomer.phone[-4:], 200)
    page.goto("/donate")
    look(page, "donate")
    page.get_by_label("捐赠积分数").fill("40")
    page.get_by_role("button", name="捐赠", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("谢谢您")
    look(page, "donated")
    page.goto("/savings")
    look(page, "savings")
    page.get_by_label("存入积分数").fill("50")
    page.get_by_role("button", name="存入积分").click()
    expect(page.get_by_text("已存积分的到期日")).to_be_visible()
    look(page, "savings-after")
    page.context.add_cookies([{"name": "cp_elder", "value": "1", "url": live_url}])
    for url, name in (
        ("/donate", "donate-elder"),
        ("/", "home-elder-donate"),
        ("/savings", "savings-elder"),
    ):
        page.goto(url)
        check_axe(page)
        assert_elderly_rules(page)
        shoot(page, f"resident-{name}")


def test_the_civil_affairs_pool_page(new_context: Callable[..., BrowserContext]) -> None:
    page = new_context(**DESKTOP).new_page()
    _sign_in(page, "civil", DEMO_STAFF_PASSWORD)
    page.goto("/staff/pool")
    expect(page.get_by_role("heading", level=1)).to_have_text("爱心积分池")
    expect(page.get_by_role("heading", name="请优先分配：30 天内到期")).to_be_visible()
    check_axe(page)
    shoot(page, "staff-pool")
    page.set_viewport_size({"width": 360, "height": 740})
    shoot(page, "staff-pool")
