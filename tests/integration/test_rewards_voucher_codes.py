"""Voucher codes stay out of URLs and logs (issue 8, item 12), on SQLite and PostgreSQL.

A voucher code is a bearer secret: whoever reads it can spend the voucher. Clerks can check and
verify a voucher with the code in the body (`POST /voucher-checks`, `POST /voucher-verifications`),
so neither our access log nor a proxy in front of us ever sees it in a URL; and nothing the
rewards code logs carries a code, whichever route is used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.cli.demo_rewards import Rewards
from civicpoints.rewards.models import Booking
from tests.integration.test_api import login
from tests.integration.test_rewards import API, balance, count, redeem, zhang


def spellings(code: str) -> set[str]:
    """The ways a code can be written: grouped, raw, lower case."""
    raw = code.replace("-", "")
    return {code, raw, code.lower(), raw.lower()}


def test_clerk_checks_and_verifies_with_the_code_in_the_body(
    client: TestClient,
    city: City,
    rewards: Rewards,
    fund: Callable[..., None],
    sessions: sessionmaker[Session],
) -> None:
    """Check, verify once (a keyed retry replays), wrong shop, unknown and malformed codes."""
    headers = zhang(client, city, fund, points=200)
    made = redeem(client, headers, rewards.items["SM-10"], quantity=2).json()
    first, second = (v["code"] for v in made["vouchers"])
    clerk = login(client, "clerk")
    typed = first.lower().replace("-", " ")  # read aloud, typed loosely
    seen = client.post(f"{API}/voucher-checks", json={"code": typed}, headers=clerk)
    assert seen.status_code == 200, seen.text
    assert (seen.json()["code"], seen.json()["status"]) == (first, "issued")
    keyed = clerk | {"Idempotency-Key": "till-1"}
    used = client.post(f"{API}/voucher-verifications", json={"code": typed}, headers=keyed)
    assert used.status_code == 200, used.text
    assert (used.json()["code"], used.json()["face_value_fen"]) == (first, 1000)
    again = client.post(f"{API}/voucher-verifications", json={"code": typed}, headers=keyed)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == used.json()
    twice = client.post(f"{API}/voucher-verifications", json={"code": first}, headers=clerk)
    assert (twice.status_code, twice.json()["code"]) == (409, "rewards.voucher_used")
    other = client.post(f"{API}/voucher-verifications", json={"code": second}, headers=keyed)
    assert (other.status_code, other.json()["code"]) == (409, "idempotency.conflict")
    metro = login(client, "clerk_metro")
    wrong = client.post(f"{API}/voucher-verifications", json={"code": second}, headers=metro)
    assert (wrong.status_code, wrong.json()["code"]) == (403, "rewards.wrong_merchant")
    unknown = client.post(f"{API}/voucher-checks", json={"code": "2222-2222"}, headers=clerk)
    assert (unknown.status_code, unknown.json()["field"]) == (404, "code")
    for bad in ({"code": ""}, {"code": "A" * 65}, {"code": 7}, {}):
        r = client.post(f"{API}/voucher-verifications", json=bad, headers=clerk)
        assert r.status_code == 422 and r.headers["content-type"].startswith(
            "application/problem+json"
        ), (bad, r.text)
    resident = client.post(f"{API}/voucher-verifications", json={"code": second}, headers=headers)
    assert resident.status_code == 403
    own = client.post(f"{API}/voucher-checks", json={"code": second}, headers=headers)
    assert own.status_code == 200 and own.json()["status"] == "issued"
    assert count(sessions, Booking) == 1 and balance(client, headers) == 0


def test_no_log_record_carries_a_voucher_code(
    client: TestClient,
    city: City,
    rewards: Rewards,
    fund: Callable[..., None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every voucher route, successes and refusals, with every logger at DEBUG: no code."""
    headers = zhang(client, city, fund, points=200)
    caplog.set_level(logging.DEBUG)
    made = redeem(client, headers, rewards.items["SM-10"], quantity=2).json()
    codes = [v["code"] for v in made["vouchers"]]
    clerk, metro = login(client, "clerk"), login(client, "clerk_metro")
    client.get(f"{API}/vouchers/{codes[0]}", headers=clerk)
    client.get(f"{API}/vouchers/{codes[0]}/qr.png", headers=headers)
    client.post(f"{API}/vouchers/{codes[0]}/verify", headers=clerk)
    client.post(f"{API}/vouchers/{codes[0]}/verify", headers=clerk)  # used
    wrong = client.post(f"{API}/voucher-checks", json={"code": codes[1]}, headers=metro)
    used = client.post(f"{API}/voucher-verifications", json={"code": codes[1]}, headers=clerk)
    assert (wrong.status_code, used.status_code) == (403, 200)
    client.get(f"{API}/me/vouchers", headers=headers)
    client.post(f"{API}/redemptions/{made['id']}/cancel", headers=headers)  # nothing left
    # SQL echo (sqlalchemy.engine) is an operator's debugging switch, outside rewards' own logs;
    # httpx is the caller's side: it logs every URL it requests, which is why the body routes.
    every = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    server = [r for r in caplog.records if not r.name.startswith(("sqlalchemy", "httpx"))]
    assert any(r.name == "httpx" for r in caplog.records), "the capture is not working"
    text = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in server)
    assert {s for c in codes for s in spellings(c) if s in text} == set()
    # The code sent only in bodies appears in no log at all, the client's included (what the
    # client's log shows of URL codes depends on whether the redacting filter is installed).
    assert f"{API}/vouchers/" in every
    assert {s for s in spellings(codes[1]) if s in every} == set()
