"""Rewards acceptance (issue 4) over the API on SQLite and PostgreSQL: redeem, verify once,
refuse clearly, cancel with the same lots back, entitlements, budget and settlement."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.cli.demo_rewards import SUBSIDISED_50, Rewards
from civicpoints.kit.clock import BUSINESS_TZ, local_date, month_key, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import wallet_of
from civicpoints.ledger.models import Entry, Hold, Transfer
from civicpoints.ledger.service import LedgerService
from civicpoints.rewards.models import Booking, Item, Redemption, Voucher
from civicpoints.rewards.service import RedemptionService
from tests.integration.test_api import login, resident_headers
from tests.integration.test_holds import assert_verifies

CODE = re.compile(r"^[2-9A-HJKMNP-TV-Z]{4}(-[2-9A-HJKMNP-TV-Z]{4}){4}$")
API = "/api/v1"


def me(client: TestClient, headers: dict[str, str]) -> uuid.UUID:
    """The signed-in resident's id."""
    return uuid.UUID(client.get(f"{API}/me", headers=headers).json()["id"])


def balance(client: TestClient, headers: dict[str, str]) -> int:
    """The signed-in resident's points."""
    return int(client.get(f"{API}/me/points", headers=headers).json()["balance"])


def redeem(
    client: TestClient, headers: dict[str, str], item: Item, quantity: int = 1, key: str = ""
) -> Any:
    """POST /redemptions, with an Idempotency-Key when given."""
    extra = {"Idempotency-Key": key} if key else {}
    body = {"item_id": str(item.id), "quantity": quantity}
    return client.post(f"{API}/redemptions", json=body, headers=headers | extra)


