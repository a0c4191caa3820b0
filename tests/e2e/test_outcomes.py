"""Issue 13 item 2 in Chromium: the city administrator opens 成效指标 from the admin menu,
picks 西湖区 (the demo's district that joined twelve months ago): 垃圾分类执行率 65% before,
82% after, the chart drawn with the join month marked beside its table; then enters a value
for a community through the form. axe and a screenshot."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from civicpoints.kit.clock import add_months, local_date, utcnow
from tests.e2e.harness import check_axe, shoot


def test_the_admin_reads_the_seed_story_and_enters_a_value(desktop_page: Page) -> None:
    page = desktop_page
    page.goto("/login")
    page.get_by_label("手机号或平台编号").fill("admin")
    page.get_by_label("密码").fill(DEMO_STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/admin")
    page.get_by_role("navigation", name="管理栏目").get_by_role("link", name="成效指标").click()
    page.get_by_label("地区").select_option(label="\u3000西湖区")
    page.locator("#f-indicator").select_option("waste_sorting_rate")
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("成效指标: 西湖区")
    tiles = page.locator("dl.figures")
    expect(tiles).to_contain_text("加入前 12 个月65 %")
    expect(tiles).to_contain_text("加入后 12 个月82 %")
    expect(tiles).to_contain_text("+17 % (+26.2%)")
    chart = page.locator("#chart-outcomes.drawn svg")
    expect(chart).to_have_count(1)
    expect(page.locator("#chart-outcomes")).to_contain_text("加入积分制")  # the join mark
    expect(page.locator("#series-title").locator("xpath=..").locator("tbody tr")).to_have_count(24)
    expect(page.locator("tr.joined")).to_have_count(1)
    check_axe(page)
    shoot(page, "admin-outcomes")

    page.get_by_label("地区").select_option(label="\u3000\u3000北山街道")  # down the tree
    page.get_by_role("button", name="查看").click()
    page.get_by_label("地区").select_option(label="\u3000\u3000\u3000北山一社区")
    page.get_by_role("button", name="查看").click()
    month = add_months(local_date(utcnow()).replace(day=1), -1).isoformat()[:7]
    page.locator("#f-entry-indicator").select_option("hazard_reports")
    page.locator("#f-month").fill(month)
    page.locator("#f-value").fill("7")
    page.locator("#f-source").fill("派出所 隐患登记")
    page.get_by_role("button", name="保存数值").click()
    expect(page.get_by_role("status")).to_have_text("数值已保存。")
    check_axe(page)
