"""隐患随手拍 (issue 11, item 5) on SQLite and PostgreSQL: report → routed department →
confirm (a first report earns 20 within the cap) / merge a duplicate / reject with a reason;
bad input is a clear 4xx with nothing written; other departments get 404."""

from __future__ import annotations

import math
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.community import HazardReport
from civicpoints.kit.clock import month_key, utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import wallet_of
from civicpoints.ledger.service import LedgerService
from civicpoints.scoring.models import MonthUsage

from .conftest import WEST_LAKE
from .ledger_checks import assert_books
from .test_api import count, jpeg, login, resident_headers

API = "/api/v1/hazard-reports"
M_PER_DEG_LAT = math.pi * 6_371_008.8 / 180


def north(metres: float) -> tuple[float, float]:
    return WEST_LAKE[0] + metres / M_PER_DEG_LAT, WEST_LAKE[1]


def report(
    client: TestClient,
    headers: dict[str, str],
    city: City,
    *,
    category: str = "safety",
    where: tuple[float, float] | None = WEST_LAKE,
    photo: bytes | None = b"",
    **over: str,
) -> Any:
    """Post a report (photo b"": a fresh JPEG taken at `where`; None: no photo part)."""
    data = {
        "category": category,
        "community_id": str(city.communities[0].id),
        "address": "保俶路 12 号路口",
        "description": "井盖缺失，夜里有人差点踩空",
    }
    if where is not None:
        data |= {"lat": str(where[0]), "lon": str(where[1])}
    data |= over
    if photo == b"":
        photo = jpeg(*(where or WEST_LAKE))
    files = {"photo": ("p.jpg", photo, "image/jpeg")} if photo is not None else None
    return client.post(API, data=data, files=files, headers=headers)


def decide(client: TestClient, who: str, rid: str, **body: str) -> Any:
    return client.post(f"{API}/{rid}/decision", json=body, headers=login(client, who))


def balance(sessions: sessionmaker[Session], headers_owner: str) -> int:
    with transaction(sessions) as s:
        return LedgerService(s).balance(wallet_of(uuid.UUID(headers_owner)))


def me(client: TestClient, headers: dict[str, str]) -> str:
    return str(client.get("/api/v1/me", headers=headers).json()["id"])


def backdate(sessions: sessionmaker[Session], rid: str, hours: float) -> None:
    """Move a report's time back (the 48-hour window is measured between reports)."""
    with transaction(sessions) as s:
        row = s.get(HazardReport, uuid.UUID(rid))
        assert row is not None
        s.execute(
            update(HazardReport)
            .where(HazardReport.id == row.id)
            .values(reported_at=row.reported_at - timedelta(hours=hours))
        )


def test_safety_report_goes_to_police_and_confirmed_earns_20(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    resident = resident_headers(client, city)
    r = report(client, resident, city)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "open"
    assert body["organization_id"] == str(city.departments["GA"].id)
    rid = body["id"]
    # The police see it; the environment officer's queue does not.
    police = login(client, "police_officer")
    assert [x["id"] for x in client.get(API, headers=police).json()] == [rid]
    assert client.get(API, headers=login(client, "env_officer")).json() == []
    done = decide(client, "police_officer", rid, decision="confirm")
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["points"]) == ("confirmed", 20)
    assert balance(sessions, me(client, resident)) == 20
    # Final: a second decision is refused, and no second payment.
    again = decide(client, "police_officer", rid, decision="confirm", reason="再确认")
    assert again.status_code == 409
    assert balance(sessions, me(client, resident)) == 20
    mine = client.get("/api/v1/me/hazard-reports", headers=resident).json()
    assert [(m["id"], m["status"], m["points"]) for m in mine] == [(rid, "confirmed", 20)]
    with transaction(sessions) as s:
        assert_books(s)


def test_environment_report_goes_to_the_environment_bureau(client: TestClient, city: City) -> None:
    resident = resident_headers(client, city)
    r = report(client, resident, city, category="environment", description="河面漂着油污")
    assert r.json()["organization_id"] == str(city.departments["HB"].id)
    env = login(client, "env_officer")
    assert [x["id"] for x in client.get(API, headers=env).json()] == [r.json()["id"]]


