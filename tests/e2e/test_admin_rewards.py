"""The admin console's money and staff pages in Chromium: an administrator's afternoon.

Adds stock, reads the budget with its alert state, downloads the settlement CSV, creates a
staff account and grants it a role; axe and screenshots at 1280 px and 360 px, and in English.
Changes only what it owns: stock of one item, and a staff account it creates.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from civicpoints.kit.clock import month_key, utcnow
from civicpoints.kit.db import transaction
from civicpoints.regions.models import Organization, Region
from civicpoints.rewards import BudgetService
from civicpoints.rewards.models import Item
from tests.e2e.harness import check_axe, shoot

PAGES = ("catalog", "sponsors", "budget", "settlement", "staff")


def _sign_in(page: Page, username: str = "admin", start: str = "/admin/catalog") -> None:
    page.goto(f"/login?next={start}")
    page.get_by_label("手机号或平台编号").fill(username)
    page.get_by_label("密码").fill(DEMO_STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{page.url.split('/admin')[0]}{start}")


def _look(page: Page, name: str) -> None:
    """axe, then screenshots at the office PC's width and a phone's."""
    check_axe(page)
    shoot(page, f"admin-{name}")
    page.set_viewport_size({"width": 360, "height": 740})
    check_axe(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
    shoot(page, f"admin-{name}")
    page.set_viewport_size({"width": 1280, "height": 800})


def _stock(sessions: sessionmaker[Session], code: str) -> tuple[int, int]:
    with transaction(sessions) as s:
        item = s.scalars(select(Item).where(Item.code == code)).one()
        return item.stock_total, item.stock_remaining


def test_an_admin_adds_stock_reads_the_budget_and_downloads_the_settlement(
    desktop_page: Page, live_sessions: sessionmaker[Session]
) -> None:
    page = desktop_page
    _sign_in(page)
    _look(page, "catalog")
    total, left = _stock(live_sessions, "SM-10")
    with transaction(live_sessions) as s:
        item_id = s.scalars(select(Item.id).where(Item.code == "SM-10")).one()
    page.locator(f"a[href='/admin/catalog/{item_id}']").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.get_by_label("增加份数").fill("10")
    page.get_by_role("button", name="增加库存").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    assert _stock(live_sessions, "SM-10") == (total + 10, left + 10)
    expect(page.locator(".figures")).to_contain_text(f"{left + 10:,} / {total + 10:,} 份")
    _look(page, "item")

    page.get_by_role("link", name="预算", exact=True).click()
    with transaction(live_sessions) as s:
        figures = BudgetService(s).figures()
    if figures.alert:
        expect(page.get_by_role("alert")).to_contain_text("积分负债")
    else:
        expect(page.get_by_role("alert")).to_have_count(0)
        expect(page.get_by_role("status")).to_contain_text("预算充足")
    _look(page, "budget")

    page.get_by_role("link", name="赞助方", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("资金来源与积分价值")
    _look(page, "sponsors")

    page.get_by_role("link", name="结算", exact=True).click()
    month = month_key(utcnow())
    expect(page.get_by_label("月份")).to_have_value(month)
    _look(page, "settlement")
    with page.expect_download() as info:
        page.get_by_role("link", name="下载 CSV").click()
    download = info.value
    assert download.suggested_filename == f"settlement-{month}.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    with transaction(live_sessions) as s:
        report = BudgetService(s).settlement(month)
    assert rows[0][:3] == ["商户 merchant", "资金来源 sponsor", "券码 voucher_code"]
    assert [r[2] for r in rows[1 : 1 + len(report.lines)]] == [x.voucher_code for x in report.lines]
    assert rows[-1][0] == "合计 total" and rows[-1][2] == str(len(report.lines))


def test_an_admin_creates_a_staff_account_and_grants_a_role(
    desktop_page: Page, live_sessions: sessionmaker[Session]
) -> None:
    page = desktop_page
    _sign_in(page, start="/admin/staff")
    _look(page, "staff")
    with transaction(live_sessions) as s:
        street = s.scalars(select(Region).where(Region.code == "330106001")).one()
        committee = s.scalars(
            select(Organization).where(Organization.region_id != street.id).limit(1)
        ).one()
        street_id, committee_id, committee_name = str(street.id), str(committee.id), committee.name
    page.get_by_role("link", name="新增工作人员账号").click()
    page.get_by_label("用户名").fill("e2e_reviewer")
    page.get_by_label("姓名及职务").fill("北山街道审核员 高审核")
    page.get_by_label("初始密码").fill("Lingyin-temple-bell-1958")
    page.get_by_label("角色").select_option("reviewer")
    page.get_by_label("地区").select_option(street_id)
    _look(page, "staff-new")
    page.get_by_role("button", name="创建账号").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("北山街道审核员 高审核")
    grant = page.get_by_role("region", name="授予角色")
    grant.get_by_label("角色").select_option("organizer")
    grant.get_by_label("单位").select_option(committee_id)
    page.get_by_role("button", name="授予", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    roles = page.locator("#roles-title + ul")
    expect(roles).to_contain_text("审核员")
    expect(roles).to_contain_text(f"组织者 {committee_name}")
    _look(page, "staff-detail")


def test_the_admin_pages_in_english(desktop_page: Page) -> None:
    page = desktop_page
    _sign_in(page)
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rewards catalog")
    page.wait_for_load_state("load")  # let the stylesheet arrive before leaving the page
    for name in PAGES:
        page.goto(f"/admin/{name}")
        check_axe(page)
        shoot(page, f"admin-{name}-en")
