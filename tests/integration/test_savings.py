"""积分银行 acceptance (issue 11 item 4) over the API on SQLite and PostgreSQL: saved points last
24 months from when they were earned, up to the cap; taken back they keep the longer date;
over the cap and more than held are clear 4xx with nothing written; the ledger verifies."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.community.donation_models import DonationSettingRow
from civicpoints.kit.clock import as_utc, expiry_instant
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import LedgerService, savings_of, wallet_of
from tests.integration.test_api import resident_headers
from tests.integration.test_carry import Verifies
from tests.integration.test_rewards import balance, me

API = "/api/v1"


def test_saved_points_last_24_months_from_earning_and_keep_it_when_taken_back(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    settings: Settings,
    fund: Callable[..., None],
) -> None:
    """Save 300 of 400; they end 24 months after earning; take 100 back: same date; a cap of
    500 (this community's setting) refuses 250 more; more than held is 409."""
    verifies = Verifies(sessions, settings)
    zhang = resident_headers(client, city, 1)
    zhang_id = me(client, zhang)
    fund(zhang_id, 400, days=365)
    with sessions() as s:
        earned = LedgerService(s).lots(wallet_of(zhang_id))[0].earned_at
    longer = expiry_instant(as_utc(earned), 24)
    saved = client.post(f"{API}/me/savings", json={"amount": 300}, headers=zhang)
    assert saved.status_code == 201, saved.text
    body = saved.json()
    assert body["balance"] == 300 and body["cap"] == 5000 and body["months"] == 24
    assert [x["points"] for x in body["lots"]] == [300]
    with sessions() as s:
        lots = LedgerService(s).lots(savings_of(zhang_id))
        assert [(x.remaining, as_utc(x.expires_at)) for x in lots] == [(300, longer)]
    assert balance(client, zhang) == 100
    verifies()

    back = client.post(f"{API}/me/savings/withdrawals", json={"amount": 100}, headers=zhang)
    assert back.status_code == 201, back.text
    with sessions() as s:
        ledger = LedgerService(s)
        dates = {as_utc(x.expires_at) for x in ledger.lots(wallet_of(zhang_id)) if x.remaining}
        assert longer in dates and ledger.balance(savings_of(zhang_id)) == 200
    verifies()

    with transaction(sessions) as s:  # this community's own cap: 500
        s.add(DonationSettingRow(region_id=city.communities[0].id,
                                 effective_from=date.today() - timedelta(days=1),
                                 monthly_donation_limit=500, savings_months=24, savings_cap=500,
                                 created_by=uuid.uuid4()))  # fmt: skip
    over = client.post(f"{API}/me/savings", json={"amount": 301}, headers=zhang)
    assert over.status_code == 422 and over.json()["code"] == "community.savings_cap"
    too_much = client.post(f"{API}/me/savings/withdrawals", json={"amount": 201}, headers=zhang)
    assert too_much.status_code == 409
    assert client.get(f"{API}/me/savings", headers=zhang).json()["balance"] == 200
    assert balance(client, zhang) == 200
    verifies()
