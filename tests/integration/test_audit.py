"""The audit log: append-only, one row per staff write (also refused), read by auditors only."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.audit import AuditFacts, AuditService
from civicpoints.audit.models import AuditEntry
from civicpoints.cli.city import City
from civicpoints.kit.db import transaction
from civicpoints.scoring.models import RuleSetRow
from tests.integration.test_api import create_activity, resident_headers

API = "/api/v1"


def audit_rows(sessions: sessionmaker[Session]) -> list[AuditEntry]:
    """Every audit row, oldest first."""
    with sessions() as s:
        return list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def sign_in(client: TestClient, username: str) -> tuple[dict[str, str], uuid.UUID]:
    """Bearer headers and the staff id of a demo staff member."""
    from civicpoints.cli.city import DEMO_STAFF_PASSWORD

    body = {"username": username, "password": DEMO_STAFF_PASSWORD}
    r = client.post(f"{API}/auth/token", json=body)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}, uuid.UUID(
        r.json()["subject_id"]
    )


def test_audit_rows_refuse_update_and_delete(sessions: sessionmaker[Session]) -> None:
    """Triggers refuse changing or removing a row, on both engines; the row stays as written."""
    with transaction(sessions) as s:
        row = AuditService(s).record(AuditFacts("staff", uuid.uuid4(), "test.act"))
    for stmt in (
        update(AuditEntry).where(AuditEntry.id == row.id).values(action="rewritten"),
        delete(AuditEntry).where(AuditEntry.id == row.id),
    ):
        with pytest.raises(DBAPIError, match="append-only"), transaction(sessions) as s:
            s.execute(stmt)
    with sessions() as s:
        assert s.scalars(select(AuditEntry.action)).all() == ["test.act"]


def test_a_staff_write_and_a_refused_one_each_leave_one_row(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    """Organizer creates an activity (201, row in its transaction); a refused rule set (403)."""
    headers, organizer = sign_in(client, "organizer")
    before = len(audit_rows(sessions))
    activity = create_activity(client, city)
    rows = audit_rows(sessions)[before:]
    assert [(r.actor_id, r.method, r.path, r.status) for r in rows] == [
        (organizer, "POST", "/activities", 201)
    ]
    assert rows[0].action and rows[0].actor_kind == "staff" and rows[0].client
    client.get(f"{API}/activities/{activity}", headers=headers)  # reads are not staff writes
    assert len(audit_rows(sessions)) == before + 1

    body = {"effective_from": "2027-01-01", "rules": {}}
    refused = client.post(f"{API}/rules", json=body, headers=headers | {"User-Agent": "x" * 500})
    assert refused.status_code in (403, 422), refused.text
    rows = audit_rows(sessions)[before + 1 :]
    assert [(r.actor_id, r.path, r.status) for r in rows] == [
        (organizer, "/rules", refused.status_code)
    ]
    assert len(rows[0].user_agent) == 120
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(RuleSetRow)) == 0  # nothing written


def test_a_write_that_rolls_back_leaves_no_success_row(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    """A refused staff write records its refusal only: no row claims it succeeded."""
    headers, _ = sign_in(client, "organizer")
    r = client.post(f"{API}/activities/{uuid.uuid4()}/publish", headers=headers)
    assert r.status_code >= 400
    statuses = [row.status for row in audit_rows(sessions)]
    assert statuses == [r.status_code]


def test_residents_and_organizers_cannot_read_the_log_auditors_filter_by_actor(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    """403 for a resident and an organizer; the auditor's filter by actor is complete in SQL."""
    organizer_headers, organizer = sign_in(client, "organizer")
    admin_headers, admin = sign_in(client, "admin")
    for _ in range(3):
        create_activity(client, city)
    client.post(f"{API}/activities/{uuid.uuid4()}/publish", headers=admin_headers)
    resident = resident_headers(client, city)
    assert client.get(f"{API}/audit", headers=resident).status_code == 403
    assert client.get(f"{API}/audit", headers=organizer_headers).status_code == 403
    auditor, _ = sign_in(client, "auditor")
    page = client.get(f"{API}/audit", params={"actor": str(organizer), "limit": 2}, headers=auditor)
    assert page.status_code == 200, page.text
    first = page.json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get(
        f"{API}/audit",
        params={"actor": str(organizer), "limit": 2, "cursor": first["next_cursor"]},
        headers=auditor,
    ).json()
    items = first["items"] + rest["items"]
    assert len(items) == 3 and {i["actor_id"] for i in items} == {str(organizer)}
    assert rest["next_cursor"] is None
    by_admin = client.get(f"{API}/audit", params={"actor": str(admin)}, headers=auditor).json()
    assert [i["status"] for i in by_admin["items"]] == [404]
    bad = client.get(f"{API}/audit", params={"actor": "nobody"}, headers=auditor)
    assert bad.status_code == 422
