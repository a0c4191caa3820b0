"""Schemathesis over the rewards and budget routes as a signed-in administrator, clerk and
verified resident.

The unauthenticated fuzz (test_openapi_fuzz.py) mostly reaches the 401 of these routes; here
requests pass authentication and reach validation and the services. No input may produce a
server error or a response outside the spec. Unknown query parameters are tolerated API-wide,
so negative-data rejection is not checked, nor positive acceptance (domain rules may refuse).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance
from sqlalchemy import select

from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from civicpoints.identity.idcard import id_check_char
from civicpoints.regions.models import Region
from tests.api.test_openapi_fuzz import fuzz_app

EXCLUDED = [positive_data_acceptance, negative_data_rejection]


def tokens_and_catalog(app: Any) -> dict[str, str]:
    """Sign in the admin, the clerk and a verified resident; add a sponsor and a merchant."""
    with TestClient(app) as c:
        auth = {}
        for user in ("admin", "clerk"):
            body = {"username": user, "password": DEMO_STAFF_PASSWORD}
            signed = c.post("/api/v1/auth/token", json=body).json()
            auth[user] = f"Bearer {signed['access_token']}"
            auth[f"{user}_id"] = signed["subject_id"]
        admin = {"Authorization": auth["admin"]}
        sponsor = {"code": "city-fund", "name": "专项资金", "name_en": "Fund", "kind": "government"}
        c.post("/api/v1/sponsors", json=sponsor | {"budget_fen": 10**9}, headers=admin)
        shop = c.post(
            "/api/v1/merchants", json={"code": "s", "name": "店", "name_en": "Shop"}, headers=admin
        ).json()
        c.post(
            f"/api/v1/merchants/{shop['id']}/clerks",
            json={"staff_id": auth["clerk_id"]},
            headers=admin,
        )
        auth["resident"] = resident_token(app, c)
    return auth


def resident_token(app: Any, c: TestClient) -> str:
    """Register, sign in and verify a resident of the first community."""
    with app.state.sessions() as s:
        community = s.scalars(select(Region.id).where(Region.level == "community")).first()
    body = "33010619580315012"
    resident = {
        "name": "张秀英",
        "id_number": body + id_check_char(body),
        "phone": "13800000001",
        "password": "Fuzz@2026",
        "community_id": str(community),
        "consent": True,
    }
    assert c.post("/api/v1/residents", json=resident).status_code == 201
    signed = c.post("/api/v1/auth/token", json={"username": "13800000001", "password": "Fuzz@2026"})
    bearer = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    assert c.post("/api/v1/me/verification", json={}, headers=bearer).status_code == 200
    return bearer["Authorization"]


app = fuzz_app()
AUTH = tokens_and_catalog(app)
schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(tag_regex="rewards|budget")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_rewards_routes_as_admin(case: Any) -> None:
    """An administrator: catalog, sponsors, merchants, valuations, budget, settlement."""
    case.call_and_validate(headers={"Authorization": AUTH["admin"]}, excluded_checks=EXCLUDED)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_rewards_routes_as_clerk(case: Any) -> None:
    """A merchant clerk: verification, their settlement, and refusals elsewhere."""
    case.call_and_validate(headers={"Authorization": AUTH["clerk"]}, excluded_checks=EXCLUDED)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_rewards_routes_as_resident(case: Any) -> None:
    """A verified resident (no points): browsing, redeeming, cancelling, vouchers, refusals."""
    case.call_and_validate(headers={"Authorization": AUTH["resident"]}, excluded_checks=EXCLUDED)