def test_reject_needs_a_reason_and_the_reporter_reads_it(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    resident = resident_headers(client, city)
    rid = report(client, resident, city).json()["id"]
    assert decide(client, "police_officer", rid, decision="reject").status_code == 422
    r = decide(client, "police_officer", rid, decision="reject", reason="照片中未见隐患")
    assert r.json()["status"] == "rejected"
    mine = client.get("/api/v1/me/hazard-reports", headers=resident).json()
    assert (mine[0]["status"], mine[0]["reason"], mine[0]["points"]) == (
        "rejected",
        "照片中未见隐患",
        None,
    )
    assert balance(sessions, me(client, resident)) == 0


@pytest.mark.parametrize(
    ("metres", "hours", "same"),
    # 47.99 h: the second report is posted moments after the first is moved back.
    [(100, 47.99, True), (101, 0, False), (0, 49, False), (60, 24, True)],
)
def test_duplicates_within_100_m_and_48_h(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    metres: float,
    hours: float,
    same: bool,
) -> None:
    first_by, second_by = resident_headers(client, city, 1), resident_headers(client, city, 2)
    first = report(client, first_by, city).json()["id"]
    backdate(sessions, first, hours)
    second = report(client, second_by, city, where=north(metres - 0.01 if same else metres))
    second_id = second.json()["id"]
    police = login(client, "police_officer")
    shown = client.get(f"{API}/{second_id}", headers=police).json()
    assert [c["id"] for c in shown["candidates"]] == ([first] if same else [])
    merged = decide(client, "police_officer", second_id, decision="merge", duplicate_of=first)
    if same:
        assert merged.status_code == 200, merged.text
        assert (merged.json()["status"], merged.json()["duplicate_of"]) == ("merged", first)
    else:
        assert merged.status_code == 422
        assert merged.json()["code"] == "community.hazard_not_duplicate"


def test_only_the_first_report_earns(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    a, b = resident_headers(client, city, 1), resident_headers(client, city, 2)
    first = report(client, a, city).json()["id"]
    second = report(client, b, city, where=north(30)).json()["id"]
    assert decide(client, "police_officer", first, decision="confirm").status_code == 200
    # The second of the same hazard cannot be confirmed too: it is merged, and earns nothing.
    refused = decide(client, "police_officer", second, decision="confirm")
    assert (refused.status_code, refused.json()["code"]) == (
        409,
        "community.hazard_already_confirmed",
    )
    assert (
        decide(client, "police_officer", second, decision="merge", duplicate_of=first).json()[
            "status"
        ]
        == "merged"
    )
    assert (balance(sessions, me(client, a)), balance(sessions, me(client, b))) == (20, 0)


def test_monthly_cap_is_respected(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    resident = resident_headers(client, city)
    rid = report(client, resident, city).json()["id"]
    resident_id = uuid.UUID(me(client, resident))
    with transaction(sessions) as s:
        s.add(MonthUsage(resident_id=resident_id, month=month_key(utcnow()), points=490))
    done = decide(client, "police_officer", rid, decision="confirm").json()
    assert (done["status"], done["points"]) == ("confirmed", 10)
    assert balance(sessions, str(resident_id)) == 10


def test_no_photo_is_422_and_nothing_written(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    resident = resident_headers(client, city)
    for photo, status in ((None, 422), (b"\x00", 415)):  # none; not a photo at all
        r = report(client, resident, city, photo=photo)
        assert r.status_code == status, r.text
    assert report(client, resident, city, photo=None).json()["code"] == (
        "community.hazard_photo_missing"
    )
    assert count(sessions, HazardReport) == 0


def test_photo_far_from_the_claimed_place_is_422_and_nothing_written(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    resident = resident_headers(client, city)
    far_photo = jpeg(*north(2000))
    r = report(client, resident, city, photo=far_photo)
    assert (r.status_code, r.json()["code"]) == (422, "community.hazard_photo_far")
    assert "2000" in r.json()["detail"] or "1999" in r.json()["detail"]
    half = report(client, resident, city, where=(WEST_LAKE[0], 200.0))
    assert half.status_code == 422
    assert count(sessions, HazardReport) == 0


def test_without_a_position_the_photo_gives_it(client: TestClient, city: City) -> None:
    resident = resident_headers(client, city)
    r = report(client, resident, city, where=None, photo=jpeg(*north(20)))
    assert r.status_code == 201
    assert r.json()["lat"] == pytest.approx(north(20)[0], abs=1e-4)


def test_out_of_scope_staff_get_404_before_existence(client: TestClient, city: City) -> None:
    resident = resident_headers(client, city)
    rid = report(client, resident, city).json()["id"]
    for who in ("env_officer", "reviewer", "mz_reviewer"):
        headers = login(client, who)
        assert client.get(f"{API}/{rid}", headers=headers).status_code == 404
        assert client.get(f"{API}/{rid}/photo", headers=headers).status_code == 404
        r = client.post(f"{API}/{rid}/decision", json={"decision": "confirm"}, headers=headers)
        assert r.status_code == 404
        unknown = client.get(f"{API}/{uuid.uuid4()}", headers=headers)
        assert unknown.json()["code"] == r.json()["code"]  # the same answer: nothing leaks
    assert (
        client.get(f"{API}/{rid}/photo", headers=login(client, "police_officer")).status_code == 200
    )
    assert client.get(f"{API}/{rid}", headers=login(client, "admin")).status_code == 200
    # A resident is not staff.
    assert client.get(f"{API}/{rid}", headers=resident).status_code == 403


def test_export_holds_the_reports_and_deletion_erases_text_place_and_photo(
    client: TestClient, city: City, sessions: sessionmaker[Session], settings: Settings
) -> None:
    resident = resident_headers(client, city)
    rid = report(client, resident, city).json()["id"]
    exported = client.get("/api/v1/me/data", headers=resident).json()
    assert [r["id"] for r in exported["hazard_reports"]] == [rid]
    with transaction(sessions) as s:
        row = s.get(HazardReport, uuid.UUID(rid))
        assert row is not None
        photo = settings.uploads_dir / row.photo_path
    assert photo.exists()
    assert client.post("/api/v1/me/deletion", headers=resident).status_code in (200, 201, 202)
    admin = login(client, "admin")
    (pending,) = client.get("/api/v1/deletions", headers=admin).json()
    assert client.post(f"/api/v1/deletions/{pending['id']}/erase", headers=admin).status_code == 200
    with transaction(sessions) as s:
        row = s.get(HazardReport, uuid.UUID(rid))
        assert row is not None
        assert (row.description, row.lat, row.photo_path, row.photo_lat) == ("", None, "", None)
        assert row.address == "保俶路 12 号路口"  # the hazard's place stays with the department
    assert not photo.exists()
    police = login(client, "police_officer")
    assert client.get(f"{API}/{rid}/photo", headers=police).status_code == 404
