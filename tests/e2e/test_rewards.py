"""Issue 9 acceptance 2 in Chromium: 张女士 redeems her 480 points for the subsidised 50-yuan
voucher in 长辈模式 and shows its QR code; a clerk of that shop, in another browser, types
the code and verifies it; her voucher is then used and her balance 0.

Spends 张秀英's points (the demo's first story resident): other journeys use 李明.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from civicpoints.cli.demo_data import DEMO_PASSWORD, ZHANG_PHONE
from tests.e2e.harness import (
    DESKTOP,
    RESIDENT,
    assert_elderly_rules,
    check_axe,
    measure_text,
    shoot,
    small_targets,
)

ITEM = "50元超市购物券（补贴价）"


def _sign_in(page: Page, username: str, password: str, start: str = "/login") -> None:
    page.goto(start)  # a page that needs signing in comes back after it
    page.get_by_label("手机号或平台编号").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def _elderly_rules(page: Page) -> None:
    """The 2021 elderly-friendly rules, measured (UI.md: 22 px / 1.6, 7:1, 60 px targets)."""
    assert_elderly_rules(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def _both_widths(page: Page, name: str) -> None:
    """Axe at 360 px, screenshots at 360 and 1280 px, back to 360."""
    check_axe(page)
    shoot(page, name)
    page.set_viewport_size(DESKTOP["viewport"])
    check_axe(page)
    shoot(page, name)
    page.set_viewport_size(RESIDENT["viewport"])


def _redeem_in_elder_mode(page: Page) -> str:
    """From the home page to the voucher's QR code; the code as shown."""
    page.get_by_role("button", name="长辈模式").click()
    expect(page.locator("body.elder")).to_have_count(1)
    expect(page.locator(".big-number")).to_contain_text("480")
    page.locator(".big-actions").get_by_role("link", name="兑换", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("积分商城")
    ready = page.locator("section", has=page.get_by_role("heading", name="您现在可以兑换"))
    expect(ready.get_by_role("link", name=ITEM)).to_be_visible()
    _elderly_rules(page)
    _both_widths(page, "rewards-elder")
    ready.get_by_role("link", name=ITEM).click()
    expect(page.get_by_text("世纪联华超市（西湖店）").first).to_be_visible()
    _elderly_rules(page)
    _both_widths(page, "reward-elder")
    page.get_by_role("link", name="兑换", exact=True).last.click()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("480 积分")
    expect(facts).to_contain_text("0 积分")
    _elderly_rules(page)
    _both_widths(page, "reward-confirm-elder")
    page.get_by_role("button", name="确认兑换").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("兑换成功")
    _elderly_rules(page)
    _both_widths(page, "redeemed-elder")
    page.get_by_role("link", name="出示兑换券").click()
    qr = page.locator("svg.qr")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 280 and box["height"] >= 280
    code = page.locator("p.code").inner_text()
    assert re.fullmatch(r"(\w{4} ){4}\w{4}", code), code
    _elderly_rules(page)
    _both_widths(page, "voucher-elder")
    return code


def _clerk_verifies(context: BrowserContext, code: str) -> None:
    """The shop's clerk, on the counter PC, types the code and verifies it once."""
    page = context.new_page()
    _sign_in(page, "clerk", DEMO_STAFF_PASSWORD, "/merchant")
    expect(page.get_by_role("heading", level=1)).to_contain_text("核销兑换券")
    month = page.locator(".big-number").inner_text()
    check_axe(page)
    shoot(page, "merchant-counter")
    page.get_by_label("券码").fill(code.lower())
    page.get_by_role("button", name="查询券码").click()
    expect(page.get_by_text("¥50.00")).to_be_visible()
    expect(page.get_by_text("张**")).to_be_visible()
    check_axe(page)
    shoot(page, "merchant-check")
    page.get_by_role("button", name="确认核销").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("核销成功")
    check_axe(page)
    shoot(page, "merchant-verified")
    page.get_by_role("link", name="核销下一张").click()
    expect(page.locator("table")).to_contain_text(ITEM)
    expect(page.locator(".big-number")).not_to_have_text(month)  # one more this month


def test_zhang_redeems_480_points_and_the_clerk_verifies_once(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(**RESIDENT).new_page()
    _sign_in(page, ZHANG_PHONE, DEMO_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_contain_text("您好")
    code = _redeem_in_elder_mode(page)
    _clerk_verifies(new_context(**DESKTOP), code)
    page.reload()
    expect(page.locator(".why-not")).to_contain_text("已使用")
    expect(page.locator("svg.qr")).to_have_count(0)
    _elderly_rules(page)
    _both_widths(page, "voucher-used-elder")
    page.goto("/")
    expect(page.locator(".big-number")).to_contain_text("0")
    expect(page.locator(".big-number")).not_to_contain_text("480")
    page.goto("/vouchers")
    _elderly_rules(page)
    _both_widths(page, "vouchers-elder")
    page.goto("/print")
    expect(page.get_by_role("heading", level=1)).to_have_text("积分单")
    _both_widths(page, "print-elder")


def test_the_mall_and_my_data_in_standard_mode_and_in_english(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(**RESIDENT).new_page()
    _sign_in(page, "13800000002", DEMO_PASSWORD)
    for path, name in (
        ("/rewards", "rewards"),
        ("/vouchers", "vouchers"),
        ("/me/data", "mydata"),
        ("/me/data/deletion", "mydata-deletion"),
        ("/print", "print"),
    ):
        page.goto(path)
        assert small_targets(page, 48) == []
        assert measure_text(page).below(4.5) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        _both_widths(page, name)
    page.goto("/rewards")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rewards mall")
    _both_widths(page, "rewards-en")
    page.get_by_role("link", name="Free health check-up", exact=True).click()
    _both_widths(page, "reward-en")
    page.goto("/me/data")
    _both_widths(page, "mydata-en")
    page.get_by_role("link", name="中文").click()
