"""Sign in, home, language and 长辈模式 in Chromium: axe, measurements, screenshots.

Uses 李建国 (the demo's second story resident): other journeys spend 张秀英's points.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from civicpoints.cli.demo_data import DEMO_PASSWORD, LI_PHONE
from tests.e2e.harness import (
    assert_elderly_rules,
    check_axe,
    first_load_bytes,
    measure_text,
    shoot,
    small_targets,
)


def _sign_in(page: Page, username: str = LI_PHONE) -> None:
    page.goto("/login")
    page.get_by_label("手机号或平台编号").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("您好")


def test_sign_in_and_home_at_360_px(resident_page: Page) -> None:
    page = resident_page
    page.goto("/login")
    check_axe(page)
    assert small_targets(page, 48) == []
    shoot(page, "login")
    _sign_in(page)
    expect(page.locator(".big-number")).to_be_visible()
    check_axe(page)
    assert small_targets(page, 48) == []
    assert measure_text(page).below(4.5) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    shoot(page, "home")


def test_elderly_mode_is_one_switch_and_remembered(resident_page: Page) -> None:
    page = resident_page
    _sign_in(page)
    page.get_by_role("button", name="长辈模式").click()
    expect(page.locator("body.elder")).to_have_count(1)
    actions = page.locator(".big-actions")
    for label in ("我的积分", "附近活动", "兑换", "我的兑换券"):
        expect(actions.get_by_role("link", name=label, exact=True)).to_be_visible()
    assert_elderly_rules(page)
    check_axe(page)
    shoot(page, "home-elder")
    page.goto("/login")  # remembered on another page
    expect(page.locator("body.elder")).to_have_count(1)
    page.get_by_role("button", name="标准模式").click()
    expect(page.locator("body.normal")).to_have_count(1)


def test_the_language_switch_turns_a_page_to_english_and_back(page: Page) -> None:
    page.goto("/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    check_axe(page)
    shoot(page, "login-en")
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")


@pytest.mark.expect_status(422)
def test_register_errors_are_summarised_and_linked(resident_page: Page) -> None:
    page = resident_page
    page.goto("/register")
    check_axe(page)
    page.get_by_role("button", name="注册").click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    summary.get_by_role("link").first.click()  # the summary links to a field
    check_axe(page)
    shoot(page, "register-errors")


@pytest.mark.expect_status(404)
def test_an_unknown_address_is_a_chinese_page(page: Page) -> None:
    page.goto("/no-such-page")
    expect(page.get_by_role("heading", level=1)).to_have_text("未找到")
    check_axe(page)


def test_a_resident_page_costs_at_most_200_kb_on_first_load(resident_page: Page) -> None:
    """Old phones on slow links (issue 9): HTML, CSS and scripts of a first load ≤ 200 KB."""
    resident_page.goto("/login")
    total, items = first_load_bytes(resident_page)
    assert 0 < total <= 200 * 1024, items
    _sign_in(resident_page)
    total, items = first_load_bytes(resident_page)
    assert 0 < total <= 200 * 1024, items
