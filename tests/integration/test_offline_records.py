"""Paper slips entered by staff: their times, their evidence, and whose slip number is whose."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Role
from civicpoints.activities.models import Evidence, Participation
from civicpoints.activities.spans import OFFLINE_SLACK
from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.identity import passwords
from civicpoints.identity.service import IdentityService
from civicpoints.kit.clock import BUSINESS_TZ, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings

from .conftest import WEST_LAKE
from .test_api import count, create_activity, jpeg, login, resident_headers

PHONE = "13800000001"  # the resident resident_headers registers
PAST = datetime(2026, 11, 2, 9, 0, tzinfo=BUSINESS_TZ)  # a month before the tests' clock
Maker = Callable[..., uuid.UUID]


def slip(activity: uuid.UUID | str, start: datetime, end: datetime, no: str = "HZ-1") -> dict:
    """A paper slip for the registered resident."""
    return {
        "resident": PHONE,
        "activity_id": str(activity),
        "slip_no": no,
        "started_at": start.isoformat(),
        "ended_at": end.isoformat(),
    }


def assert_span_refused(response: Any, field: str) -> None:
    """A 422 problem naming `field`, in both languages."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert (body["code"], body["field"]) == ("activities.record_span_invalid", field), body
    label_zh = {"started_at": "开始时间", "ended_at": "结束时间"}[field]
    label_en = {"started_at": "start time", "ended_at": "end time"}[field]
    assert label_zh in body["messages"]["zh-CN"] and label_en in body["messages"]["en"]


def test_slip_times_must_lie_in_the_past_inside_the_activity(
    client: TestClient, city: City, sessions: sessionmaker[Session], make_activity: Maker
) -> None:
    """Refused: 1970→2199, 30 h, longer than the session, outside its window ± 30 min, future."""
    resident_headers(client, city)
    organizer = login(client, "organizer")
    activity = make_activity(PAST, hours=2)
    years_ago = make_activity(PAST - timedelta(days=5 * 365), hours=2)
    next_week = make_activity(utcnow() + timedelta(days=6), hours=2)
    hour = timedelta(hours=1)
    minute = timedelta(minutes=1)
    refused = [
        (activity, datetime(1970, 1, 2, tzinfo=BUSINESS_TZ), datetime(2199, 12, 31), "ended_at"),
        (activity, PAST, PAST + 30 * hour, "ended_at"),
        (activity, PAST - 30 * minute, PAST + 2.5 * hour, "ended_at"),  # 3 h of a 2 h session
        (activity, PAST - 31 * minute, PAST + 2 * hour - 31 * minute, "started_at"),
        (activity, PAST + 31 * minute, PAST + 2 * hour + 31 * minute, "ended_at"),
        (activity, PAST + hour, PAST, "ended_at"),
        (years_ago, PAST, PAST + 2 * hour, "ended_at"),  # five years after the session
        (next_week, utcnow() + timedelta(days=6), utcnow() + timedelta(days=6) + hour, "ended_at"),
    ]
    for n, (target, start, end, field) in enumerate(refused):
        if end.tzinfo is None:
            end = end.replace(tzinfo=BUSINESS_TZ)
        r = client.post(
            "/api/v1/participations", json=slip(target, start, end, f"X-{n}"), headers=organizer
        )
        assert_span_refused(r, field)
    outside = client.post(
        "/api/v1/participations",
        json=slip(activity, PAST + 31 * minute, PAST + 2 * hour + 31 * minute),
        headers=organizer,
    ).json()
    assert "30 分钟" in outside["messages"]["zh-CN"] and "30 minutes" in outside["messages"]["en"]
    assert count(sessions, Participation) == 0
    # The widest slip allowed: 30 minutes early, as long as the session, and paid as such.
    ok = client.post(
        "/api/v1/participations",
        json=slip(activity, PAST - OFFLINE_SLACK, PAST + 2 * hour - OFFLINE_SLACK),
        headers=organizer,
    )
    assert ok.status_code == 201, ok.text
    decided = client.post(
        f"/api/v1/reviews/{ok.json()['id']}/decision",
        json={"decision": "approve", "reason": "核对无误"},
        headers=login(client, "reviewer"),
    )
    assert decided.status_code == 200 and decided.json()["points"]["awarded"] == 20


def test_csv_rows_share_the_same_span_check(
    client: TestClient, city: City, sessions: sessionmaker[Session], make_activity: Maker
) -> None:
    """The import refuses a 3-hour row on a 2-hour session, naming its line and field."""
    resident_headers(client, city)
    first, second = make_activity(PAST, hours=2), make_activity(PAST + timedelta(days=1))
    text = (
        "slip_no,resident,activity_id,started_at,ended_at\n"
        f"C-1,{PHONE},{first},2026-11-02 09:00,2026-11-02 11:00\n"
        f"C-2,{PHONE},{second},2026-11-03 08:30,2026-11-03 11:30\n"
    )
    files = {"file": ("slips.csv", text.encode(), "text/csv")}
    r = client.post(
        "/api/v1/participations/import", files=files, headers=login(client, "organizer")
    )
    assert r.status_code == 422, r.text
    assert [(e["line"], e["field"]) for e in r.json()["errors"]] == [(3, "ended_at")]
    assert "30 分钟" not in r.json()["errors"][0]["message_zh"]  # it is too long, not outside
    assert count(sessions, Participation) == 0


