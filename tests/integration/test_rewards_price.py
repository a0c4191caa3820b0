"""An item priced above its face value would book a negative subsidy (issue 8, item 12): it is
refused on create and update with a 422 naming the field, nothing written (the CLI import:
test_rewards_cli.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.cli.demo_rewards import Rewards
from civicpoints.kit.clock import utcnow
from civicpoints.rewards.models import Item, Sponsor, Valuation
from tests.integration.test_api import login
from tests.integration.test_rewards import API, _iso

OVER_ZH = "兑换品设置有误：600 积分按每分 0.10 元折合 60.00 元，高于面值 50.00 元，补贴将为负数"
OVER_EN = (
    "invalid item: 600 points at 0.10 yuan each are worth 60.00 yuan, above the face value "
    "of 50.00 yuan: the subsidy would be negative"
)


def item_body(code: str, price: int, face_fen: int, **other: Any) -> dict[str, Any]:
    """A voucher item at the Lianhua store, open for 30 days (`other` fields override)."""
    now = utcnow()
    return {
        "code": code,
        "name": "茶礼盒",
        "name_en": "Tea box",
        "category": "supermarket_voucher",
        "price_points": price,
        "face_value_fen": face_fen,
        "sponsor": "city-fund",
        "merchant": "lianhua-xihu",
        "stock_total": 10,
        "valid_from": _iso(now - timedelta(days=1)),
        "valid_until": _iso(now + timedelta(days=30)),
    } | other


def refused(r: Any, field: str) -> dict[str, Any]:
    """A 422 problem+json naming `field`, in both languages."""
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert (body["code"], body["field"]) == ("rewards.invalid_item", field)
    assert body["detail"] == body["messages"]["zh-CN"] and body["messages"]["en"]
    return body


def test_create_and_update_refuse_a_price_above_face_value(
    client: TestClient, city: City, rewards: Rewards, sessions: sessionmaker[Session]
) -> None:
    """600 points = 60 yuan for a 50-yuan voucher: refused; exactly 50 yuan is fine."""
    admin = login(client, "admin")
    over = client.post(f"{API}/rewards", json=item_body("TEA-X", 600, 5000), headers=admin)
    body = refused(over, "price_points")
    assert (body["detail"], body["messages"]["en"]) == (OVER_ZH, OVER_EN)
    with sessions() as s:
        assert s.scalars(select(Item).where(Item.code == "TEA-X")).first() is None
    made = client.post(f"{API}/rewards", json=item_body("TEA-X", 500, 5000), headers=admin)
    assert made.status_code == 201, made.text
    path = f"{API}/rewards/{made.json()['id']}"
    refused(client.patch(path, json={"price_points": 501}, headers=admin), "price_points")
    refused(client.patch(path, json={"face_value_fen": 4999}, headers=admin), "face_value_fen")
    both = {"price_points": 700, "face_value_fen": 6000}
    refused(client.patch(path, json=both, headers=admin), "price_points")
    after = client.get(f"{API}/rewards/{made.json()['id']}", headers=admin).json()
    assert (after["price_points"], after["face_value_fen"]) == (500, 5000)
    fine = client.patch(path, json={"price_points": 700, "face_value_fen": 7000}, headers=admin)
    assert fine.status_code == 200 and fine.json()["price_points"] == 700


def test_true_false_and_month_zero_are_refused_with_nothing_written(
    client: TestClient, city: City, rewards: Rewards, sessions: sessionmaker[Session]
) -> None:
    """Found by schemathesis: `false` was read as 0 fen, and month 0000-00 passed the spec."""
    admin = login(client, "admin")
    with sessions() as s:
        valuations = len(s.scalars(select(Valuation)).all())
    sponsor = {"code": "x", "name": "x", "name_en": "x", "kind": "government", "budget_fen": False}
    valuation = {"fen_per_point": True, "effective_from": _iso(utcnow())}
    refusals = [
        client.post(f"{API}/sponsors", json=sponsor, headers=admin),
        client.post(f"{API}/valuations", json=valuation, headers=admin),
        client.post(f"{API}/rewards", json=item_body("TEA-B", True, 5000), headers=admin),
        client.get(f"{API}/settlements", params={"month": "0000-00"}, headers=admin),
        client.get(f"{API}/settlements/export", params={"month": "2026-13"}, headers=admin),
    ]
    assert [(r.status_code, r.headers["content-type"]) for r in refusals] == [
        (422, "application/problem+json")
    ] * 5
    with sessions() as s:
        assert s.scalars(select(Item).where(Item.code == "TEA-B")).first() is None
        assert s.scalars(select(Sponsor).where(Sponsor.code == "x")).first() is None
        assert len(s.scalars(select(Valuation)).all()) == valuations
