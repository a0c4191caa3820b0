"""Sign-in limits per resolved account and per client address; logout; staff `GET /me`.

Defect 6 of issue 8: the failure counter was keyed per typed string, so each spelling of one
phone number got a fresh budget, and anyone could lock `admin` for 15 minutes.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.identity.ratelimit import SignInGuard
from civicpoints.kit.settings import Settings
from civicpoints.web.app import create_app

from .conftest import id_number
from .test_api import PASSWORD, login, register

PHONE = "13811112222"
CAP = 60.0  # the account backoff's ceiling (the default)
FREE = 5
ADDRESS_LIMIT = 15
ATTACKER = ("198.51.100.23", 40000)
OWNER = ("203.0.113.7", 40001)


class Clock:
    """Monotonic seconds that pass when the test says so (a loaded machine cannot race it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """The throttle's clock."""
    return Clock()


@pytest.fixture
def app(settings: Settings, city: City, clock: Clock) -> FastAPI:
    """The app with a smaller address limit, its throttle on the test's clock."""
    app = create_app(settings.model_copy(update={"signin_address_failures": ADDRESS_LIMIT}))
    app.state.sign_in_guard = SignInGuard(FREE, CAP, ADDRESS_LIMIT, 900.0, clock=clock)
    return app


@pytest.fixture
def attacker(app: FastAPI) -> Iterator[TestClient]:
    """A client calling from one address."""
    with TestClient(app, client=ATTACKER) as c:
        yield c


@pytest.fixture
def owner(app: FastAPI, attacker: TestClient) -> TestClient:
    """A client calling from another address, on the same app (and so the same limiter)."""
    return TestClient(app, client=OWNER)


def try_sign_in(client: TestClient, username: str, password: str = "wrong-guess") -> httpx.Response:
    """One sign-in attempt."""
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def assert_throttled(r: httpx.Response) -> None:
    """429 problem+json in both languages with a Retry-After of at most the cap."""
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "identity.too_many_attempts"
    seconds = int(r.headers["Retry-After"])
    assert 1 <= seconds <= 900
    assert "秒后再试" in r.json()["messages"]["zh-CN"]
    assert "seconds" in r.json()["messages"]["en"]


def test_every_spelling_of_one_account_shares_one_budget(attacker: TestClient, city: City) -> None:
    """Spaces, +86, full-width digits, the ID and the platform number count as one account."""
    r = register(attacker, city, phone=PHONE)
    assert r.status_code == 201, r.text
    spellings = [
        "138 1111-2222",
        "+86 138 1111 2222",
        "１３８１１１１２２２２",
        id_number(1),
        r.json()["public_no"].lower(),
    ]
    for handle in spellings:
        assert try_sign_in(attacker, handle).status_code == 401
    assert_throttled(try_sign_in(attacker, "0086-13811112222"))
    assert_throttled(try_sign_in(attacker, PHONE, PASSWORD))  # no oracle while waiting


def test_nobody_can_lock_admin_out(attacker: TestClient, owner: TestClient, clock: Clock) -> None:
    """Failures against admin delay it by at most the cap; the owner then signs in."""
    for _ in range(ADDRESS_LIMIT + 5):
        assert try_sign_in(attacker, "admin").status_code in (401, 429)
        clock.now += CAP / 4
    clock.now += CAP  # at most the cap after the attack's last try
    assert try_sign_in(owner, "admin", DEMO_STAFF_PASSWORD).status_code == 200


def test_the_owner_waits_only_the_capped_delay(
    attacker: TestClient, city: City, clock: Clock
) -> None:
    """After many failures the right password passes once the (short, capped) delay is over."""
    assert register(attacker, city, phone=PHONE).status_code == 201
    for _ in range(FREE):
        assert try_sign_in(attacker, PHONE).status_code == 401
    assert_throttled(try_sign_in(attacker, PHONE, PASSWORD))
    for _ in range(6):  # 2^6 s would pass the cap: the delay stops growing there
        clock.now += CAP
        assert try_sign_in(attacker, PHONE).status_code == 401
    r = try_sign_in(attacker, PHONE, PASSWORD)
    assert_throttled(r)
    assert int(r.headers["Retry-After"]) == CAP
    clock.now += CAP
    assert try_sign_in(attacker, PHONE, PASSWORD).status_code == 200
    # A success forgets the account's failures: the next typo is not delayed.
    assert try_sign_in(attacker, PHONE).status_code == 401
    assert try_sign_in(attacker, PHONE, PASSWORD).status_code == 200


def test_one_address_cannot_spray_many_accounts(attacker: TestClient, owner: TestClient) -> None:
    """Failures on many names, known or unknown, stop the address, not the accounts."""
    names = ["admin", "auditor", "organizer", "reviewer", "clerk", "nobody", "13900000000"]
    for i in range(ADDRESS_LIMIT):
        assert try_sign_in(attacker, f"{names[i % len(names)]}{i}").status_code == 401
    assert_throttled(try_sign_in(attacker, "mz_reviewer"))
    assert_throttled(try_sign_in(attacker, "clerk_farm", DEMO_STAFF_PASSWORD))
    assert try_sign_in(owner, "clerk_farm", DEMO_STAFF_PASSWORD).status_code == 200


def test_throttle_message_in_english(attacker: TestClient) -> None:
    """The 429 speaks the caller's language and says when to come back."""
    for _ in range(FREE):
        try_sign_in(attacker, "auditor")
    r = attacker.post(
        "/api/v1/auth/token",
        json={"username": "auditor", "password": "x"},
        headers={"Accept-Language": "en"},
    )
    assert_throttled(r)
    assert r.json()["detail"].startswith("too many failed sign-ins")


def test_logout_revokes_the_token(client: TestClient, city: City) -> None:
    """After logout the same bearer token is refused with 401."""
    assert register(client, city).status_code == 201
    headers = login(client, "13800000001", PASSWORD)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    r = client.post("/api/v1/auth/logout", headers=headers)
    assert r.status_code == 204, r.text
    again = client.get("/api/v1/me", headers=headers)
    assert again.status_code == 401 and again.json()["code"] == "unauthorized"
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 401
    other = login(client, "13800000001", PASSWORD)  # a new sign-in still works
    assert client.get("/api/v1/me", headers=other).status_code == 200


def test_logout_without_a_token_is_401(client: TestClient) -> None:
    """Nothing to revoke without credentials."""
    r = client.post("/api/v1/auth/logout")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"


def test_staff_see_their_own_profile(client: TestClient, city: City) -> None:
    """`GET /me` for staff: username, display name and roles with their scopes."""
    r = client.get("/api/v1/me", headers=login(client, "organizer"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "staff" and body["username"] == "organizer"
    assert body["display_name"] == "北山街道社工 陈社工"
    assert body["roles"] == [
        {
            "role": "organizer",
            "region_id": str(city.streets[0].id),
            "region_name": city.streets[0].name,
            "organization_id": None,
            "organization_name": None,
        }
    ]
    assert "password" not in r.text


def test_residents_me_is_unchanged(client: TestClient, city: City) -> None:
    """Residents still get their masked profile from `GET /me`."""
    assert register(client, city).status_code == 201
    body = client.get("/api/v1/me", headers=login(client, "13800000001", PASSWORD)).json()
    assert body["kind"] == "resident" and body["phone_masked"] == "138****0001"