def test_a_pending_slip_with_an_impossible_span_cannot_be_approved(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    ctx: Context,
    make_activity: Maker,
) -> None:
    """A 30-hour slip entered before the check existed: approval is refused, nothing paid."""
    resident_headers(client, city)
    activity = make_activity(PAST, hours=2)
    with transaction(sessions) as s:
        resident_id = IdentityService(s, ctx).find_resident(PHONE).id  # type: ignore[union-attr]
        record = Participation(
            activity_id=activity,
            resident_id=resident_id,
            source="offline",
            status="pending_review",
            started_at=PAST,
            ended_at=PAST + timedelta(hours=30),
            slip_no="OLD-1",
            organization_id=city.committees[0].id,
            flags=[],
        )
        s.add(record)
        s.flush()
        record_id = record.id
    r = client.post(
        f"/api/v1/reviews/{record_id}/decision",
        json={"decision": "approve", "reason": "ok"},
        headers=login(client, "reviewer"),
    )
    assert_span_refused(r, "ended_at")
    headers = login(client, PHONE, "Hangzhou#2026")
    assert client.get("/api/v1/me/points", headers=headers).json()["balance"] == 0
    assert client.get("/api/v1/me/hours", headers=headers).json()["total_minutes"] == 0


def test_no_evidence_once_a_record_is_decided(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    settings: Settings,
    make_activity: Maker,
) -> None:
    """After approval or rejection a photo is refused with 409 and nothing is stored."""
    headers = resident_headers(client, city)
    organizer, reviewer = login(client, "organizer"), login(client, "reviewer")
    for n, decision in enumerate(("approve", "reject")):
        start = PAST + timedelta(days=n)
        activity = make_activity(start, hours=2)
        body = slip(activity, start, start + timedelta(hours=2), f"E-{n}")
        rec = client.post("/api/v1/participations", json=body, headers=organizer).json()
        decided = client.post(
            f"/api/v1/reviews/{rec['id']}/decision",
            json={"decision": decision, "reason": "核对 / checked"},
            headers=reviewer,
        )
        assert decided.status_code == 200, decided.text
        up = client.post(
            f"/api/v1/participations/{rec['id']}/evidence",
            files={"photo": ("p.jpg", jpeg(*WEST_LAKE), "image/jpeg")},
            headers=headers,
        )
        assert up.status_code == 409, up.text
        assert up.headers["content-type"].startswith("application/problem+json")
        assert up.json()["code"] == "activities.record_decided"
        assert up.json()["messages"]["zh-CN"] and up.json()["messages"]["en"]
    assert count(sessions, Evidence) == 0
    assert not settings.uploads_dir.exists() or not any(settings.uploads_dir.rglob("*.*"))


def _other_district_organizer(sessions: sessionmaker[Session], ctx: Context, city: City) -> None:
    """`organizer_sc`: an organizer of Qingbo Street, in Shangcheng District."""
    with transaction(sessions) as s:
        identity = IdentityService(s, ctx)
        digest = passwords.hash_password(DEMO_STAFF_PASSWORD)
        member = identity.add_staff("organizer_sc", "清波街道社工", None, password_hash=digest)
        identity.grant(member, Role.ORGANIZER, region_id=city.streets[4].id)


def _activity_in(client: TestClient, city: City, community: int, staff: str) -> str:
    """A finished 2-hour session in community `community`, created by `staff`."""
    return create_activity(
        client,
        city,
        staff=staff,
        organization_id=str(city.committees[community].id),
        region_id=str(city.communities[community].id),
        starts_at=PAST.isoformat(),
        ends_at=(PAST + timedelta(hours=2)).isoformat(),
    )


def test_slip_numbers_belong_to_the_issuing_organization(
    client: TestClient, city: City, sessions: sessionmaker[Session], ctx: Context
) -> None:
    """Another district may reuse a slip number; nobody learns of a slip outside their scope."""
    resident_headers(client, city)
    _other_district_organizer(sessions, ctx, city)
    ours, ours_too = (_activity_in(client, city, 0, "organizer") for _ in range(2))
    theirs = _activity_in(client, city, 12, "organizer_sc")
    beishan, qingbo = login(client, "organizer"), login(client, "organizer_sc")
    end = PAST + timedelta(hours=2)
    first = client.post(
        "/api/v1/participations", json=slip(ours, PAST, end, "S-1"), headers=beishan
    )
    assert first.status_code == 201, first.text
    csv = f"slip_no,resident,activity_id,started_at,ended_at\nS-1,{PHONE},{theirs},{PAST},{end}\n"
    files = {"file": ("slips.csv", csv.encode(), "text/csv")}
    imported = client.post("/api/v1/participations/import", files=files, headers=qingbo)
    assert imported.status_code == 200, imported.text
    [row] = imported.json()["rows"]
    assert row["status"] == "created" and row["participation_id"] != first.json()["id"]
    # Outside the caller's scope: the same 403 whether or not the slip exists.
    for number in ("S-1", "S-404"):
        r = client.post(
            "/api/v1/participations", json=slip(ours, PAST, end, number), headers=qingbo
        )
        assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    # Inside one organization a number is used once, also on another of its activities.
    again = client.post(
        "/api/v1/participations", json=slip(ours_too, PAST, end, "S-1"), headers=beishan
    )
    assert (again.status_code, again.json()["field"]) == (409, "slip_no")
    replay = client.post("/api/v1/participations/import", files=files, headers=qingbo).json()
    assert replay["rows"][0]["status"] == "duplicate"
    assert replay["rows"][0]["participation_id"] == row["participation_id"]
    assert count(sessions, Participation) == 2
