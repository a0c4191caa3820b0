"""The admin console's money and staff pages: catalog, sponsors, budget, settlement, staff.

The pages call the API's services: the same checks, the same messages, the same export bytes.
Writes are for administrators, reading for auditors too, everyone else gets 403; a page write
is audited like an API write, and a refused one is rolled back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.audit.models import AuditEntry
from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.cli.demo_rewards import Rewards
from civicpoints.identity.models import Resident, RoleGrant, Staff
from civicpoints.kit.clock import month_key, utcnow
from civicpoints.kit.db import transaction
from civicpoints.rewards import BudgetService
from civicpoints.rewards.models import Item, Sponsor, Valuation

from .pages import csrf_of, post_form, sign_in
from .test_api import PASSWORD, login, register
from .test_rewards import API, redeem, zhang

NEW_PASSWORD = "Lingyin-temple-bell-1958"


def item_row(sessions: sessionmaker[Session], code: str) -> Item:
    """An item as stored now."""
    with transaction(sessions) as s:
        item = s.scalars(select(Item).where(Item.code == code)).one()
        s.expunge(item)
        return item


def audit_rows(sessions: sessionmaker[Session], action: str) -> list[AuditEntry]:
    """Audit rows of one action (route name)."""
    with transaction(sessions) as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        for r in rows:
            s.expunge(r)
        return rows


def as_admin(client: TestClient) -> None:
    sign_in(client, "admin", DEMO_STAFF_PASSWORD)


# -- catalog ---------------------------------------------------------------------------------


def test_the_catalog_lists_items_with_stock_price_and_merchant(
    client: TestClient, rewards: Rewards
) -> None:
    as_admin(client)
    page = client.get("/admin/catalog")
    assert page.status_code == 200
    item = rewards.items["SM-10"]
    assert item.name in page.text
    assert f"{item.stock_remaining:,} / {item.stock_total:,} 份" in page.text
    assert "100 积分" in page.text and "¥10.00" in page.text
    assert 'class="admin' in page.text and "/admin/staff" in page.text  # the admin layout


def test_an_admin_adds_stock_and_the_audit_log_records_it(
    client: TestClient, rewards: Rewards, sessions: sessionmaker[Session]
) -> None:
    as_admin(client)
    before = item_row(sessions, "SM-10")
    url = f"/admin/catalog/{before.id}"
    r = post_form(client, url, f"{url}/stock", add="25")
    assert r.status_code == 303 and r.headers["location"] == f"{url}?saved=1"
    after = item_row(sessions, "SM-10")
    assert after.stock_total == before.stock_total + 25
    assert after.stock_remaining == before.stock_remaining + 25
    assert "已保存" in client.get(r.headers["location"]).text
    [row] = audit_rows(sessions, "add_stock")
    assert row.method == "POST" and row.status == 303
    assert row.path == "/admin/catalog/{item_id}/stock" and str(before.id) in row.targets


def test_a_refused_stock_change_shows_the_api_message_changes_nothing_and_is_audited(
    client: TestClient, rewards: Rewards, sessions: sessionmaker[Session]
) -> None:
    as_admin(client)
    before = item_row(sessions, "SM-10")
    url = f"/admin/catalog/{before.id}"
    r = post_form(client, url, f"{url}/stock", add="0")
    assert r.status_code == 422 and 'href="#f-add"' in r.text
    # a price worth more than the face value: the service's own message, beside the price
    r = post_form(client, url, url, stock_total="3", price_points="500", face_value_fen="10")
    assert r.status_code == 422
    assert 'href="#f-price_points"' in r.text and "补贴将为负数" in r.text
    after = item_row(sessions, "SM-10")
    assert (after.stock_total, after.price_points) == (before.stock_total, before.price_points)
    [row] = audit_rows(sessions, "update_item")
    assert row.status == 422  # refused: rolled back, recorded as refused


def test_a_new_item_through_the_page_uses_the_api_checks(
    client: TestClient, rewards: Rewards, sessions: sessionmaker[Session]
) -> None:
    as_admin(client)
    fields = {
        "code": "RICE-5",
        "name": "五公斤大米",
        "name_en": "5 kg of rice",
        "category": "supermarket_voucher",
        "fulfilment": "voucher",
        "price_points": "300",
        "face_value": "30.00",
        "sponsor": "city-fund",
        "merchant": "lianhua-xihu",
        "stock_total": "40",
        "limit_per_period": "1",
        "period": "month",
        "valid_from": "2026-01-01T08:00",
        "valid_until": "2026-01-01T07:00",  # ends before it starts
        "voucher_days": "30",
    }
    r = post_form(client, "/admin/catalog/new", "/admin/catalog/new", **fields)
    assert r.status_code == 422 and 'href="#f-valid_until"' in r.text
    assert "结束时间须晚于开始时间" in r.text
    r = post_form(client, "/admin/catalog/new", "/admin/catalog/new", **fields | {"code": "SM-10"})
    assert r.status_code == 422 and 'href="#f-code"' in r.text  # the code is taken
    good = fields | {"valid_until": "2027-01-01T08:00", "face_value": "abc"}
    r = post_form(client, "/admin/catalog/new", "/admin/catalog/new", **good)
    assert r.status_code == 422 and 'href="#f-face_value"' in r.text
    r = post_form(client, "/admin/catalog/new", "/admin/catalog/new", **good | {"face_value": "30"})
    assert r.status_code == 303
    item = item_row(sessions, "RICE-5")
    assert (item.face_value_fen, item.stock_remaining, item.active) == (3000, 40, True)


# -- sponsors and valuation ------------------------------------------------------------------


def test_sponsors_and_a_new_valuation_version(
    client: TestClient, rewards: Rewards, sessions: sessionmaker[Session]
) -> None:
    as_admin(client)
    page = client.get("/admin/sponsors").text
    assert "1 积分 = ¥0.10" in page
    r = post_form(
        client, "/admin/sponsors", "/admin/valuations",
        yuan_per_point="0.12", effective_from="2030-01-01T00:00", note="第二期",
    )  # fmt: skip
    assert r.status_code == 303
    with transaction(sessions) as s:
        newest = s.scalars(select(Valuation).order_by(Valuation.effective_from.desc())).first()
        assert newest is not None and newest.fen_per_point == 12
    page = client.get("/admin/sponsors").text
    assert "尚未生效" in page and "1 积分 = ¥0.10" in page  # in force from 2030 only
    r = post_form(
        client, "/admin/sponsors", "/admin/sponsors",
        code="alibaba", name="某企业", name_en="A company", kind="enterprise", budget="abc",
    )  # fmt: skip
    assert r.status_code == 422 and 'href="#f-budget"' in r.text
    r = post_form(
        client, "/admin/sponsors", "/admin/sponsors",
        code="alibaba", name="某企业", name_en="A company", kind="enterprise", budget="50000",
    )  # fmt: skip
    assert r.status_code == 303
    with transaction(sessions) as s:
        sponsor = s.scalars(select(Sponsor).where(Sponsor.code == "alibaba")).one()
        assert sponsor.budget_fen == 5_000_000


# -- budget and settlement -------------------------------------------------------------------


def test_the_budget_page_shows_the_alert_the_service_computes(
    client: TestClient,
    city: City,
    rewards: Rewards,
    fund: Callable[..., None],
    sessions: sessionmaker[Session],
    make_resident: Callable[..., Resident],
) -> None:
    as_admin(client)
    page = client.get("/admin/budget").text
    assert 'role="alert"' not in page and "预算充足" in page
    with transaction(sessions) as s:
        remaining = BudgetService(s).figures().remaining_fen
    resident = make_resident()
    fund(resident.id, remaining // 10 + 1)  # worth 1 fen more than the budget left
    page = client.get("/admin/budget").text
    assert 'role="alert"' in page and "积分负债" in page and "已超过剩余预算" in page


def used_vouchers(
    client: TestClient, city: City, fund: Callable[..., None], rewards: Rewards
) -> None:
    """Two vouchers used this month at two merchants, through the API."""
    headers = zhang(client, city, fund, points=1120)
    for code, clerk in (("SM-10", "clerk"), ("TRANSIT-MONTH", "clerk_metro")):
        made = redeem(client, headers, rewards.items[code])
        voucher = made.json()["vouchers"][0]["code"]
        used = client.post(f"{API}/vouchers/{voucher}/verify", headers=login(client, clerk))
        assert used.status_code == 200, used.text


def test_settlement_page_and_downloads_are_the_api_export(
    client: TestClient, city: City, rewards: Rewards, fund: Callable[..., None]
) -> None:
    used_vouchers(client, city, fund, rewards)
    month = month_key(utcnow())
    as_admin(client)
    page = client.get("/admin/settlement")
    assert page.status_code == 200 and f'value="{month}"' in page.text
    assert "2 张" in page.text or "1 张" in page.text
    csv_page = client.get(f"/admin/settlement.csv?month={month}")
    assert csv_page.status_code == 200 and csv_page.headers["content-type"].startswith("text/csv")
    assert f"settlement-{month}.csv" in csv_page.headers["content-disposition"]
    api = client.get(
        f"{API}/settlements/export", params={"month": month}, headers=login(client, "admin")
    )
    assert csv_page.content == api.content
    rows = list(csv.reader(io.StringIO(csv_page.content.decode("utf-8-sig"))))
    assert rows[0][0].startswith("商户") and rows[-1][0] == "合计 total" and rows[-1][2] == "2"
    xlsx = client.get(f"/admin/settlement.xlsx?month={month}")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    bad = client.get("/admin/settlement?month=2026-13")
    assert bad.status_code == 422 and 'href="#f-month"' in bad.text


# -- who may -----------------------------------------------------------------------------------

PAGES = ("/admin/catalog", "/admin/sponsors", "/admin/budget", "/admin/settlement", "/admin/staff")


@pytest.mark.parametrize("username", ["organizer", "clerk", "reviewer"])
def test_other_staff_get_403(client: TestClient, rewards: Rewards, username: str) -> None:
    sign_in(client, username, DEMO_STAFF_PASSWORD)
    for url in PAGES:
        assert client.get(url).status_code == 403, url


def test_a_resident_gets_403_and_a_stranger_is_sent_to_sign_in(
    client: TestClient, city: City, rewards: Rewards
) -> None:
    assert client.get("/admin/budget", follow_redirects=False).status_code == 303
    assert register(client, city, 7).status_code == 201
    sign_in(client, "13800000007", PASSWORD)
    for url in PAGES:
        assert client.get(url).status_code == 403, url


def test_an_auditor_reads_but_cannot_write(
    client: TestClient, rewards: Rewards, sessions: sessionmaker[Session]
) -> None:
    sign_in(client, "auditor", DEMO_STAFF_PASSWORD)
    for url in PAGES:
        assert client.get(url).status_code == 200, url
    item = item_row(sessions, "SM-10")
    url = f"/admin/catalog/{item.id}"
    page = client.get(url).text
    assert "/stock" not in page  # no forms for a reader
    token = csrf_of(page)
    r = client.post(f"{url}/stock", data={"csrf_token": token, "add": "5"})
    assert r.status_code == 403
    assert item_row(sessions, "SM-10").stock_total == item.stock_total
    [row] = audit_rows(sessions, "add_stock")
    assert row.status == 403  # the refused attempt is on the record


def test_a_post_without_its_token_changes_nothing(
    client: TestClient, rewards: Rewards, sessions: sessionmaker[Session]
) -> None:
    as_admin(client)
    item = item_row(sessions, "SM-10")
    for data in ({"add": "5"}, {"add": "5", "csrf_token": "forged"}):
        r = client.post(f"/admin/catalog/{item.id}/stock", data=data)
        assert r.status_code == 403 and "页面已过期" in r.text
    assert item_row(sessions, "SM-10").stock_total == item.stock_total


# -- staff -------------------------------------------------------------------------------------


def new_staff(client: TestClient, city: City, username: str, role: str, region: str) -> str:
    """Create a staff account through the page; returns its page's path."""
    r = post_form(
        client, "/admin/staff/new", "/admin/staff/new",
        username=username, display_name="北山街道 管理员 马主任", password=NEW_PASSWORD,
        role=role, region_id=region, organization_id="",
    )  # fmt: skip
    assert r.status_code == 303, r.text
    return r.headers["location"].split("?")[0]


