"""Journey 4 in Chromium: an administrator previews a lower monthly cap on last month before
saving it; the overview draws its charts from real figures. axe and screenshots on each page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from civicpoints.kit.clock import local_date, utcnow
from tests.e2e.harness import DESKTOP, RESIDENT, check_axe, shoot

PAGES = ("/admin", "/admin/rules", "/admin/audit", "/admin/jobs", "/admin/ledger")


def _sign_in(page: Page, username: str = "admin") -> None:
    page.goto("/login")
    page.get_by_label("手机号或平台编号").fill(username)
    page.get_by_label("密码").fill(DEMO_STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/admin")


def _charts_drawn(page: Page) -> None:
    """Each chart holds an ECharts SVG of real size, and each table under it has rows."""
    charts = page.locator(".chart.drawn")
    expect(charts).to_have_count(4)
    for i in range(4):
        svg = charts.nth(i).locator("svg")
        expect(svg).to_have_count(1)
        box = svg.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 200, box
        assert svg.locator("path").count() > 3  # bars, lines or slices, not an empty frame
    for table in page.locator(".chart-card table").all():
        assert table.locator("tbody tr").count() > 0


def test_the_admin_previews_a_lower_cap_before_saving(desktop_page: Page) -> None:
    page = desktop_page
    _sign_in(page)
    _charts_drawn(page)
    issued = page.locator(".chart-card table").first.locator("tbody tr").last.locator("td").first
    expect(issued).not_to_have_text("0")  # this month's points were really issued
    check_axe(page)
    shoot(page, "admin-overview")

    page.get_by_role("link", name="积分规则").click()
    expect(page.get_by_text("初始默认规则（尚未保存任何版本）")).to_be_visible()
    check_axe(page)
    shoot(page, "admin-rules")
    tomorrow = local_date(utcnow()) + timedelta(days=1)
    page.get_by_label("生效日期").fill(tomorrow.isoformat())
    page.get_by_label("月度上限（每人积分）").fill("400")
    page.get_by_label("备注（调整原因）").fill("月度上限由 500 调为 400")
    page.get_by_role("button", name="预览对上个月的影响").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("会产生的影响")
    expect(page.get_by_text("尚未保存", exact=False).first).to_be_visible()
    expect(page.locator("#delta")).to_contain_text("积分")
    delta = int(page.locator("#delta").inner_text().split()[0].replace(",", ""))
    assert delta <= 0  # a lower cap never pays more
    expect(page.locator("#cost")).to_contain_text("¥")
    check_axe(page)
    shoot(page, "admin-rules-preview")
    page.get_by_role("button", name="保存这个版本").click()

    expect(page.get_by_role("status")).to_have_text("新的积分规则版本已保存。")
    expect(page.get_by_role("cell", name="月度上限由 500 调为 400")).to_be_visible()


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_every_console_page_passes_axe(
    new_context: Callable[..., BrowserContext], width: str
) -> None:
    page = new_context(**(DESKTOP if width == "desktop" else RESIDENT)).new_page()
    _sign_in(page, "admin")
    for path in PAGES:
        page.goto(path)
        check_axe(page)
        shoot(page, path.strip("/").replace("/", "-"))
    viewport = page.viewport_size
    assert viewport is not None
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_the_console_in_english(desktop_page: Page) -> None:
    page = desktop_page
    _sign_in(page, "auditor")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    _charts_drawn(page)
    page.get_by_role("link", name="Rules").click()
    expect(page.get_by_text("Only an administrator can add a version.")).to_be_visible()
    check_axe(page)
    shoot(page, "admin-rules-en")


@pytest.mark.expect_status(403)
def test_a_resident_is_shown_the_403_page(resident_page: Page) -> None:
    from civicpoints.cli.demo_data import DEMO_PASSWORD, LI_PHONE

    resident_page.goto("/login")
    resident_page.get_by_label("手机号或平台编号").fill(LI_PHONE)
    resident_page.get_by_label("密码").fill(DEMO_PASSWORD)
    resident_page.get_by_role("button", name="登录").click()
    expect(resident_page.get_by_role("heading", level=1)).to_contain_text("您好")
    resident_page.wait_for_load_state("load")
    resident_page.goto("/admin")
    expect(resident_page.get_by_role("heading", level=1)).to_be_visible()
    check_axe(resident_page)
