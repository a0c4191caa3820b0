"""New versions of two region settings through the API: the star-level thresholds (hours)
and the donation and points-bank settings (community). Administrators of the region only,
scope before existence, every value bounded, never back-dated, audited; the version in force
is the most specific region's."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal, Role
from civicpoints.audit.models import AuditEntry
from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.community import DonationService, DonationSettingService
from civicpoints.community.donation_models import DonationSettingRow
from civicpoints.hours import DEFAULT_STARS, StarPolicyService
from civicpoints.hours.models import StarPolicyRow
from civicpoints.identity import IdentityService
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction

from .test_api import login


def today() -> date:
    """Beijing's date now, asked at each use: a module constant taken at collection went stale
    when a run crossed Beijing's midnight (16:00 UTC) and the app's own "today" moved on."""
    return local_date(utcnow())


STARS = "/api/v1/hours/star-policies"
DONATIONS = "/api/v1/community/donation-settings"
STREET_ADMIN_PASSWORD = DEMO_STAFF_PASSWORD + "x"


def street_admin(sessions: sessionmaker[Session], ctx: Context, city: City, n: int = 0) -> str:
    """An administrator of the n-th street (北山街道 is the first); their username."""
    username = f"street{n}_admin"
    with transaction(sessions) as s:
        identity = IdentityService(s, ctx)
        member = identity.add_staff(username, "街道管理员", STREET_ADMIN_PASSWORD)
        identity.grant(member, Role.ADMIN, region_id=city.streets[n].id)
    return username


def count(sessions: sessionmaker[Session], model: Any) -> int:
    with transaction(sessions) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def audit_rows(sessions: sessionmaker[Session], action: str) -> list[AuditEntry]:
    with transaction(sessions) as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)).all())


def stars(region: uuid.UUID | None, **over: Any) -> dict[str, Any]:
    body = {
        "region_id": str(region) if region else None,
        "effective_from": today().isoformat(),
        "thresholds": [50, 150, 300, 500, 800],
        "note": "街道试行",
    }
    return body | over


def donation(region: uuid.UUID | None, **over: Any) -> dict[str, Any]:
    body = {
        "region_id": str(region) if region else None,
        "effective_from": today().isoformat(),
        "monthly_donation_limit": 200,
        "savings_months": 36,
        "savings_cap": 8000,
        "note": "",
    }
    return body | over


def test_a_street_administrator_adds_star_thresholds_in_force_from_their_day(
    client: TestClient, sessions: sessionmaker[Session], ctx: Context, city: City
) -> None:
    """201, the version applies to the street's communities (not to another street's), a
    scheduled one waits for its day, the city-wide administrator's applies elsewhere; every
    write is in the audit log."""
    admin = login(client, street_admin(sessions, ctx, city), STREET_ADMIN_PASSWORD)
    street, home, elsewhere = city.streets[0], city.communities[0], city.communities[12]
    r = client.post(STARS, json=stars(street.id), headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["thresholds"] == [50, 150, 300, 500, 800]
    later = today() + timedelta(days=30)
    body = stars(home.id, effective_from=later.isoformat(), thresholds=[10, 20, 30, 40, 50])
    assert client.post(STARS, json=body, headers=admin).status_code == 201
    city_admin = login(client, "admin")
    body = stars(None, thresholds=[80, 200, 400, 700, 1000])
    assert client.post(STARS, json=body, headers=city_admin).status_code == 201
    with transaction(sessions) as s:
        policy = StarPolicyService(s)
        assert policy.for_region(home.id, today()).hours == [50, 150, 300, 500, 800]
        assert policy.for_region(home.id, later).hours == [10, 20, 30, 40, 50]
        assert policy.for_region(elsewhere.id, today()).hours == [80, 200, 400, 700, 1000]
    listed = client.get(STARS, headers=login(client, "reviewer")).json()
    assert len(listed) == 3
    rows = audit_rows(sessions, "create_star_policy")
    assert [x.status for x in rows] == [201, 201, 201]


@pytest.mark.parametrize(
    "over",
    [
        {"thresholds": [100, 300, 300, 1000, 1500]},  # not strictly rising
        {"thresholds": [300, 100, 600, 1000, 1500]},
        {"thresholds": [0, 300, 600, 1000, 1500]},  # not positive
        {"thresholds": [-5, 300, 600, 1000, 1500]},
        {"thresholds": [100, 300, 600, 1000, 20_001]},  # too many hours
        {"thresholds": [100, 300, 600, 1000]},  # four levels
        {"thresholds": [100, 300, 600, 1000, 1500, 2000]},
        {"thresholds": [True, 300, 600, 1000, 1500]},
        {"thresholds": [100.5, 300, 600, 1000, 1500]},
        {"thresholds": "100,300"},
        {"effective_from": (today() - timedelta(days=1)).isoformat()},  # back-dated
        {"effective_from": (today() + timedelta(days=800)).isoformat()},  # too far ahead
        {"effective_from": "2026-02-30"},
        {"note": "x" * 501},
        {"extra": 1},
    ],
)
def test_star_thresholds_out_of_bounds_are_422_and_nothing_is_written(
    client: TestClient, sessions: sessionmaker[Session], city: City, over: dict[str, Any]
) -> None:
    r = client.post(STARS, json=stars(city.streets[0].id, **over), headers=login(client, "admin"))
    assert r.status_code == 422, r.text
    assert count(sessions, StarPolicyRow) == 0


def test_star_thresholds_of_another_region_are_403_before_existence(
    client: TestClient, sessions: sessionmaker[Session], ctx: Context, city: City
) -> None:
    """Another street, city-wide, an unknown region: 403 for a street's administrator; a
    reviewer: 403; only the city-wide administrator learns an unknown region is 404. Nothing
    written; each refusal audited."""
    admin = login(client, street_admin(sessions, ctx, city), STREET_ADMIN_PASSWORD)
    for region in (city.streets[1].id, city.communities[12].id, None, uuid.uuid4()):
        assert client.post(STARS, json=stars(region), headers=admin).status_code == 403
    reviewer = login(client, "reviewer")
    assert client.post(STARS, json=stars(city.streets[0].id), headers=reviewer).status_code == 403
    city_admin = login(client, "admin")
    assert client.post(STARS, json=stars(uuid.uuid4()), headers=city_admin).status_code == 404
    assert count(sessions, StarPolicyRow) == 0
    assert [x.status for x in audit_rows(sessions, "create_star_policy")] == [403] * 5 + [404]
    assert client.post(STARS, json=stars(None)).status_code == 401


def test_a_street_administrator_sets_donation_and_savings_settings(
    client: TestClient, sessions: sessionmaker[Session], ctx: Context, city: City
) -> None:
    """The street's version applies to its communities; a community's own beats it (the most
    specific region first, whichever is newer); the donation limit follows; audited."""
    admin = login(client, street_admin(sessions, ctx, city), STREET_ADMIN_PASSWORD)
    street, home, neighbour = city.streets[0], city.communities[0], city.communities[1]
    assert (
        client.post(DONATIONS, json=donation(home.id, savings_cap=3000), headers=admin).json()[
            "savings_cap"
        ]
        == 3000
    )
    r = client.post(DONATIONS, json=donation(street.id), headers=admin)
    assert r.status_code == 201, r.text
    with transaction(sessions) as s:
        settings = DonationSettingService(s)
        assert settings.in_force(home.id, today()).savings_cap == 3000  # its own, though older
        assert settings.in_force(neighbour.id, today()).savings_cap == 8000
        assert DonationService(s).settings(neighbour.id).monthly_donation_limit == 200
        assert DonationService(s).settings(city.communities[12].id).monthly_donation_limit == 500
    assert len(client.get(DONATIONS, headers=login(client, "reviewer")).json()) == 2
    assert [x.status for x in audit_rows(sessions, "create_donation_setting")] == [201, 201]


@pytest.mark.parametrize(
    "over",
    [
        {"monthly_donation_limit": 0},
        {"monthly_donation_limit": 10_001},
        {"monthly_donation_limit": True},
        {"monthly_donation_limit": "lots"},
        {"savings_months": 11},
        {"savings_months": 61},
        {"savings_cap": 0},
        {"savings_cap": 100_001},
        {"savings_cap": None},
        {"effective_from": (today() - timedelta(days=1)).isoformat()},
        {"effective_from": (today() + timedelta(days=800)).isoformat()},
        {"note": "x" * 201},
        {"note": "a\u202eb"},
    ],
)
def test_donation_settings_out_of_bounds_are_422_and_nothing_is_written(
    client: TestClient, sessions: sessionmaker[Session], city: City, over: dict[str, Any]
) -> None:
    body = donation(city.streets[0].id, **over)
    r = client.post(DONATIONS, json=body, headers=login(client, "admin"))
    assert r.status_code == 422, r.text
    assert count(sessions, DonationSettingRow) == 0


def test_donation_settings_of_another_region_are_403_before_existence(
    client: TestClient,
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    staff: Callable[[str], Principal],
) -> None:
    admin = login(client, street_admin(sessions, ctx, city), STREET_ADMIN_PASSWORD)
    for region in (city.streets[1].id, None, uuid.uuid4()):
        assert client.post(DONATIONS, json=donation(region), headers=admin).status_code == 403
    civil = login(client, "civil")  # civil affairs of the community: not an administrator
    r = client.post(DONATIONS, json=donation(city.communities[0].id), headers=civil)
    assert r.status_code == 403
    city_admin = login(client, "admin")
    assert client.post(DONATIONS, json=donation(uuid.uuid4()), headers=city_admin).status_code == (
        404
    )
    assert count(sessions, DonationSettingRow) == 0
    with transaction(sessions) as s:
        assert StarPolicyService(s).for_region(city.communities[0].id, today()) == DEFAULT_STARS