def test_an_admin_creates_staff_grants_and_revokes_a_role(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    as_admin(client)
    street = city.streets[0]
    url = new_staff(client, city, "beishan_admin", "reviewer", str(street.id))
    page = client.get(url).text
    assert "审核员" in page and street.name in page
    r = post_form(
        client, url, f"{url}/grants", role="organizer", region_id="",
        organization_id=str(city.committees[0].id),
    )  # fmt: skip
    assert r.status_code == 303
    with transaction(sessions) as s:
        staff = s.scalars(select(Staff).where(Staff.username == "beishan_admin")).one()
        grants = {
            g.role: g.id for g in s.scalars(select(RoleGrant).where(RoleGrant.staff_id == staff.id))
        }
    assert set(grants) == {"reviewer", "organizer"}
    r = post_form(client, url, f"{url}/grants/{grants['reviewer']}/revoke")
    assert r.status_code == 303
    page = client.get(url).text
    assert "审核员" not in page.split("授予角色")[0]
    assert [row.status for row in audit_rows(sessions, "revoke_role")] == [303]
    assert [row.status for row in audit_rows(sessions, "grant_role")] == [303]
    # the new account signs in with the password it was given
    client.cookies.clear()
    sign_in(client, "beishan_admin", NEW_PASSWORD)


def test_staff_forms_show_the_services_messages(client: TestClient, city: City) -> None:
    as_admin(client)
    fields = {"username": "admin", "display_name": "某人", "password": NEW_PASSWORD}
    grant = {"role": "reviewer", "region_id": str(city.streets[0].id), "organization_id": ""}
    r = post_form(client, "/admin/staff/new", "/admin/staff/new", **fields, **grant)
    assert r.status_code == 409 and "用户名“admin”已被使用" in r.text
    assert NEW_PASSWORD not in r.text
    r = post_form(
        client, "/admin/staff/new", "/admin/staff/new",
        **fields | {"username": "weak_one", "password": "123456"}, **grant,
    )  # fmt: skip
    assert r.status_code == 422 and 'href="#f-password"' in r.text
    r = post_form(
        client, "/admin/staff/new", "/admin/staff/new",
        **fields | {"username": "no_scope"}, **grant | {"region_id": ""},
    )  # fmt: skip
    assert r.status_code == 422 and "请选择该角色适用的地区或单位" in r.text
    own = client.get("/admin/staff").text
    admin_url = next(line for line in own.split('"') if line.startswith("/admin/staff/0"))
    r = post_form(client, admin_url, f"{admin_url}/grants", **grant)
    assert r.status_code == 409 and "不能修改自己的角色" in r.text


def test_every_role_has_a_chinese_name_on_the_staff_pages(client: TestClient, city: City) -> None:
    """The role choices of /admin/staff/new name each role in Chinese, never by its code."""
    import re

    from civicpoints.access import Role

    as_admin(client)
    page = client.get("/admin/staff/new").text
    labels = dict(re.findall(r'<option value="([a-z_]+)"[^>]*>([^<]+)', page))
    for role in Role:
        assert role.value in labels, role
        assert re.search("[\u4e00-\u9fff]", labels[role.value]), (role, labels[role.value])


def test_a_regional_admin_stays_inside_their_region(
    client: TestClient, city: City, rewards: Rewards, sessions: sessionmaker[Session]
) -> None:
    as_admin(client)
    new_staff(client, city, "beishan_admin", "admin", str(city.streets[0].id))
    client.cookies.clear()
    sign_in(client, "beishan_admin", NEW_PASSWORD)
    listed = client.get("/admin/staff").text
    assert "organizer" in listed and "reviewer" in listed  # roles in the first street
    assert "env_officer" not in listed and "clerk_metro" not in listed
    assert client.get("/admin/budget").status_code == 403  # money: city-wide, as the API
    with transaction(sessions) as s:
        ids = {u: s.scalars(select(Staff.id).where(Staff.username == u)).one() for u in
               ("organizer", "env_officer")}  # fmt: skip
    assert client.get(f"/admin/staff/{ids['env_officer']}").status_code == 404
    url = f"/admin/staff/{ids['organizer']}"
    outside = {"role": "reviewer", "region_id": str(city.streets[1].id), "organization_id": ""}
    r = post_form(client, url, f"{url}/grants", **outside)
    assert r.status_code == 403 and "只能在自己负责的地区" in r.text
    r = post_form(client, url, f"{url}/grants", **outside | {"region_id": str(city.city.id)})
    assert r.status_code == 403
    inside = outside | {"region_id": str(city.communities[0].id)}
    assert post_form(client, url, f"{url}/grants", **inside).status_code == 303
    with transaction(sessions) as s:
        roles = s.scalars(select(RoleGrant.role).where(RoleGrant.staff_id == ids["organizer"]))
        assert sorted(roles) == ["organizer", "reviewer"]
    token = csrf_of(client.get(url).text)
    r = client.post(
        f"/admin/staff/{ids['env_officer']}/grants", data={"csrf_token": token, **inside}
    )
    assert r.status_code == 404  # someone else's staff by URL: as if it did not exist
