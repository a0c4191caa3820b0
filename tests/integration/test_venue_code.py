"""The rotating venue code (签到码) end to end: each activity's secret, the organizer's code,
and a check-in that gives it (issue 10). On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.activities.models import Activity, Participation
from civicpoints.activities.records import Phone
from civicpoints.cli.city import City
from civicpoints.fraud import venue_code
from civicpoints.identity.models import Resident
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.migrate import downgrade, upgrade

from .conftest import WEST_LAKE
from .test_api import create_activity, login, resident_headers
from .test_fraud_signals_wired import check_in, check_out

Maker = Callable[..., uuid.UUID]
START = datetime(2026, 11, 10, 1, 0, tzinfo=UTC)  # 09:00 Beijing time
STEP = 30  # the default step (settings.venue_code_step_s)
HERE = {"lat": WEST_LAKE[0], "lon": WEST_LAKE[1]}


def secret_of(sessions: sessionmaker[Session], activity_id: uuid.UUID | str) -> bytes:
    with transaction(sessions) as s:
        activity = s.get(Activity, uuid.UUID(str(activity_id)))
        assert activity is not None
        return bytes(activity.venue_secret)


def records(sessions: sessionmaker[Session]) -> int:
    with transaction(sessions) as s:
        return int(s.scalar(select(func.count()).select_from(Participation)) or 0)


# -- the secret ----------------------------------------------------------------------------


def test_every_activity_gets_its_own_32_byte_secret(
    sessions: sessionmaker[Session], make_activity: Maker
) -> None:
    secrets = {secret_of(sessions, make_activity(START)) for _ in range(3)}
    assert len(secrets) == 3 and all(len(s) == 32 for s in secrets)


def test_existing_activities_get_a_secret_in_the_migration(
    db_url: str, sessions: sessionmaker[Session], make_activity: Maker
) -> None:
    """Activities made before the secret existed: down to 0017 and up again, each has one."""
    ids = [make_activity(START + timedelta(days=d)) for d in range(3)]
    downgrade(db_url, "0017")
    upgrade(db_url)
    secrets = [secret_of(sessions, a) for a in ids]
    assert len(set(secrets)) == 3 and all(len(s) == 32 for s in secrets)


# -- check-in with the code (the service) -------------------------------------------------


def test_the_right_code_is_strong_presence_evidence_and_lowers_the_risk(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable[..., Resident],
    make_activity: Maker,
) -> None:
    """Two residents stay ten minutes of a two-hour session (presence_too_short, 40): the one
    who typed the code on the screen is approved (risk 10), the other waits for review."""
    with_code, without = make_resident("王芳"), make_resident("李建国")
    activity = make_activity(START)
    code = venue_code(secret_of(sessions, activity), START, STEP)
    record = check_in(
        sessions, ctx, activity, with_code.id, WEST_LAKE, START, Phone(venue_code=code)
    )
    assert "venue_code_ok" in record.flags
    assert "签到码" in record.flag_notes["venue_code_ok"]["zh-CN"]
    check_in(sessions, ctx, activity, without.id, WEST_LAKE, START)
    later = START + timedelta(minutes=10)
    mine = check_out(sessions, ctx, activity, with_code.id, WEST_LAKE, later)
    theirs = check_out(sessions, ctx, activity, without.id, WEST_LAKE, later)
    assert {"presence_too_short", "venue_code_ok"} <= set(mine.flags)
    assert (mine.risk, mine.status) == (10, "approved")
    assert (theirs.risk, theirs.status) == (40, "pending_review")


def test_the_previous_steps_code_still_counts_but_not_an_older_one(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable[..., Resident],
    make_activity: Maker,
) -> None:
    """A code read just before the screen turned counts; one two steps old does not."""
    late, stale = make_resident("刚换码"), make_resident("旧码")
    activity = make_activity(START)
    secret = secret_of(sessions, activity)
    at = START + timedelta(minutes=5)
    just_turned = venue_code(secret, at - timedelta(seconds=STEP), STEP)
    two_ago = venue_code(secret, at - timedelta(seconds=2 * STEP), STEP)
    assert just_turned != two_ago
    ok = check_in(sessions, ctx, activity, late.id, WEST_LAKE, at, Phone(venue_code=just_turned))
    no = check_in(sessions, ctx, activity, stale.id, WEST_LAKE, at, Phone(venue_code=two_ago))
    assert "venue_code_ok" in ok.flags and "venue_code_ok" not in no.flags
    assert no.status == "checked_in"


def test_another_activitys_code_does_not_count(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable[..., Resident],
    make_activity: Maker,
) -> None:
    resident = make_resident("隔壁码")
    here, there = make_activity(START), make_activity(START)
    code = venue_code(secret_of(sessions, there), START, STEP)
    record = check_in(sessions, ctx, here, resident.id, WEST_LAKE, START, Phone(venue_code=code))
    assert "venue_code_ok" not in record.flags


# -- the API -------------------------------------------------------------------------------


def test_organizer_reads_the_code_and_a_resident_checks_in_with_it(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    headers = resident_headers(client, city)
    activity = create_activity(client, city)
    shown = client.get(
        f"/api/v1/activities/{activity}/venue-code", headers=login(client, "organizer")
    )
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["state"] == "open" and body["step_s"] == STEP
    assert len(body["code"]) == 6 and body["code"].isdigit()
    assert 0 < body["seconds_left"] <= STEP
    assert shown.headers["cache-control"] == "no-store"
    assert (
        client.post(f"/api/v1/activities/{activity}/enrollments", headers=headers).status_code
        == 201
    )
    r = client.post(
        f"/api/v1/activities/{activity}/checkin",
        json={**HERE, "venue_code": body["code"][:3] + " " + body["code"][3:]},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert "venue_code_ok" in r.json()["flags"] and r.json()["venue_code_matched"] is True
    assert "签到码正确" in r.json()["message"]["zh-CN"]


def test_a_wrong_code_checks_in_all_the_same_and_says_so(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    headers = resident_headers(client, city)
    activity = create_activity(client, city)
    client.post(f"/api/v1/activities/{activity}/enrollments", headers=headers)
    code = venue_code(secret_of(sessions, activity), datetime.now(UTC), STEP)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    r = client.post(
        f"/api/v1/activities/{activity}/checkin",
        json={**HERE, "venue_code": wrong},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["status"] == "checked_in" and out["flags"] == []
    assert out["venue_code_matched"] is False
    assert "签到码与现场屏幕上的不一致" in out["message"]["zh-CN"]
    assert "ask the organizer" in out["message"]["en"]


def test_no_code_is_no_claim_either_way(client: TestClient, city: City) -> None:
    headers = resident_headers(client, city)
    activity = create_activity(client, city)
    client.post(f"/api/v1/activities/{activity}/enrollments", headers=headers)
    r = client.post(
        f"/api/v1/activities/{activity}/checkin", json={**HERE, "venue_code": "  "}, headers=headers
    )
    assert r.status_code == 201 and r.json()["venue_code_matched"] is None
    assert "签到码" not in r.json()["message"]["zh-CN"]


def test_a_malformed_code_is_a_422_naming_it_and_writes_nothing(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    headers = resident_headers(client, city)
    activity = create_activity(client, city)
    client.post(f"/api/v1/activities/{activity}/enrollments", headers=headers)
    said = {}
    for bad in ("12a456", "1234567890123", 123456):
        r = client.post(
            f"/api/v1/activities/{activity}/checkin",
            json={**HERE, "venue_code": bad},
            headers=headers,
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "validation_error" and r.json()["field"] == "venue_code"
        said[bad] = r.json()["messages"]["zh-CN"]
    assert records(sessions) == 0
    assert "签到码只能填写数字" in said["12a456"]
    assert "最多 12 个字" in said["1234567890123"] and "须为文字" in said[123456]


def test_the_code_is_only_for_staff_who_organise_the_activity(
    client: TestClient, city: City
) -> None:
    """Out of scope reads as unknown (404 either way); a resident is refused outright."""
    activity = create_activity(client, city)
    unknown = uuid.uuid4()
    for username in ("env_officer", "reviewer"):  # an organizer elsewhere; not an organizer
        headers = login(client, username)
        for target in (activity, unknown):
            r = client.get(f"/api/v1/activities/{target}/venue-code", headers=headers)
            assert r.status_code == 404, (username, r.text)
            assert r.json()["code"] == "activities.not_found"
    r = client.get(
        f"/api/v1/activities/{activity}/venue-code", headers=resident_headers(client, city)
    )
    assert r.status_code == 403
    assert client.get(f"/api/v1/activities/{activity}/venue-code").status_code == 401
    r = client.get(f"/api/v1/activities/{activity}/venue-code", headers=login(client, "admin"))
    assert r.status_code == 200 and r.json()["code"]


def test_outside_the_check_in_window_there_is_no_code(client: TestClient, city: City) -> None:
    organizer = login(client, "organizer")
    soon = datetime.now(UTC) + timedelta(days=1)
    later = create_activity(
        client,
        city,
        starts_at=soon.isoformat(),
        ends_at=(soon + timedelta(hours=2)).isoformat(),
    )
    r = client.get(f"/api/v1/activities/{later}/venue-code", headers=organizer).json()
    assert r["state"] == "not_yet" and r["code"] is None and r["seconds_left"] is None
    past = datetime.now(UTC) - timedelta(days=1)
    over = create_activity(
        client,
        city,
        starts_at=past.isoformat(),
        ends_at=(past + timedelta(hours=2)).isoformat(),
    )
    r = client.get(f"/api/v1/activities/{over}/venue-code", headers=organizer).json()
    assert r["state"] == "over" and r["code"] is None
    running = create_activity(client, city)
    client.post(f"/api/v1/activities/{running}/cancel", headers=organizer)
    r = client.get(f"/api/v1/activities/{running}/venue-code", headers=organizer).json()
    assert r["state"] == "cancelled" and r["code"] is None


def test_the_secret_never_leaves_the_server(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    organizer = login(client, "organizer")
    created = client.post(
        "/api/v1/activities",
        json={
            "organization_id": str(city.committees[0].id),
            "region_id": str(city.communities[0].id),
            "title": "秘密不外传",
            "category": "volunteer_service",
            "starts_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
            "ends_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "place_name": "西湖断桥",
            "geofence": {
                "type": "circle",
                "lat": WEST_LAKE[0],
                "lon": WEST_LAKE[1],
                "radius_m": 200,
            },
            "capacity": 10,
        },
        headers=organizer,
    )
    activity = created.json()["id"]
    secret = secret_of(sessions, activity)
    headers = resident_headers(client, city)
    client.post(f"/api/v1/activities/{activity}/enrollments", headers=headers)
    answers = [
        created,
        client.get(f"/api/v1/activities/{activity}"),
        client.get("/api/v1/activities"),
        client.get(f"/api/v1/activities/{activity}/venue-code", headers=organizer),
        client.post(f"/api/v1/activities/{activity}/checkin", json=HERE, headers=headers),
        client.get("/api/v1/me/participations", headers=headers),
        client.get("/openapi.json"),
    ]
    forms = (
        secret.hex(),
        base64.b64encode(secret).decode(),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
    )
    for r in answers:
        assert r.status_code < 400, r.text
        assert "venue_secret" not in r.text and "secret" not in r.text.lower()
        assert not any(f in r.text for f in forms)
