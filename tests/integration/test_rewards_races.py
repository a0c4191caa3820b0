"""Real concurrent redemptions on PostgreSQL: stock never oversold, points never overspent."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.cli.demo_rewards import Rewards
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import wallet_of
from civicpoints.ledger.errors import InsufficientPoints
from civicpoints.ledger.models import Account, Lot
from civicpoints.ledger.service import LedgerService
from civicpoints.rewards.catalog import CatalogService
from civicpoints.rewards.errors import (
    LimitReached,
    NotCancellable,
    OutOfStock,
    VoucherCancelled,
    VoucherUsed,
)
from civicpoints.rewards.models import Booking, Item, Voucher
from civicpoints.rewards.schemas import ItemCreate
from civicpoints.rewards.service import RedemptionService
from civicpoints.rewards.vouchers import VoucherService
from tests.integration.test_api import login, resident_headers
from tests.integration.test_concurrency import race
from tests.integration.test_holds import assert_verifies

API = "/api/v1"
pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def add_item(sessions: sessionmaker[Session], price: int, stock: int, limit: int) -> uuid.UUID:
    """A supermarket voucher item with the given price, stock and per-resident limit."""
    now = utcnow()
    data = ItemCreate(
        code=f"RACE-{price}-{stock}",
        name="抢兑券",
        name_en="Race voucher",
        category="supermarket_voucher",
        price_points=price,
        face_value_fen=price * 10,
        sponsor="city-fund",
        merchant="lianhua-xihu",
        stock_total=stock,
        limit_per_period=limit,
        period="ever",
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=30),
    )
    with transaction(sessions) as s:
        return CatalogService(s).create_item(data).id


def redeem_in_own_transaction(
    sessions: sessionmaker[Session], ctx: Context, resident: uuid.UUID, item: uuid.UUID, key: str
) -> uuid.UUID:
    """One redemption on its own connection, committed."""
    with transaction(sessions) as s:
        return RedemptionService(s, ctx).redeem(resident, item, 1, key).id


def winners(results: list[object], refusal: type[Exception]) -> int:
    """How many redemptions went through; every other one must have failed with `refusal`."""
    lost = [r for r in results if not isinstance(r, uuid.UUID)]
    assert all(isinstance(e, refusal) for e in lost), lost
    return len(results) - len(lost)


def assert_nothing_negative(sessions: sessionmaker[Session]) -> None:
    """No wallet, lot or stock below zero."""
    with sessions() as s:
        wallets = s.scalars(select(Account.balance).where(Account.kind == "wallet")).all()
        assert min(wallets) >= 0
        assert min(s.scalars(select(Lot.remaining)).all()) >= 0
        assert min(s.scalars(select(Item.stock_remaining)).all()) >= 0


def test_fifty_residents_race_for_ten_in_stock(
    sessions: sessionmaker[Session],
    ctx: Context,
    settings: Settings,
    city: City,
    rewards: Rewards,
    make_resident: Callable,
    fund: Callable[..., None],
) -> None:
    """Exactly 10 of 50 succeed; the other 40 are told it is out of stock."""
    item = add_item(sessions, price=100, stock=10, limit=1)
    residents = [make_resident(phone=f"1370000{i:04d}").id for i in range(50)]
    for r in residents:
        fund(r, 100)
    results = race(50, lambda i: redeem_in_own_transaction(sessions, ctx, residents[i], item, "k"))
    assert winners(results, OutOfStock) == 10
    lost = next(r for r in results if isinstance(r, OutOfStock))
    assert lost.message() == "该兑换品已兑完或数量不够（剩余 0 份），请选择其他兑换品"
    with sessions() as s:
        row = s.get(Item, item)
        assert row is not None and row.stock_remaining == 0
        ledger = LedgerService(s)
        assert sorted(ledger.balance(wallet_of(r)) for r in residents) == [0] * 10 + [100] * 40
    assert_nothing_negative(sessions)
    assert_verifies(sessions, settings)


def test_one_resident_fires_ten_redemptions_with_points_for_five(
    sessions: sessionmaker[Session],
    ctx: Context,
    settings: Settings,
    city: City,
    rewards: Rewards,
    make_resident: Callable,
    fund: Callable[..., None],
) -> None:
    """100 points, 10 parallel 20-point redemptions: exactly 5 succeed, the wallet ends at 0."""
    item = add_item(sessions, price=20, stock=100, limit=100)
    resident = make_resident().id
    fund(resident, 60, days=100)
    fund(resident, 40, days=300)
    results = race(10, lambda i: redeem_in_own_transaction(sessions, ctx, resident, item, f"k{i}"))
    assert winners(results, InsufficientPoints) == 5
    with sessions() as s:
        assert LedgerService(s).balance(wallet_of(resident)) == 0
        row = s.get(Item, item)
        assert row is not None and row.stock_remaining == 95
    assert_nothing_negative(sessions)
    assert_verifies(sessions, settings)


def test_one_key_fired_five_times_at_once_redeems_once(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    rewards: Rewards,
    make_resident: Callable,
    fund: Callable[..., None],
) -> None:
    """A client retrying in parallel with one Idempotency-Key gets one redemption, five times."""
    item = add_item(sessions, price=20, stock=100, limit=100)
    resident = make_resident().id
    fund(resident, 100)
    results = race(5, lambda i: redeem_in_own_transaction(sessions, ctx, resident, item, "same"))
    assert winners(results, Exception) == 5 and len(set(results)) == 1
    with sessions() as s:
        assert LedgerService(s).balance(wallet_of(resident)) == 80


def test_one_key_fired_at_once_over_http_gets_the_first_answer(
    client: TestClient,
    sessions: sessionmaker[Session],
    city: City,
    rewards: Rewards,
    fund: Callable[..., None],
) -> None:
    """Twin HTTP requests with one Idempotency-Key: one redemption and one verification, no 5xx.

    The loser waits for the winner's commit and replays its response (the key's record is
    claimed before the work, so the twin never reaches the unique index with its own answer).
    """
    headers = resident_headers(client, city)
    resident = uuid.UUID(client.get(f"{API}/me", headers=headers).json()["id"])
    fund(resident, 100)
    body = {"item_id": str(rewards.items["SM-10"].id), "quantity": 1}
    twins = headers | {"Idempotency-Key": "twin-redeem"}
    answers = race(6, lambda i: client.post(f"{API}/redemptions", json=body, headers=twins))
    assert [r.status_code for r in answers] == [201] * 6, [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == 5
    code = answers[0].json()["vouchers"][0]["code"]
    clerk = login(client, "clerk") | {"Idempotency-Key": "twin-verify"}
    used = race(4, lambda i: client.post(f"{API}/vouchers/{code}/verify", headers=clerk))
    assert [r.status_code for r in used] == [200] * 4, [r.text for r in used]
    assert len({r.json()["used_at"] for r in used}) == 1
    with sessions() as s:
        assert LedgerService(s).balance(wallet_of(resident)) == 0
        assert s.scalar(select(func.count()).select_from(Voucher)) == 1


def test_the_per_resident_limit_holds_under_parallel_redemptions(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    rewards: Rewards,
    make_resident: Callable,
    fund: Callable[..., None],
) -> None:
    """Limit one per resident, five parallel tries with different keys: one voucher."""
    item = add_item(sessions, price=20, stock=100, limit=1)
    resident = make_resident().id
    fund(resident, 100)
    results = race(5, lambda i: redeem_in_own_transaction(sessions, ctx, resident, item, f"l{i}"))
    assert winners(results, LimitReached) == 1
    with sessions() as s:
        assert LedgerService(s).balance(wallet_of(resident)) == 80


def test_a_voucher_is_used_once_when_clerks_and_its_owner_race(
    sessions: sessionmaker[Session],
    ctx: Context,
    settings: Settings,
    city: City,
    rewards: Rewards,
    make_resident: Callable,
    fund: Callable[..., None],
) -> None:
    """Four verifications and a cancellation at once: exactly one of them happens."""
    item = add_item(sessions, price=20, stock=100, limit=10)
    resident = make_resident().id
    fund(resident, 100)
    redemption = redeem_in_own_transaction(sessions, ctx, resident, item, "v")
    with sessions() as s:
        code = s.scalars(select(Voucher.code).where(Voucher.redemption_id == redemption)).one()
    clerk = city.staff["clerk"].id

    def attempt(i: int) -> uuid.UUID:
        with transaction(sessions) as s:
            if i == 4:
                return RedemptionService(s, ctx).cancel(resident, redemption).id
            return VoucherService(s, ctx).verify(code, clerk)[0].id

    results = race(5, attempt)
    done = [r for r in results if isinstance(r, uuid.UUID)]
    refused = [r for r in results if not isinstance(r, uuid.UUID)]
    assert len(done) == 1, results
    assert all(isinstance(e, VoucherUsed | VoucherCancelled | NotCancellable) for e in refused)
    with sessions() as s:
        voucher = s.scalars(select(Voucher).where(Voucher.code == code)).one()
        bookings = s.scalar(select(func.count()).select_from(Booking))
        balance = LedgerService(s).balance(wallet_of(resident))
    assert (voucher.status, bookings, balance) in {("used", 1, 80), ("cancelled", 0, 100)}
    assert_nothing_negative(sessions)
    assert_verifies(sessions, settings)
