"""Issue 13 in Chromium: the city administrator opens the figures from the admin menu,
narrows them to a street and a range of months; the charts are drawn from the demo's
rollup (the demo runs the job), each beside its table; without script the tables alone carry
the numbers. axe and screenshots on each view."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.months import key_of, recent_months
from tests.e2e.harness import DESKTOP, check_axe, shoot


def _sign_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("手机号或平台编号").fill("admin")
    page.get_by_label("密码").fill(DEMO_STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/admin")


def test_the_admin_reads_the_figures_of_a_street(desktop_page: Page) -> None:
    page = desktop_page
    _sign_in(page)
    page.get_by_role("navigation", name="管理栏目").get_by_role("link", name="统计数据").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("统计数据: 杭州市")
    issued = page.locator("dl.figures div", has_text="发放积分").locator("dd")
    expect(issued).not_to_have_text("0")  # the demo's awards, rolled up by the demo's job
    charts = page.locator(".chart.drawn")
    expect(charts).to_have_count(3)
    for i in range(3):
        expect(charts.nth(i).locator("svg")).to_have_count(1)
    points = page.locator("#points-title").locator("xpath=..").locator("tbody tr")
    expect(points).to_have_count(12)
    check_axe(page)
    shoot(page, "admin-insights")

    months = recent_months(local_date(utcnow()), 3)
    # The picker goes down the tree: the city's districts first, then the district's streets.
    expect(page.get_by_label("地区").locator("option", has_text="北山街道")).to_have_count(0)
    page.get_by_label("地区").select_option(label="\u3000西湖区")
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("统计数据: 西湖区")
    page.get_by_label("地区").select_option(label="\u3000\u3000北山街道")
    page.get_by_label("起始月份").fill(key_of(months[0]))
    page.get_by_label("结束月份").fill(key_of(months[-1]))
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("统计数据: 北山街道")
    expect(points).to_have_count(3)
    expect(page.get_by_role("heading", name="按年龄和性别的参与人数")).to_be_visible()
    check_axe(page)
    shoot(page, "admin-insights-street")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 CSV").click()
    assert (
        download.value.suggested_filename
        == f"insights-{key_of(months[0])}-{key_of(months[-1])}.csv"
    )
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.startswith("区域 Region,北山街道,Beishan Street")


def test_without_script_the_tables_carry_the_figures(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(**DESKTOP, java_script_enabled=False).new_page()
    _sign_in(page)
    page.goto("/admin/insights")
    expect(page.locator(".chart.drawn")).to_have_count(0)
    expect(page.locator(".chart-card table")).to_have_count(5)
    expect(page.get_by_role("rowheader", name="合计").first).to_be_visible()
