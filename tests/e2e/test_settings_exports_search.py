"""Issue 11's remainders in a real browser, JavaScript off, 360 px and 长辈模式: an
administrator adds a version of the star thresholds and of the donation settings
(/admin/stars, /admin/donations); an organizer downloads volunteer records as CSV and JSON
(/staff/volunteer-records); the 民政专干 searches the pool page's low-income residents
(/staff/pool), with and without htmx. Screenshots in var/screenshots/; axe runs where script
does (here with htmx, and on every page in tests/e2e/test_every_page.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from tests.e2e.harness import RESIDENT, check_axe, shoot
from tests.e2e.test_every_page import _sign_in


def _phone(new_context: Callable[..., BrowserContext], live_url: str, js: bool) -> Page:
    """A 360 px page in 长辈模式, JavaScript as asked."""
    ctx = new_context(**RESIDENT, java_script_enabled=js)
    ctx.add_cookies([{"name": "cp_elder", "value": "1", "url": live_url}])
    return ctx.new_page()


@pytest.mark.expect_status(422)  # a threshold out of bounds: the form again, beside the field
def test_an_administrator_adds_setting_versions_without_javascript(
    new_context: Callable[..., BrowserContext], live_url: str
) -> None:
    page = _phone(new_context, live_url, js=False)
    _sign_in(page, "admin", DEMO_STAFF_PASSWORD)
    page.goto("/admin")
    page.get_by_role("link", name="星级标准").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("星级标准")
    expect(page.get_by_text("国家默认标准（尚未设置版本）")).to_be_visible()
    shoot(page, "admin-stars-elder")
    page.get_by_label("一星志愿者").fill("2000")  # above the second level's 300
    page.get_by_role("button", name="保存这个版本").click()
    expect(page.locator(".error-summary")).to_contain_text("每一级须多于上一级")
    shoot(page, "admin-stars-error-elder")
    page.get_by_label("一星志愿者").fill("80")
    page.get_by_label("备注（调整原因）").fill("e2e 试行")
    page.get_by_role("button", name="保存这个版本").click()
    expect(page.get_by_text("新版本已保存。")).to_be_visible()
    expect(page.locator("tbody").get_by_text("待生效")).to_be_visible()  # from tomorrow

    page.get_by_role("link", name="捐赠与积分银行").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("捐赠与积分银行")
    shoot(page, "admin-donation-settings-elder")
    page.get_by_label("每月捐赠上限").fill("300")
    page.get_by_role("button", name="保存这个版本").click()
    expect(page.get_by_text("新版本已保存。")).to_be_visible()
    expect(page.locator("tbody").get_by_text("待生效")).to_be_visible()


def test_an_organizer_downloads_volunteer_records_without_javascript(
    new_context: Callable[..., BrowserContext], live_url: str
) -> None:
    page = _phone(new_context, live_url, js=False)
    _sign_in(page, "organizer", DEMO_STAFF_PASSWORD)
    page.goto("/staff")
    page.get_by_role("link", name="导出志愿服务记录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("导出志愿服务记录")
    expect(page.get_by_text("每次导出都会记入审计日志")).to_be_visible()
    shoot(page, "staff-volunteer-records-elder")
    with page.expect_download() as got:
        page.get_by_role("link", name="下载 CSV（电子表格）").click()
    body = Path(got.value.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf") and "个人信息.平台编号".encode() in body
    assert got.value.suggested_filename.endswith(".csv")
    with page.expect_download() as got:
        page.get_by_role("link", name="下载 JSON（供导入全国志愿服务信息系统）").click()
    doc = json.loads(Path(got.value.path()).read_bytes())
    assert doc["format"] == "civicpoints-volunteer-records-v1" and doc["id_numbers"] == "masked"


@pytest.mark.parametrize("js", [False, True])
def test_the_pool_page_searches_low_income_residents(
    new_context: Callable[..., BrowserContext], live_url: str, js: bool
) -> None:
    page = _phone(new_context, live_url, js=js)
    _sign_in(page, "civil", DEMO_STAFF_PASSWORD)
    page.goto("/staff/pool")
    options = page.locator("#f-resident_id option")
    expect(options.first).to_be_attached()
    first = options.first.inner_text()
    name, number = (part.strip() for part in first.split("·"))
    page.get_by_label("查找低收入居民").fill(number)
    page.get_by_role("button", name="搜索").click()
    expect(page).to_have_url(re.compile(r"/staff/pool\?community=[0-9a-f-]+&q=" + number))
    expect(page.locator("#f-resident_id option")).to_have_count(1)
    expect(page.locator("#f-resident_id option")).to_have_text(first)
    page.get_by_label("查找低收入居民").fill("无此人")
    page.get_by_role("button", name="搜索").click()
    expect(page.get_by_text("本社区没有与“无此人”相符的低收入居民。")).to_be_visible()
    expect(page.locator("#f-resident_id")).to_have_count(0)
    page.get_by_label("查找低收入居民").fill(name)
    page.get_by_role("button", name="搜索").click()
    expect(page.locator("#f-resident_id option").first).to_contain_text(name)
    if js:  # axe runs in the page (test_every_page checks these pages in every mode too)
        check_axe(page)
    else:
        shoot(page, "staff-pool-search-elder")
