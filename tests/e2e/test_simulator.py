"""Issue 13 item 6 in Chromium: the city administrator opens the policy simulator (政策模拟)
from the admin menu, raises the monthly cap and a rate against the demo city's last twelve
months; htmx swaps the result in place (table and chart, nothing saved). Without script the
form posts and the page comes back with the same tables. axe (with script) and screenshots
at desktop width."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import DESKTOP, check_axe, shoot
from tests.e2e.test_insights import _sign_in


def test_the_admin_tries_a_higher_cap_and_rate(desktop_page: Page) -> None:
    page = desktop_page
    _sign_in(page)
    page.get_by_role("navigation", name="管理栏目").get_by_role("link", name="政策模拟").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("政策模拟: 杭州市")
    cap = page.get_by_label("月度上限（每人积分）")
    expect(cap).to_have_value("500")  # the seed's cap, in force
    check_axe(page)
    shoot(page, "admin-simulator-form")

    cap.fill("800")
    page.get_by_label("志愿服务").fill("12")
    page.get_by_role("button", name="开始模拟").click()
    result = page.locator("#sim-result")
    expect(result.get_by_role("heading", level=2).first).to_contain_text("调整后的结果")
    expect(result.get_by_text("未保存任何内容")).to_be_visible()
    issued = result.locator("table.sim-table tbody tr").first
    expect(issued.locator("th")).to_have_text("发放积分")
    expect(page.locator("#chart-simulation.drawn svg")).to_have_count(1)
    expect(result.locator(".chart-card tbody tr")).to_have_count(12)
    expect(cap).to_have_value("800")  # the form stays as filled in (htmx swapped the result)
    check_axe(page)
    result.scroll_into_view_if_needed()
    shoot(page, "admin-simulator-result")


def test_without_script_the_form_posts_and_the_tables_come_back(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(**DESKTOP, java_script_enabled=False).new_page()
    _sign_in(page)
    page.goto("/admin/simulator")
    page.get_by_label("积分有效期（月）").fill("6")
    page.get_by_role("button", name="开始模拟").click()
    expect(page.locator("#sim-result table.sim-table")).to_be_visible()
    expect(page.get_by_label("积分有效期（月）")).to_have_value("6")
    expect(page.locator(".chart.drawn")).to_have_count(0)
    expect(page.locator("#sim-result .chart-card tbody tr")).to_have_count(12)
