"""积分捐赠 acceptance (issue 11 item 1) over the API on SQLite and PostgreSQL: a resident gives
to their community's 爱心积分池, civil-affairs staff allocate it to a low-income resident,
points keep their expiry all the way; bad input is a clear 4xx with nothing written; the
ledger verifies after each step."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.community.donation_models import Allocation, Donation, DonationSettingRow
from civicpoints.kit.clock import as_utc
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import LedgerService, pool_of, wallet_of
from tests.integration.test_api import login, resident_headers
from tests.integration.test_carry import Verifies
from tests.integration.test_rewards import balance, me

API = "/api/v1"


def rows(sessions: sessionmaker[Session], model: type) -> int:
    """Rows of a table."""
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def donate(
    client: TestClient, headers: dict[str, str], community: uuid.UUID, amount: int, **more: object
) -> httpx.Response:
    """POST /me/donations."""
    body = {"community_id": str(community), "amount": amount, **more}
    return client.post(f"{API}/me/donations", json=body, headers=headers)


def lives(sessions: sessionmaker[Session], owner: str) -> list[tuple[int, object]]:
    """(points, expires_at) of an owner's lots with points, earliest first."""
    with sessions() as s:
        return [(x.remaining, as_utc(x.expires_at)) for x in LedgerService(s).lots(owner)
                if x.remaining]  # fmt: skip


def test_a_donation_reaches_a_low_income_family_with_its_expiry(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    settings: Settings,
    fund: Callable[..., None],
) -> None:
    """Zhang gives 500 (limit 500 a month), the 民政专干 gives 60 to a low-income resident: the
    20-day lot first, with its date; the 爱心榜 shows 张** 500 and never the recipient."""
    verifies = Verifies(sessions, settings)
    home = city.communities[0].id
    zhang = resident_headers(client, city, 1)
    zhang_id = me(client, zhang)
    fund(zhang_id, 40, days=20)
    fund(zhang_id, 660, days=300)
    before = dict((p, e) for p, e in lives(sessions, wallet_of(zhang_id)))
    first = donate(client, zhang, home, 100, show_on_board=True)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["thanks"].startswith("感谢") and body["month"]
    verifies()  # the sequencer has logged the entry: its receipt can be served
    receipt = client.get(body["receipt_url"], headers=zhang)
    assert receipt.status_code == 200 and receipt.json()
    assert balance(client, zhang) == 600
    assert lives(sessions, pool_of(home)) == [(40, before[40]), (60, before[660])]
    verifies()

    assert donate(client, zhang, home, 400).status_code == 201  # 500 this month: the limit
    over = donate(client, zhang, home, 1)
    assert over.status_code == 422 and over.json()["code"] == "community.donation_limit"
    assert rows(sessions, Donation) == 2 and balance(client, zhang) == 200

    wang = resident_headers(client, city, 2)
    wang_id = me(client, wang)
    civil = login(client, "civil")
    marked = client.put(f"{API}/residents/{wang_id}/low-income",
                        json={"active": True, "reason": "低保户 2026"}, headers=civil)  # fmt: skip
    assert marked.status_code == 200, marked.text
    pool = client.get(f"{API}/communities/{home}/pool", headers=civil).json()
    assert pool["balance"] == 500 and pool["expiring_within_30_days"] == 40
    assert pool["lots"][0] == {"points": 40, "expires_at": pool["lots"][0]["expires_at"],
                               "within_30_days": True}  # fmt: skip
    assert pool["low_income_residents"] == [str(wang_id)]
    given = client.post(f"{API}/communities/{home}/pool/allocations",
                        json={"resident_id": str(wang_id), "amount": 60, "reason": "冬季帮扶"},
                        headers=civil | {"Idempotency-Key": "winter-1"})  # fmt: skip
    assert given.status_code == 201, given.text
    assert lives(sessions, wallet_of(wang_id)) == [(40, before[40]), (20, before[660])]
    assert balance(client, wang) == 60
    again = client.post(f"{API}/communities/{home}/pool/allocations",
                        json={"resident_id": str(wang_id), "amount": 60, "reason": "冬季帮扶"},
                        headers=civil | {"Idempotency-Key": "winter-1"})  # fmt: skip
    assert again.json()["id"] == given.json()["id"] and balance(client, wang) == 60
    verifies()

    board = client.get(f"{API}/communities/{home}/board", headers=wang).json()
    assert board == [{"name": "张**", "total": 500}]
    assert client.get(f"{API}/me/donations", headers=zhang).json()[0]["amount"] == 400


