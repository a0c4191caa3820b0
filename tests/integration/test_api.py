"""The JSON API: registration, sign-in, bad input, idempotency, evidence, offline records."""

from __future__ import annotations

import io
import itertools
import random
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.activities.models import Participation
from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.identity.models import Resident
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.scoring.rules import DEFAULT_RULE_SET
from civicpoints.scoring.schemas import rule_set_to_dict

from .conftest import WEST_LAKE, id_number

PASSWORD = "Hangzhou#2026"


def login(
    client: httpx.Client, username: str, password: str = DEMO_STAFF_PASSWORD
) -> dict[str, str]:
    """Bearer headers for a user."""
    r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def register(client: httpx.Client, city: City, n: int = 1, **over: object) -> httpx.Response:
    """Register a resident through the API; returns the response."""
    body = {
        "name": "张秀英",
        "id_number": id_number(n),
        "phone": f"1380000{n:04d}",
        "password": PASSWORD,
        "community_id": str(city.communities[0].id),
        "consent": True,
    }
    body.update(over)
    return client.post("/api/v1/residents", json=body)


def resident_headers(
    client: TestClient, city: City, n: int = 1, verify: bool = True
) -> dict[str, str]:
    """Register, sign in and verify a resident."""
    assert register(client, city, n).status_code == 201
    headers = login(client, f"1380000{n:04d}", PASSWORD)
    if verify:
        assert client.post("/api/v1/me/verification", json={}, headers=headers).status_code == 200
    return headers


def activity_body(city: City, **over: object) -> dict[str, Any]:
    """The JSON of an activity running now at West Lake."""
    start = utcnow() - timedelta(minutes=10)
    body = {
        "organization_id": str(city.committees[0].id),
        "region_id": str(city.communities[0].id),
        "title": "河道清理",
        "category": "volunteer_service",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "place_name": "西湖断桥",
        "geofence": {"type": "circle", "lat": WEST_LAKE[0], "lon": WEST_LAKE[1], "radius_m": 200},
        "capacity": 10,
    }
    body.update(over)
    return body


def create_activity(
    client: httpx.Client,
    city: City,
    headers: dict[str, str] | None = None,
    staff: str = "organizer",
    **over: object,
) -> str:
    """An activity running now at West Lake, by `staff` (signed in unless `headers` given)."""
    body = activity_body(city, **over)
    r = client.post("/api/v1/activities", json=body, headers=headers or login(client, staff))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def no_presence_minimum(client: TestClient) -> None:
    """A city-wide rule set from today that asks no minimum stay, so that a check-out right
    after the check-in (all an API test can do) is paid as usual."""
    rules = rule_set_to_dict(DEFAULT_RULE_SET) | {
        "presence": {
            "per_hour_percent": 0,
            "per_participation_minutes": 0,
            "per_participation_percent": 0,
        }
    }
    body = {"effective_from": local_date(utcnow()).isoformat(), "rules": rules}
    r = client.post("/api/v1/rules", json=body, headers=login(client, "admin"))
    assert r.status_code == 201, r.text


def count(sessions: sessionmaker[Session], model: type) -> int:
    """Rows in a table."""
    with transaction(sessions) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


_SCENES = itertools.count(1)


