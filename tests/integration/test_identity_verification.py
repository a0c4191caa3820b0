"""Real-name verification: `dev` refused in production; staff verify in person (记录核验人员)."""

from __future__ import annotations

import pydantic
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Role
from civicpoints.cli.city import City
from civicpoints.identity import passwords
from civicpoints.identity.models import IdentityVerification, Resident
from civicpoints.identity.service import IdentityService
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.web.app import create_app

from .conftest import id_number
from .test_api import PASSWORD, login, register

VERIFIER_PASSWORD = "Shequ-hezhen-2026"
CARD = {"document_type": "resident_id_card", "document_number": id_number(1)}


@pytest.fixture
def verifiers(sessions: sessionmaker[Session], ctx: Context, city: City) -> None:
    """A verifier for the first street and one for the second."""
    digest = passwords.hash_password(VERIFIER_PASSWORD)
    with transaction(sessions) as s:
        identity = IdentityService(s, ctx)
        for name, street in (("verifier1", city.streets[0]), ("verifier2", city.streets[1])):
            member = identity.add_staff(name, f"{street.name} 实名核验员", None, digest)
            identity.grant(member, Role.VERIFIER, region_id=street.id)


def rows(sessions: sessionmaker[Session]) -> list[IdentityVerification]:
    """Every verification row."""
    with transaction(sessions) as s:
        return list(s.scalars(select(IdentityVerification)).all())


def resident(client: TestClient, city: City) -> str:
    """A registered, unverified resident's id."""
    r = register(client, city)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_production_refuses_the_dev_provider_at_startup() -> None:
    """Settings fail loudly, naming the variable to set."""
    with pytest.raises(pydantic.ValidationError) as caught:
        Settings(env="production", identity_provider="dev")
    assert "CIVICPOINTS_IDENTITY_PROVIDER" in str(caught.value)
    assert Settings(env="production", identity_provider="in_person").env == "production"


def test_dev_provider_refuses_to_verify_in_production(
    settings: Settings, city: City, sessions: sessionmaker[Session]
) -> None:
    """Even settings that skipped validation cannot verify anyone with `dev` in production."""
    prod = settings.model_copy(update={"env": "production"})
    with TestClient(create_app(prod)) as client:
        resident(client, city)
        headers = login(client, "13800000001", PASSWORD)
        r = client.post("/api/v1/me/verification", json={}, headers=headers)
    assert r.status_code == 422 and r.json()["code"] == "identity.verification_failed"
    assert "dev" in r.json()["messages"]["en"] and r.json()["messages"]["zh-CN"]
    assert rows(sessions) == []


def test_in_person_provider_sends_residents_to_the_centre(
    settings: Settings, city: City, sessions: sessionmaker[Session]
) -> None:
    """Configured `in_person`: self-service verification explains where to go."""
    prod = settings.model_copy(update={"env": "production", "identity_provider": "in_person"})
    with TestClient(create_app(prod)) as client:
        resident(client, city)
        headers = login(client, "13800000001", PASSWORD)
        r = client.post("/api/v1/me/verification", json={}, headers=headers)
    assert r.status_code == 422 and "社区服务中心" in r.json()["messages"]["zh-CN"]
    assert rows(sessions) == []


def test_staff_verify_a_resident_in_person(
    client: TestClient, city: City, sessions: sessionmaker[Session], verifiers: None
) -> None:
    """The verifier records who, when, the method and the masked document on one row."""
    rid = resident(client, city)
    staff = login(client, "verifier1", VERIFIER_PASSWORD)
    r = client.post(f"/api/v1/residents/{rid}/verification", json=CARD, headers=staff)
    assert r.status_code == 200, r.text
    assert r.json()["verification"] == "verified" and r.json()["verified_at"]
    assert id_number(1) not in r.text
    [row] = rows(sessions)
    assert str(row.resident_id) == rid and row.method == "in_person"
    assert row.document_type == "resident_id_card"
    assert row.document_masked == id_number(1)[:6] + "********" + id_number(1)[-4:]
    me = client.get("/api/v1/me", headers=staff).json()
    assert str(row.verified_by_staff_id) == me["id"] and row.verified_at is not None
    with transaction(sessions) as s:
        stored = s.get(Resident, row.resident_id)
        assert stored is not None and stored.verified_by == "in_person"
    again = client.post(f"/api/v1/residents/{rid}/verification", json=CARD, headers=staff)
    assert again.status_code == 200 and len(rows(sessions)) == 1  # already verified: no row


def test_a_card_that_does_not_match_is_refused(
    client: TestClient, city: City, sessions: sessionmaker[Session], verifiers: None
) -> None:
    """The number read from the card must be the resident's own; nothing written otherwise."""
    rid = resident(client, city)
    staff = login(client, "verifier1", VERIFIER_PASSWORD)
    card = {**CARD, "document_number": id_number(2)}
    r = client.post(f"/api/v1/residents/{rid}/verification", json=card, headers=staff)
    assert r.status_code == 422 and r.json()["field"] == "document_number"
    assert r.json()["code"] == "identity.document_mismatch" and r.json()["messages"]["en"]
    assert id_number(2) not in r.text and id_number(1) not in r.text
    assert rows(sessions) == []


@pytest.mark.parametrize(
    ("who", "status"), [("verifier2", 404), ("clerk", 403), ("resident", 403), (None, 401)]
)
def test_only_a_verifier_in_scope_may_verify(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    verifiers: None,
    who: str | None,
    status: int,
) -> None:
    """Another street's verifier sees 404 (as for an unknown id); other roles 403."""
    rid = resident(client, city)
    headers = {
        "verifier2": lambda: login(client, "verifier2", VERIFIER_PASSWORD),
        "clerk": lambda: login(client, "clerk"),
        "resident": lambda: login(client, "13800000001", PASSWORD),
        None: dict,
    }[who]()
    r = client.post(f"/api/v1/residents/{rid}/verification", json=CARD, headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert rows(sessions) == []
    if status == 404:
        unknown = client.post(
            "/api/v1/residents/00000000-0000-7000-8000-000000000000/verification",
            json=CARD,
            headers=login(client, "verifier1", VERIFIER_PASSWORD),
        )
        assert unknown.status_code == 404 and unknown.json()["code"] == r.json()["code"]