def test_bad_donations_are_clear_4xx_and_write_nothing(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    settings: Settings,
    fund: Callable[..., None],
) -> None:
    """More than the balance (409), another community's pool (403), over a region's own
    monthly limit (422), zero or true as an amount (422): no donation, no ledger movement."""
    home, other = city.communities[0].id, city.communities[1].id
    zhang = resident_headers(client, city, 1)
    zhang_id = me(client, zhang)
    fund(zhang_id, 80)
    with transaction(sessions) as s:  # this community's own limit: 50 a month
        s.add(DonationSettingRow(region_id=home, effective_from=date.today() - timedelta(days=1),
                                 monthly_donation_limit=50, savings_months=24, savings_cap=5000,
                                 created_by=uuid.uuid4()))  # fmt: skip
    cases = [
        (donate(client, zhang, home, 90), 409, "ledger.insufficient_points"),
        (donate(client, zhang, other, 10), 403, "community.not_your_community"),
        (donate(client, zhang, home, 60), 422, "community.donation_limit"),
        (donate(client, zhang, home, 0), 422, None),
        (donate(client, zhang, home, True), 422, None),
    ]
    for answer, status, code in cases:
        assert answer.status_code == status, answer.text
        if code:
            assert answer.json()["code"] == code
    assert rows(sessions, Donation) == 0 and balance(client, zhang) == 80
    assert lives(sessions, pool_of(home)) == [] and lives(sessions, pool_of(other)) == []
    Verifies(sessions, settings)()


def test_only_the_communitys_civil_affairs_staff_allocate_and_only_to_low_income(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    settings: Settings,
    fund: Callable[..., None],
) -> None:
    """Another community's 民政 and an organizer: 403; a resident not marked: 422; more than
    the pool: 409; nothing written."""
    home = city.communities[0].id
    zhang = resident_headers(client, city, 1)
    fund(me(client, zhang), 100)
    assert donate(client, zhang, home, 30).status_code == 201
    wang_id = me(client, resident_headers(client, city, 2))
    civil = login(client, "civil")
    path = f"{API}/communities/{home}/pool/allocations"
    body = {"resident_id": str(wang_id), "amount": 10, "reason": "帮扶"}
    for user in ("civil_other", "organizer"):
        h = login(client, user)
        assert client.post(path, json=body, headers=h).status_code == 403
        assert client.get(f"{API}/communities/{home}/pool", headers=h).status_code == 403
        mark = client.put(f"{API}/residents/{wang_id}/low-income",
                          json={"active": True, "reason": "x"}, headers=h)  # fmt: skip
        assert mark.status_code == 403
    refused = client.post(path, json=body, headers=civil)
    assert refused.status_code == 422 and refused.json()["code"] == "community.not_low_income"
    client.put(f"{API}/residents/{wang_id}/low-income", json={"active": True, "reason": "低保"},
               headers=civil)  # fmt: skip
    too_much = client.post(path, json=body | {"amount": 31}, headers=civil)
    assert too_much.status_code == 409
    assert rows(sessions, Allocation) == 0
    client.put(f"{API}/residents/{wang_id}/low-income", json={"active": False, "reason": "脱困"},
               headers=civil)  # fmt: skip
    assert client.post(path, json=body, headers=civil).status_code == 422
    Verifies(sessions, settings)()


def test_the_most_specific_regions_setting_wins(
    client: TestClient, city: City, sessions: sessionmaker[Session], fund: Callable[..., None]
) -> None:
    """A community's own monthly limit beats the city's and the city-wide one even when theirs
    are newer: the most specific region wins, then the latest start (as for rule sets)."""
    home = city.communities[0].id
    yesterday, last_week = date.today() - timedelta(days=1), date.today() - timedelta(days=7)
    with transaction(sessions) as s:
        versions = [(None, yesterday, 800), (city.city.id, yesterday, 700), (home, last_week, 60),
                    (home, yesterday - timedelta(days=2), 40)]  # fmt: skip
        for region, start, limit in versions:
            s.add(DonationSettingRow(region_id=region, effective_from=start,
                                     monthly_donation_limit=limit, savings_months=24,
                                     savings_cap=5000, created_by=uuid.uuid4()))  # fmt: skip
    zhang = resident_headers(client, city, 1)
    fund(me(client, zhang), 100)
    over = donate(client, zhang, home, 41)
    assert over.status_code == 422 and over.json()["code"] == "community.donation_limit", over.text
    assert donate(client, zhang, home, 40).status_code == 201