def scene(width: int = 64, height: int = 48) -> Image.Image:
    """A picture of its own on every call (random blocks): no two photos a test uploads look
    alike to the near-duplicate check, as no two real photos do."""
    rng = random.Random(next(_SCENES))
    img = Image.new("RGB", (width, height), (30, 120, 60))
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x, y = rng.randrange(width), rng.randrange(height)
        box = (x, y, x + rng.randrange(8, width), y + rng.randrange(8, height))
        draw.rectangle(box, fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    return img


def jpeg(lat: float | None = None, lon: float | None = None) -> bytes:
    """A small JPEG of its own scene, with EXIF GPS when given."""
    img, exif = scene(), Image.Exif()
    if lat is not None and lon is not None:

        def dms(v: float) -> tuple[float, float, float]:
            d = int(v)
            m = int((v - d) * 60)
            return (float(d), float(m), round(((v - d) * 60 - m) * 60, 4))

        exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_register_sign_in_and_me_masks_identifiers(client: TestClient, city: City) -> None:
    """A registered resident sees their masked ID and phone, and a platform number."""
    r = register(client, city)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id_masked"] == id_number(1)[:6] + "********" + id_number(1)[-4:]
    assert body["phone_masked"] == "138****0001" and body["public_no"].startswith("CP")
    assert body["sex"] == "F" and body["birth_date"] == "1958-03-15"
    me = client.get("/api/v1/me", headers=login(client, "13800000001", PASSWORD)).json()
    assert me["id"] == body["id"] and me["verification"] == "unverified"
    assert id_number(1) not in r.text and "13800000001" not in r.text


@pytest.mark.parametrize(
    ("override", "field", "code"),
    [
        (
            {"id_number": id_number(1)[:-1] + ("0" if id_number(1)[-1] != "0" else "1")},
            "id_number",
            "identity.invalid_id_number",
        ),
        ({"phone": "1380000000"}, "phone", "identity.invalid_phone"),
        ({"consent": False}, "consent", "identity.consent_required"),
        ({"community_id": str(uuid.uuid4())}, "community_id", "regions.not_found"),
        ({"password": "12345678"}, "password", "identity.weak_password"),
    ],
)
def test_bad_registration_is_refused_naming_the_field(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    override: dict,
    field: str,
    code: str,
) -> None:
    """Each bad input → 4xx problem+json naming the field, nothing written."""
    r = register(client, city, **override)
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (r.json()["field"], r.json()["code"]) == (field, code)
    assert r.json()["messages"]["zh-CN"] and r.json()["messages"]["en"]
    assert count(sessions, Resident) == 0


def test_duplicate_id_number_is_409_without_saying_whose(client: TestClient, city: City) -> None:
    """A second registration of the same ID number is refused and reveals nothing."""
    first = register(client, city, n=1).json()
    r = register(client, city, n=2, id_number=id_number(1))
    assert r.status_code == 409 and r.json()["code"] == "identity.duplicate_id_number"
    assert first["name"] not in r.text and first["public_no"] not in r.text


def test_coordinates_out_of_range_and_unknown_activity(client: TestClient, city: City) -> None:
    """Latitude 91 and an unknown activity are named 4xx problems."""
    headers = resident_headers(client, city)
    activity = create_activity(client, city)
    r = client.post(
        f"/api/v1/activities/{activity}/checkin", json={"lat": 91, "lon": 120}, headers=headers
    )
    assert r.status_code == 422 and r.json()["field"] == "lat"
    r = client.post(f"/api/v1/activities/{uuid.uuid4()}/enrollments", headers=headers)
    assert r.status_code == 404 and r.json()["code"] == "activities.not_found"


def test_checkout_retried_with_same_key_credits_once(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    """A check-out retried with the same Idempotency-Key returns the first result, credits once."""
    no_presence_minimum(client)
    headers = resident_headers(client, city)
    activity = create_activity(client, city, category="environmental", evidence="photo_gps")
    assert (
        client.post(f"/api/v1/activities/{activity}/enrollments", headers=headers).status_code
        == 201
    )
    pos = {"lat": WEST_LAKE[0], "lon": WEST_LAKE[1]}
    rec = client.post(f"/api/v1/activities/{activity}/checkin", json=pos, headers=headers).json()
    photo = {"photo": ("p.jpg", jpeg(*WEST_LAKE), "image/jpeg")}
    assert (
        client.post(
            f"/api/v1/participations/{rec['id']}/evidence", files=photo, headers=headers
        ).status_code
        == 201
    )
    keyed = {**headers, "Idempotency-Key": "checkout-1"}
    first = client.post(f"/api/v1/activities/{activity}/checkout", json=pos, headers=keyed)
    again = client.post(f"/api/v1/activities/{activity}/checkout", json=pos, headers=keyed)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and again.headers.get("Idempotent-Replayed") == "true"
    other = client.post(
        f"/api/v1/activities/{activity}/checkout",
        json={"lat": WEST_LAKE[0], "lon": WEST_LAKE[1] + 0.0001},
        headers=keyed,
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency.conflict"
    points = client.get("/api/v1/me/points", headers=headers).json()
    ledger = client.get("/api/v1/me/ledger", headers=headers).json()
    assert len(ledger) == 1 and points["balance"] == ledger[0]["amount"] == 50
    assert first.json()["points"]["awarded"] == 50


def test_environmental_action_needs_photo_and_geofence(client: TestClient, city: City) -> None:
    """Environmental: no photo → no points and a reason; photo on site → 50."""
    no_presence_minimum(client)
    headers = resident_headers(client, city)
    activity = create_activity(client, city, category="environmental", evidence="photo_gps")
    client.post(f"/api/v1/activities/{activity}/enrollments", headers=headers)
    far = client.post(
        f"/api/v1/activities/{activity}/checkin",
        json={"lat": WEST_LAKE[0] + 0.05, "lon": WEST_LAKE[1]},
        headers=headers,
    )
    assert far.status_code == 422 and far.json()["code"] == "activities.outside_geofence"
    pos = {"lat": WEST_LAKE[0], "lon": WEST_LAKE[1]}
    rec = client.post(f"/api/v1/activities/{activity}/checkin", json=pos, headers=headers).json()
    out = client.post(f"/api/v1/activities/{activity}/checkout", json=pos, headers=headers).json()
    assert out["status"] == "awaiting_evidence" and out["points"] is None
    assert "照片" in out["message"]["zh-CN"] and "photo" in out["message"]["en"]
    assert client.get("/api/v1/me/points", headers=headers).json()["balance"] == 0
    up = client.post(
        f"/api/v1/participations/{rec['id']}/evidence",
        files={"photo": ("p.jpg", jpeg(*WEST_LAKE), "image/jpeg")},
        headers=headers,
    )
    assert up.status_code == 201, up.text
    assert up.json()["points"]["awarded"] == 50
    assert client.get("/api/v1/me/points", headers=headers).json()["balance"] == 50


def test_bad_photos_are_refused_and_nothing_stored(
    client: TestClient, city: City, settings: Settings
) -> None:
    """A 20 MB upload and a text file called .jpg → 413/415 naming `photo`."""
    headers = resident_headers(client, city)
    activity = create_activity(client, city, category="environmental", evidence="photo_gps")
    client.post(f"/api/v1/activities/{activity}/enrollments", headers=headers)
    pos = {"lat": WEST_LAKE[0], "lon": WEST_LAKE[1]}
    rec = client.post(f"/api/v1/activities/{activity}/checkin", json=pos, headers=headers).json()
    big = client.post(
        f"/api/v1/participations/{rec['id']}/evidence",
        files={"photo": ("big.jpg", b"\xff\xd8" + b"0" * 20_000_000, "image/jpeg")},
        headers=headers,
    )
    assert big.status_code == 413 and big.json()["field"] == "photo"
    fake = client.post(
        f"/api/v1/participations/{rec['id']}/evidence",
        files={"photo": ("x.jpg", b"hello, not a picture", "image/jpeg")},
        headers=headers,
    )
    assert fake.status_code == 415 and fake.json()["field"] == "photo"
    assert not settings.uploads_dir.exists() or not any(settings.uploads_dir.rglob("*.*"))


def test_offline_record_waits_for_review_then_awards(client: TestClient, city: City) -> None:
    """A paper slip: pending review → approved by a reviewer → points and hours."""
    headers = resident_headers(client, city)
    start = utcnow() - timedelta(hours=3)  # a slip records a session that is over
    activity = create_activity(
        client, city, starts_at=start.isoformat(), ends_at=(start + timedelta(hours=2)).isoformat()
    )
    slip = {
        "resident": "13800000001",
        "activity_id": activity,
        "slip_no": "HZ-0001",
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(hours=1.5)).isoformat(),
    }
    organizer = login(client, "organizer")
    rec = client.post("/api/v1/participations", json=slip, headers=organizer)
    assert rec.status_code == 201 and rec.json()["status"] == "pending_review"
    dup = client.post("/api/v1/participations", json=slip, headers=organizer)
    assert dup.status_code == 409 and dup.json()["field"] == "slip_no"
    reviewer = login(client, "reviewer")
    queue = client.get("/api/v1/reviews", headers=reviewer).json()
    assert [q["id"] for q in queue] == [rec.json()["id"]]
    decided = client.post(
        f"/api/v1/reviews/{rec.json()['id']}/decision",
        json={"decision": "approve", "reason": "纸质单据核对无误"},
        headers=reviewer,
    )
    assert decided.status_code == 200 and decided.json()["points"]["awarded"] == 15
    assert client.get("/api/v1/me/hours", headers=headers).json()["total_minutes"] == 90


def test_csv_import_with_a_bad_row_writes_nothing_and_names_it(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    """A bad row → 422 naming row and field, nothing written; the fixed file imports once."""
    resident_headers(client, city)
    activity = create_activity(
        client, city, starts_at="2026-05-01T09:00:00+08:00", ends_at="2026-05-01T11:00:00+08:00"
    )
    good = f"S-1,13800000001,{activity},2026-05-01 09:00,2026-05-01 11:00,ok\n"
    head = "slip_no,resident,activity_id,started_at,ended_at,note\n"
    bad = (
        f"S-2,13800000001,{activity},2026-05-01 11:00,2026-05-01 09:00,end before start\n"
        f"S-3,19999999999,{activity},2026-05-01 09:00,2026-05-01 11:00,unknown resident\n"
    )
    organizer = login(client, "organizer")

    def upload(text: str, **params: str) -> Any:
        files = {"file": ("slips.csv", text.encode(), "text/csv")}
        return client.post(
            "/api/v1/participations/import", files=files, params=params, headers=organizer
        )

    r = upload(head + good + bad)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert (
        r.json()["code"] == "activities.import_rejected" and r.json()["field"] == "line 3: ended_at"
    )
    assert [(e["line"], e["field"]) for e in r.json()["errors"]] == [
        (3, "ended_at"),
        (4, "resident"),
    ]
    assert count(sessions, Participation) == 0
    partial = upload(head + good + bad, partial="true").json()
    assert (partial["created"], partial["errors"]) == (1, 2)
    again = upload(head + good).json()
    assert (again["created"], again["duplicates"]) == (0, 1)
    assert count(sessions, Participation) == 1


def test_activities_list_paginates(client: TestClient, city: City) -> None:
    """`limit` and `cursor` walk the whole list once."""
    made = {create_activity(client, city, title=f"活动{i}") for i in range(5)}
    seen, cursor = [], None
    while True:
        page = client.get(
            "/api/v1/activities", params={"limit": 2, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [a["id"] for a in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert set(seen) == made and len(seen) == 5
    assert client.get("/api/v1/activities", params={"cursor": "@@"}).status_code == 422


def test_draft_is_hidden_until_published_and_cancel_is_final(
    client: TestClient, city: City
) -> None:
    """A draft is not listed; publishing lists it; a cancelled activity cannot be re-published."""
    draft = create_activity(client, city, publish=False)
    listed = lambda: [a["id"] for a in client.get("/api/v1/activities").json()["items"]]  # noqa: E731
    assert draft not in listed()
    organizer = login(client, "organizer")
    assert client.post(f"/api/v1/activities/{draft}/publish", headers=organizer).status_code == 200
    assert draft in listed()
    assert client.post(f"/api/v1/activities/{draft}/cancel", headers=organizer).status_code == 200
    again = client.post(f"/api/v1/activities/{draft}/publish", headers=organizer)
    assert again.status_code == 409 and draft not in listed()
    stranger = login(client, "env_officer")
    assert client.post(f"/api/v1/activities/{draft}/cancel", headers=stranger).status_code == 403


def test_upcoming_lists_only_activities_not_yet_ended(client: TestClient, city: City) -> None:
    """`upcoming=true` hides what has ended, so residents see what they can still join."""
    ended_start = utcnow() - timedelta(days=3)
    ended = create_activity(
        client,
        city,
        starts_at=ended_start.isoformat(),
        ends_at=(ended_start + timedelta(hours=2)).isoformat(),
    )
    running = create_activity(client, city)
    upcoming = [a["id"] for a in client.get("/api/v1/activities?upcoming=true").json()["items"]]
    everything = [a["id"] for a in client.get("/api/v1/activities").json()["items"]]
    assert running in upcoming and ended not in upcoming and ended in everything


def test_rule_sets_need_an_admin_covering_their_region(client: TestClient, city: City) -> None:
    """The city admin adds a city-wide version; an organizer may not; bad rules name the field."""
    body: dict[str, Any] = {
        "effective_from": local_date(utcnow()).isoformat(),
        "note": "2027 年度标准",
        "rules": {
            "categories": {"volunteer_service": {"mode": "per_hour", "points": 12}},
            "monthly_cap": 600,
            "expiry_months": 24,
        },
    }
    admin, organizer = login(client, "admin"), login(client, "organizer")
    assert client.post("/api/v1/rules", json=body, headers=organizer).status_code == 403
    created = client.post("/api/v1/rules", json=body, headers=admin)
    assert created.status_code == 201 and created.json()["rules"]["monthly_cap"] == 600
    bad = {**body, "rules": {**body["rules"], "expiry_months": 0}}
    r = client.post("/api/v1/rules", json=bad, headers=admin)
    assert r.status_code == 422 and r.json()["field"] == "expiry_months"
    versions = client.get("/api/v1/rules", headers=admin).json()["versions"]
    assert [x["id"] for x in versions] == [created.json()["id"]]


def test_api_docs_work_without_internet(client: TestClient) -> None:
    """/docs loads Swagger UI from the package, never from a CDN (closed government network)."""
    html = client.get("/docs").text
    assert "cdn" not in html.lower() and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    js = client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000
    assert client.get("/openapi.json").json()["info"]["title"].startswith("CivicPoints")