def zhang(
    client: TestClient, city: City, fund: Callable[..., None], n: int = 1, points: int = 480
) -> dict[str, str]:
    """A verified resident holding `points` in lots of 40 expiring a week apart."""
    headers = resident_headers(client, city, n)
    resident = me(client, headers)
    for i in range(points // 40):
        fund(resident, 40, days=200 + 7 * i)
    return headers


def count(sessions: sessionmaker[Session], model: type) -> int:
    """Rows of a table."""
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def stock(sessions: sessionmaker[Session], item: Item) -> int:
    """What is left of an item."""
    with sessions() as s:
        row = s.get(Item, item.id)
        assert row is not None
        return row.stock_remaining


def test_zhang_redeems_the_subsidised_voucher_and_it_is_used_once(
    client: TestClient,
    city: City,
    rewards: Rewards,
    fund: Callable[..., None],
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    """480 points → the 50-yuan voucher: 0 left; 48 yuan of points + 2 yuan subsidy to Tmall."""
    headers = zhang(client, city, fund)
    item = rewards.items[SUBSIDISED_50]
    listed = client.get(f"{API}/rewards", params={"affordable": "true"}, headers=headers).json()
    assert SUBSIDISED_50 in {i["code"] for i in listed}
    assert "HEALTH-CHECK" not in {i["code"] for i in listed}
    first = redeem(client, headers, item, key="zhang-1")
    assert first.status_code == 201, first.text
    again = redeem(client, headers, item, key="zhang-1")
    assert again.json()["id"] == first.json()["id"]
    assert balance(client, headers) == 0
    voucher = first.json()["vouchers"][0]
    assert CODE.match(voucher["code"]) and voucher["status"] == "issued"
    until = datetime.fromisoformat(voucher["valid_until"]).astimezone(BUSINESS_TZ)
    assert (until.hour, until.minute) == (0, 0)  # through the whole last Beijing day
    assert until.date() == local_date(utcnow()) + timedelta(days=31)
    png = client.get(f"{API}/vouchers/{voucher['code']}/qr.png", headers=headers)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")

    clerk = login(client, "clerk")
    seen = client.get(f"{API}/vouchers/{voucher['code']}", headers=clerk).json()
    assert (seen["status"], seen["face_value_fen"]) == ("issued", 5000)
    assert (seen["item_name"], seen["merchant"]) == (item.name, "世纪联华超市（西湖店）")
    elsewhere = client.get(
        f"{API}/vouchers/{voucher['code']}", headers=login(client, "clerk_metro")
    )
    assert elsewhere.json()["code"] == "rewards.wrong_merchant"
    typed = voucher["code"].lower().replace("-", " ")  # read aloud, typed loosely
    used = client.post(f"{API}/vouchers/{typed}/verify", headers=clerk)
    assert used.status_code == 200, used.text
    assert used.json()["face_value_fen"] == 5000
    twice = client.post(f"{API}/vouchers/{voucher['code']}/verify", headers=clerk)
    assert twice.status_code == 409
    assert twice.json()["code"] == "rewards.voucher_used"
    assert "世纪联华超市（西湖店）" in twice.json()["messages"]["zh-CN"]

    admin = login(client, "admin")
    tmall = next(
        s
        for s in client.get(f"{API}/budget", headers=admin).json()["sponsors"]
        if s["code"] == "tmall"
    )
    assert (tmall["redeemed_fen"], tmall["points_value_fen"], tmall["subsidy_fen"]) == (
        5000,
        4800,
        200,
    )
    report = client.get(
        f"{API}/settlements", params={"month": month_key(utcnow())}, headers=admin
    ).json()
    (line,) = report["lines"]
    assert line["voucher_code"] == voucher["code"] and line["subsidy_fen"] == 200
    with sessions() as s:
        for key in ("hold_transfer_id", "post_transfer_id"):
            t = s.scalars(select(Transfer).where(Transfer.id == uuid.UUID(line[key]))).one()
            assert t.amount == 480
        entry = s.scalars(select(Entry).where(Entry.id == uuid.UUID(line["wallet_entry_id"]))).one()
        assert (entry.amount, entry.kind, entry.balance_after) == (-480, "hold", 0)
    assert_verifies(sessions, settings)


def test_a_500_point_item_is_refused_and_nothing_changes(
    client: TestClient,
    city: City,
    rewards: Rewards,
    fund: Callable[..., None],
    sessions: sessionmaker[Session],
) -> None:
    """积分不足 / insufficient points: 480 available, 500 needed — no hold, stock as it was."""
    headers = zhang(client, city, fund)
    item = rewards.items["HEALTH-CHECK"]
    before = stock(sessions, item)
    r = redeem(client, headers, item, key="k500")
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["title"] == "积分不足"
    assert body["detail"] == "积分不足：可用 480 分，需要 500 分"
    assert body["messages"]["en"] == "insufficient points: 480 available, 500 needed"
    assert balance(client, headers) == 480
    assert stock(sessions, item) == before
    assert count(sessions, Hold) == 0


def test_bad_input_is_refused_naming_the_reason_and_nothing_is_held(
    client: TestClient,
    city: City,
    rewards: Rewards,
    fund: Callable[..., None],
    sessions: sessionmaker[Session],
) -> None:
    """Zero/negative quantity, unknown item, region, age, limit, low income, unverified."""
    headers = zhang(client, city, fund, points=2000)
    items = rewards.items
    cases = [
        (items["SM-10"], 0, 422, "rewards.invalid_quantity", "quantity"),
        (items["SM-10"], -3, 422, "rewards.invalid_quantity", "quantity"),
        (items["FARM-SEEDS"], 1, 403, "rewards.outside_region", "item_id"),
        (items["SKILLS-COURSE"], 1, 403, "rewards.age_out_of_range", "item_id"),
        (items["RICE-OIL"], 1, 403, "rewards.low_income_only", "item_id"),
        (items["SM-10"], 6, 422, "rewards.invalid_quantity", "quantity"),
        (items["SM-10"], 10**30, 422, "rewards.invalid_quantity", "quantity"),
    ]
    for item, quantity, status, code, field in cases:
        r = redeem(client, headers, item, quantity)
        assert (r.status_code, r.json()["code"], r.json()["field"]) == (status, code, field)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["messages"]["en"] and r.json()["messages"]["zh-CN"]
        assert r.json()["detail"] == r.json()["messages"]["zh-CN"]
    too_old = redeem(client, headers, items["SKILLS-COURSE"]).json()
    assert (too_old["title"], too_old["detail"]) == (
        "不符合兑换条件",
        "该兑换品限 16–60 岁居民，您现年 68 岁",
    )
    unknown = client.post(
        f"{API}/redemptions", json={"item_id": str(uuid.uuid4())}, headers=headers
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "rewards.item_not_found")
    assert count(sessions, Hold) == 0 and count(sessions, Redemption) == 0
    assert all(stock(sessions, item) == item.stock_total for item, *_ in cases)
    assert redeem(client, headers, items[SUBSIDISED_50]).status_code == 201
    over = redeem(client, headers, items[SUBSIDISED_50])
    assert (over.status_code, over.json()["code"]) == (409, "rewards.limit_reached")
    assert over.json()["detail"] == "每人每月限兑 1 份，您本月已兑 1 份"
    assert over.json()["messages"]["en"].endswith("per month; you already have 1 this month")
    assert count(sessions, Hold) == 1
    stranger = resident_headers(client, city, 2, verify=False)
    r = redeem(client, stranger, items["SM-10"])
    assert (r.status_code, r.json()["code"]) == (403, "rewards.unverified")
    assert "实名认证" in r.json()["detail"]
    assert count(sessions, Hold) == 1
    assert balance(client, headers) == 2000 - 480


def test_wrong_merchant_cancelled_and_expired_vouchers_change_nothing(
    client: TestClient,
    city: City,
    rewards: Rewards,
    fund: Callable[..., None],
    sessions: sessionmaker[Session],
    ctx: Context,
    settings: Settings,
) -> None:
    """Another shop's clerk, a cancelled or an expired voucher: a clear error, no change."""
    headers = zhang(client, city, fund, points=400)
    resident = me(client, headers)
    with sessions() as s:
        lots_before = [
            (x.remaining, x.expires_at) for x in LedgerService(s).lots(wallet_of(resident))
        ]
    item = rewards.items["SM-10"]
    kept = redeem(client, headers, item, quantity=2).json()
    cancelled = redeem(client, headers, item).json()
    assert balance(client, headers) == 100
    metro = login(client, "clerk_metro")
    code = kept["vouchers"][0]["code"]
    wrong = client.post(f"{API}/vouchers/{code}/verify", headers=metro)
    assert (wrong.status_code, wrong.json()["code"]) == (403, "rewards.wrong_merchant")
    assert "世纪联华" in wrong.json()["detail"]

    back = client.post(f"{API}/redemptions/{cancelled['id']}/cancel", headers=headers)
    assert back.status_code == 200 and back.json()["status"] == "cancelled"
    assert balance(client, headers) == 200
    clerk = login(client, "clerk")
    code = cancelled["vouchers"][0]["code"]
    r = client.post(f"{API}/vouchers/{code}/verify", headers=clerk)
    assert (r.status_code, r.json()["code"]) == (409, "rewards.voucher_cancelled")
    again = client.post(f"{API}/redemptions/{cancelled['id']}/cancel", headers=headers)
    assert (again.status_code, again.json()["code"]) == (409, "rewards.not_cancellable")
    assert again.json()["detail"] == "该兑换已取消，没有可以取消的兑换券"

    with transaction(sessions) as s:  # a month later the expiry job refunds the unused pair
        assert RedemptionService(s, ctx).expire_vouchers(utcnow() + timedelta(days=31)) == 2
    for v in kept["vouchers"]:
        r = client.post(f"{API}/vouchers/{v['code']}/verify", headers=clerk)
        assert (r.status_code, r.json()["code"]) == (409, "rewards.voucher_expired")
    assert balance(client, headers) == 400
    with sessions() as s:
        lots_after = [
            (x.remaining, x.expires_at) for x in LedgerService(s).lots(wallet_of(resident))
        ]
        assert {v.status for v in s.scalars(select(Voucher))} == {"cancelled", "expired"}
    assert lots_after == lots_before  # the same lots, with their original expiry
    assert stock(sessions, item) == 5000
    assert_verifies(sessions, settings)


def test_a_voucher_past_its_validity_is_refused_before_the_job_runs(
    client: TestClient,
    city: City,
    rewards: Rewards,
    fund: Callable[..., None],
    sessions: sessionmaker[Session],
    ctx: Context,
) -> None:
    """Expired but not yet refunded: verification refuses it and leaves the hold pending."""
    headers = zhang(client, city, fund, points=200)
    code = redeem(client, headers, rewards.items["SM-10"]).json()["vouchers"][0]["code"]
    ended = utcnow() - timedelta(minutes=1)
    with transaction(sessions) as s:
        s.execute(update(Voucher).where(Voucher.code == code).values(valid_until=ended))
    r = client.post(f"{API}/vouchers/{code}/verify", headers=login(client, "clerk"))
    assert (r.status_code, r.json()["code"]) == (409, "rewards.voucher_expired")
    last_day = local_date(ended - timedelta(microseconds=1))
    assert r.json()["detail"] == f"该兑换券有效期至 {last_day}，已过期，不能使用"
    with sessions() as s:
        assert [h.status for h in s.scalars(select(Hold))] == ["pending"]
        assert s.scalars(select(Voucher.status)).all() == ["issued"]
    assert count(sessions, Booking) == 0 and balance(client, headers) == 100
    with transaction(sessions) as s:
        assert RedemptionService(s, ctx).expire_vouchers(utcnow()) == 1
    assert balance(client, headers) == 200


def test_entitlement_is_decided_by_its_department_with_a_reason(
    client: TestClient,
    city: City,
    rewards: Rewards,
    fund: Callable[..., None],
) -> None:
    """子女入学优先审核: the Education Bureau denies (points back) or approves (posted)."""
    headers = zhang(client, city, fund, points=1000)
    item = rewards.items["EDU-PRIORITY"]
    first = redeem(client, headers, item).json()
    assert first["status"] == "pending" and first["vouchers"] == []
    assert balance(client, headers) == 500
    decision = {
        "decision": "reject",
        "reason": "学区名额已满 / no places left in the school district",
    }
    path = f"{API}/redemptions/{first['id']}/decision"
    queue = client.get(f"{API}/applications", headers=login(client, "edu_reviewer")).json()
    assert [a["id"] for a in queue] == [first["id"]]
    assert client.get(f"{API}/applications", headers=login(client, "mz_reviewer")).json() == []
    assert client.post(path, json=decision, headers=login(client, "mz_reviewer")).status_code == 403
    denied = client.post(path, json=decision, headers=login(client, "edu_reviewer"))
    assert denied.status_code == 200 and denied.json()["status"] == "denied"
    seen = client.get(f"{API}/redemptions/{first['id']}", headers=headers).json()
    assert seen["decision_reason"] == decision["reason"]
    assert balance(client, headers) == 1000
    second = redeem(client, headers, item).json()
    admin = login(client, "admin")  # a later change of face value is not what was promised
    changed = client.patch(f"{API}/rewards/{item.id}", json={"face_value_fen": 9000}, headers=admin)
    assert changed.status_code == 200
    approve = {"decision": "approve", "reason": "符合条件 / eligible"}
    path = f"{API}/redemptions/{second['id']}/decision"
    approved = client.post(path, json=approve, headers=login(client, "edu_reviewer"))
    assert approved.json()["status"] == "approved"
    assert balance(client, headers) == 500
    budget = client.get(f"{API}/budget", headers=admin).json()["sponsors"]
    city_fund = next(x for x in budget if x["code"] == "city-fund")
    booked = (city_fund["redeemed_fen"], city_fund["points_value_fen"], city_fund["subsidy_fen"])
    assert booked == (5000, 5000, 0)
    late = client.post(path, json=approve, headers=login(client, "edu_reviewer"))
    assert (late.status_code, late.json()["code"]) == (409, "rewards.not_pending")


def test_residents_browse_by_category_affordability_and_region(
    client: TestClient, city: City, rewards: Rewards, fund: Callable[..., None]
) -> None:
    """A resident sees items open to their community; staff may ask for another region."""
    headers = zhang(client, city, fund, points=120)

    def codes(who: dict[str, str], **params: str) -> set[str]:
        return {i["code"] for i in client.get(f"{API}/rewards", params=params, headers=who).json()}

    everything = codes(headers)
    assert "FARM-SEEDS" not in everything and {"SM-10", "TRANSIT-MONTH"} <= everything
    for item in rewards.items.values():  # every demo item's picture is served
        picture = client.get(item.image_url)
        assert (picture.status_code, picture.headers["content-type"]) == (200, "image/png")
    assert codes(headers, category="transit_pass") == {"TRANSIT-MONTH"}
    assert codes(headers, affordable="true") == {"SM-10", "COMMUNITY-FUND"}
    pages, cursor = [], None  # page by page: an item of another region leaves no gap
    while page := client.get(
        f"{API}/rewards",
        params={"limit": 1} | ({"cursor": cursor} if cursor else {}),
        headers=headers,
    ).json():
        pages.append(page[0]["code"])
        cursor = page[0]["id"]
    assert len(pages) == len(everything) and set(pages) == everything
    rural = codes(login(client, "admin"), region_id=str(city.streets[-1].id))
    assert "FARM-SEEDS" in rural
    bad = client.get(f"{API}/rewards", params={"category": "yacht"}, headers=headers)
    assert (bad.status_code, bad.json()["field"]) == (422, "query.category")


def test_same_key_different_request_is_409(
    client: TestClient, city: City, rewards: Rewards, fund: Callable[..., None]
) -> None:
    """An Idempotency-Key reused for another item is refused."""
    headers = zhang(client, city, fund)
    assert redeem(client, headers, rewards.items["SM-10"], key="k").status_code == 201
    r = redeem(client, headers, rewards.items["HONOUR-CERT"], key="k")
    assert (r.status_code, r.json()["code"]) == (409, "idempotency.conflict")
    assert balance(client, headers) == 380


def test_admin_manages_the_catalog_and_residents_cannot(
    client: TestClient, city: City, rewards: Rewards
) -> None:
    """Create, change stock, withdraw; a resident gets 403, a bad definition 422."""
    admin = login(client, "admin")
    now = utcnow()
    body = {
        "code": "NEW-1",
        "name": "新兑换品",
        "name_en": "New item",
        "category": "scenic_ticket",
        "price_points": 300,
        "face_value_fen": 3000,
        "sponsor": "city-fund",
        "merchant": "lingyin",
        "stock_total": 10,
        "valid_from": _iso(now - timedelta(days=1)),
        "valid_until": _iso(now + timedelta(days=30)),
    }
    made = client.post(f"{API}/rewards", json=body, headers=admin)
    assert made.status_code == 201, made.text
    path = f"{API}/rewards/{made.json()['id']}"
    assert (
        client.patch(path, json={"stock_total": 15}, headers=admin).json()["stock_remaining"] == 15
    )
    assert client.patch(path, json={"active": False}, headers=admin).json()["active"] is False
    assert client.patch(path, json={"active": True}, headers=admin).json()["active"] is True
    assert client.delete(path, headers=admin).json()["active"] is False
    codes = {i["code"] for i in client.get(f"{API}/rewards", headers=admin).json()}
    assert "NEW-1" not in codes and "SM-10" in codes
    bad = client.post(
        f"{API}/rewards", json=body | {"code": "NEW-2", "merchant": None}, headers=admin
    )
    assert (bad.status_code, bad.json()["field"]) == (422, "merchant")
    again = client.post(f"{API}/rewards", json=body, headers=admin)
    assert (again.status_code, again.json()["code"]) == (409, "rewards.duplicate_code")
    sponsor = {
        "code": "city-fund",
        "name": "x",
        "name_en": "x",
        "kind": "government",
        "budget_fen": 1,
    }
    assert client.post(f"{API}/sponsors", json=sponsor, headers=admin).status_code == 409
    shop = {"code": "lingyin", "name": "x", "name_en": "x"}
    assert client.post(f"{API}/merchants", json=shop, headers=admin).status_code == 409
    resident = resident_headers(client, city, 3)
    assert client.post(f"{API}/rewards", json=body, headers=resident).status_code == 403


def _iso(value: datetime) -> str:
    """ISO 8601 text."""
    return value.isoformat()
