"""Logs (issue 12, item 3) on SQLite and PostgreSQL: a resident's journey through a real
uvicorn in JSON mode (register with a phone and an ID number, sign in, redeem a voucher, look
it up, send the token and the code in query strings, the app logging a phone itself) writes
only JSON lines, each access line with the request id the client saw and the caller's
pseudonym, and not one line holds the phone, the ID number, the token, the code or the id."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from civicpoints.cli.city import City
from civicpoints.cli.demo_rewards import SUBSIDISED_50, Rewards
from civicpoints.kit.logging import clean_target, client_network
from civicpoints.kit.settings import Settings
from tests.integration.conftest import id_number
from tests.integration.live import live_server
from tests.integration.test_api import PASSWORD

PHONE = "13957120422"
ACTOR = re.compile(r"^resident:[0-9a-f]{16}$")


def lines_of(text: str) -> list[dict[str, Any]]:
    """Every non-empty line, each of which must be one JSON object."""
    out = []
    for line in text.splitlines():
        if line.strip():
            parsed = json.loads(line)  # a line that is not JSON fails the test here
            assert isinstance(parsed, dict)
            out.append(parsed)
    return out


def test_a_journey_logs_json_lines_without_personal_data_or_secrets(
    settings: Settings,
    city: City,
    rewards: Rewards,
    fund: Callable[..., None],
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Every line is JSON; access lines carry the answer's request id and a pseudonym; no
    secret or identifier of the resident appears anywhere in stdout or stderr."""
    idn = id_number(77)
    with live_server(settings, log_format="json") as web:
        capfd.readouterr()  # start-up lines: checked for shape below with the rest
        body = {
            "name": "张秀英",
            "id_number": idn,
            "phone": PHONE,
            "password": PASSWORD,
            "community_id": str(city.communities[0].id),
            "consent": True,
        }
        registered = web.post(
            "/api/v1/residents", json=body, headers={"X-Request-ID": "journey-0001"}
        )
        assert registered.status_code == 201, registered.text
        signed = web.post("/api/v1/auth/token", json={"username": PHONE, "password": PASSWORD})
        token = signed.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert web.post("/api/v1/me/verification", json={}, headers=auth).status_code == 200
        me = web.get("/api/v1/me", headers=auth).json()
        resident = uuid.UUID(me["id"])
        for i in range(12):
            fund(resident, 40, days=200 + 7 * i)
        item = rewards.items[SUBSIDISED_50]
        redeemed = web.post(
            "/api/v1/redemptions",
            json={"item_id": str(item.id), "quantity": 1},
            headers=auth | {"Idempotency-Key": "log-journey-1"},
        )
        assert redeemed.status_code == 201, redeemed.text
        code = redeemed.json()["vouchers"][0]["code"]
        looked = web.get(f"/api/v1/vouchers/{code}/qr.png", headers=auth)
        assert looked.status_code == 200
        answered = looked.headers["x-request-id"]
        # Secrets in query strings (a careless client, a link pasted in a browser).
        web.get(f"/api/v1/me?access_token={token}&page=2&code={code}&phone={PHONE}")
        web.get(f"/api/v1/vouchers/{code}", headers=auth)
        web.post("/api/v1/auth/token", json={"username": PHONE, "password": "wrong-password-1"})
        # The app's own loggers go through the same handlers and filter.
        logging.getLogger("civicpoints.test").warning(
            "resident %s (%s) asked, token %s", PHONE, idn, f"Bearer {token}"
        )
        # Nothing is held back by buffering: the server stops at the end of the block.
    captured = capfd.readouterr()
    text = captured.out + captured.err
    lines = lines_of(text)

    for secret in (PHONE, idn, token, code, PASSWORD, str(resident), resident.hex, "张秀英"):
        assert secret not in text, f"{secret!r} was logged"
    assert "[phone]" in text and "[id-number]" in text and "[redacted]" in text

    for line in lines:
        assert {"ts", "level", "logger", "message"} <= set(line)
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert len(access) >= 9
    assert all("?" not in a["http_path"] or "page=2" in a["http_path"] for a in access)
    first = next(a for a in access if a["request_id"] == "journey-0001")
    assert (first["http_method"], first["http_path"], first["http_status"]) == (
        "POST",
        "/api/v1/residents",
        201,
    )
    qr = next(a for a in access if a["request_id"] == answered)
    assert qr["http_path"] == "/api/v1/vouchers/[redacted]/qr.png"
    assert ACTOR.match(qr["actor"]) and qr["client_net"] == "127.0.0.0/24"
    actors = {a.get("actor") for a in access if a.get("actor")}
    assert len(actors) == 1  # one resident, one stable pseudonym across requests
    assert "actor" not in first  # not signed in yet
    mine = next(line for line in lines if line["logger"] == "civicpoints.test")
    assert mine["message"] == "resident [phone] ([id-number]) asked, token Bearer [redacted]"


def test_targets_keep_only_safe_query_values() -> None:
    """The cleaning the access filter applies, on the shapes of target a server sees."""
    assert clean_target("/api/v1/me?access_token=abc.def&page=2") == (
        "/api/v1/me?access_token=[redacted]&page=2"
    )
    assert clean_target("/api/v1/vouchers/ABCD-EFGH-JKMN-PQRS-TVWX?x=1") == (
        "/api/v1/vouchers/[redacted]?x=[redacted]"
    )
    assert clean_target("/verify/330106195803157724") == "/verify/[id-number]"
    assert len(clean_target("/a?" + "limit=1&" * 500)) <= 512
    assert client_network("203.0.113.77:51234") == "203.0.113.0/24"
    assert client_network("[2001:db8:1:2::5]:443") == "2001:db8:1::/48"
    assert client_network("unix-socket") == "-"
