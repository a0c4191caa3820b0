"""Presence before points (issue 8, defect 3), and the rule sets in force (GET /rules)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities.offline import OfflineService
from civicpoints.activities.photos import PhotoService
from civicpoints.activities.records import RecordService
from civicpoints.activities.schemas import OfflineRecordCreate
from civicpoints.activities.service import ActivityService
from civicpoints.activities.views import participation_view
from civicpoints.cli.city import City
from civicpoints.kit.clock import BUSINESS_TZ, local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.ledger import wallet_of
from civicpoints.ledger.service import LedgerService
from civicpoints.scoring.service import ScoringService

from .conftest import WEST_LAKE
from .test_api import jpeg, login

Maker = Callable[..., uuid.UUID]
START = datetime(2026, 7, 4, 9, tzinfo=BUSINESS_TZ)


def stay(
    sessions: sessionmaker[Session],
    ctx: Context,
    activity: uuid.UUID,
    resident: uuid.UUID,
    length: timedelta,
    photo: bytes | None = None,
) -> uuid.UUID:
    """Enrol, check in on site at the start, check out after `length`, maybe upload a photo."""
    with transaction(sessions) as s:
        ActivityService(s).enroll(activity, resident, now=START - timedelta(days=1))
        records = RecordService(s, ctx)
        record = records.check_in(activity, resident, *WEST_LAKE, now=START)
        records.check_out(activity, resident, *WEST_LAKE, now=START + length, actor="t")
        if photo is not None:
            PhotoService(s, ctx).upload(record.id, resident, photo, "t")
        return record.id


def shown(sessions: sessionmaker[Session], ctx: Context, record_id: uuid.UUID) -> dict:
    """The record as the resident and the reviewer see it."""
    with transaction(sessions) as s:
        return participation_view(s, RecordService(s, ctx).get(record_id)).model_dump()


def balance(sessions: sessionmaker[Session], resident: uuid.UUID) -> int:
    """The resident's points balance."""
    with transaction(sessions) as s:
        return LedgerService(s).balance(wallet_of(resident))


@pytest.mark.parametrize(
    ("length", "paid"),
    [
        (timedelta(seconds=0.015), False),  # the reported case: it earned 50
        (timedelta(minutes=14, seconds=59), False),
        (timedelta(minutes=15), True),
    ],
)
def test_environmental_action_needs_the_minimum_stay(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable,
    make_activity: Maker,
    length: timedelta,
    paid: bool,
) -> None:
    """A plain photo without EXIF and an on-site check-in: 15 minutes (the default for a 2-hour
    per-participation activity) earn 50; less waits for a reviewer, unpaid, saying why."""
    resident = make_resident("在场测试")
    activity = make_activity(START, hours=2, category="environmental", evidence="photo_gps")
    record = stay(sessions, ctx, activity, resident.id, length, jpeg())
    view = shown(sessions, ctx, record)
    assert balance(sessions, resident.id) == (50 if paid else 0)
    if paid:
        assert view["status"] == "approved" and view["flags"] == []
        return
    assert view["status"] == "pending_review" and "presence_too_short" in view["flags"]
    assert view["points"] is None
    stayed = int(length.total_seconds() // 60)
    assert f"在场 {stayed} 分钟，不足 15 分钟（每次参与至少 15 分钟）" in view["message"]["zh-CN"]
    assert f"present {stayed} min, less than the required 15 min" in view["message"]["en"]


def test_per_hour_stay_below_sixty_percent_waits_for_a_reviewer(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable,
    make_activity: Maker,
    staff: Callable[[str], Principal],
) -> None:
    """71 of 120 minutes is short of 60% (72 min): review, then paid on approval; 72 is paid."""
    short, enough = make_resident("时长不足"), make_resident("时长足够")
    activity = make_activity(START, hours=2)
    held = stay(sessions, ctx, activity, short.id, timedelta(minutes=71))
    paid = stay(sessions, ctx, activity, enough.id, timedelta(minutes=72))
    view = shown(sessions, ctx, held)
    assert view["status"] == "pending_review" and view["points"] is None
    assert "在场 71 分钟" in view["message"]["zh-CN"] and "72 分钟" in view["message"]["zh-CN"]
    assert "60%" in view["message"]["en"] and "72 min" in view["message"]["en"]
    assert balance(sessions, short.id) == 0
    assert shown(sessions, ctx, paid)["status"] == "approved"
    assert balance(sessions, enough.id) == 10  # 72 min → one whole hour → 10
    reviewer = staff("reviewer")
    with transaction(sessions) as s:
        OfflineService(s, ctx).decide(held, True, "临时外出送老人就医，已核实", reviewer)
    assert balance(sessions, short.id) == 10  # 71 min → one whole hour, approved by a person


@pytest.mark.parametrize(("minutes", "short"), [(30, True), (120, False)])
def test_offline_slip_shows_the_reviewer_a_short_presence(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable,
    make_activity: Maker,
    staff: Callable[[str], Principal],
    minutes: int,
    short: bool,
) -> None:
    """A paper slip of 30 minutes on a 2-hour per-hour activity: the queue says why; a slip
    of the whole session waits with the plain message only. Neither is paid before review."""
    resident = make_resident("纸质单据")
    activity = make_activity(START, hours=2)
    organizer, reviewer = staff("organizer"), staff("reviewer")
    slip = OfflineRecordCreate(
        resident=resident.public_no,
        activity_id=activity,
        started_at=START,
        ended_at=START + timedelta(minutes=minutes),
        slip_no=f"P-{uuid.uuid4().hex[:8]}",
    )
    with transaction(sessions) as s:
        record = OfflineService(s, ctx).record(slip, organizer).id
    with transaction(sessions) as s:
        queue = OfflineService(s, ctx).queue(reviewer, 50, None)
        view = participation_view(s, next(r for r in queue if r.id == record)).model_dump()
        assert ScoringService(s).award_of(record) is None
    assert view["status"] == "pending_review"
    assert ("presence_too_short" in view["flags"]) is short
    assert (f"在场 {minutes} 分钟" in view["message"]["zh-CN"]) is short
    assert (f"present {minutes} min" in view["message"]["en"]) is short


# --- GET/POST /api/v1/rules --------------------------------------------------------------


def rule_body(**rules: Any) -> dict[str, Any]:
    """A rule set request starting today (Beijing)."""
    doc = {
        "categories": {"volunteer_service": {"mode": "per_hour", "points": 12}},
        "monthly_cap": 600,
        "expiry_months": 24,
    }
    return {"effective_from": local_date(utcnow()).isoformat(), "rules": doc | rules}


def test_rules_in_force_show_the_seed_defaults(client: TestClient) -> None:
    """With no stored version, the city-wide seed defaults are in force and say so."""
    body = client.get("/api/v1/rules", headers=login(client, "organizer")).json()
    assert body["on"] == local_date(utcnow()).isoformat() and body["versions"] == []
    [city] = body["in_force"]
    assert (city["region_id"], city["source"], city["rule_set_id"]) == (None, "seed_default", None)
    rules = city["rules"]
    assert (rules["monthly_cap"], rules["expiry_months"]) == (500, 12)
    assert rules["categories"]["volunteer_service"]["points"] == 10
    assert rules["categories"]["high_risk"]["points"] == 20
    assert rules["categories"]["environmental"] == {
        "mode": "per_participation",
        "points": 50,
        "rounding_minutes": 30,
        "max_hours": None,
        "evidence": "photo_gps",
    }
    assert rules["presence"] == {
        "per_hour_percent": 60,
        "per_participation_minutes": 15,
        "per_participation_percent": 50,
    }


def test_rules_in_force_per_region(client: TestClient, city: City) -> None:
    """A street's own version shows beside the city-wide defaults; a future one does not."""
    admin = login(client, "admin")
    street = {**rule_body(), "region_id": str(city.streets[0].id)}
    created = client.post("/api/v1/rules", json=street, headers=admin)
    assert created.status_code == 201, created.text
    later = (local_date(utcnow()) + timedelta(days=30)).isoformat()
    future = {**rule_body(), "region_id": str(city.streets[1].id), "effective_from": later}
    assert client.post("/api/v1/rules", json=future, headers=admin).status_code == 201
    body = client.get("/api/v1/rules", headers=admin).json()
    assert [(e["region_id"], e["source"]) for e in body["in_force"]] == [
        (None, "seed_default"),
        (str(city.streets[0].id), "rule_set"),
    ]
    own = body["in_force"][1]
    assert own["rule_set_id"] == created.json()["id"] and own["region_name"] == city.streets[0].name
    assert own["rules"]["categories"] == {
        "volunteer_service": {
            "mode": "per_hour",
            "points": 12,
            "rounding_minutes": 30,
            "max_hours": None,
            "evidence": "none",
        }
    }
    assert len(body["versions"]) == 2


def test_rule_set_without_categories_or_backdated_is_refused(client: TestClient) -> None:
    """No categories, or a start two days ago: 422 in both languages, nothing stored."""
    admin = login(client, "admin")
    empty = client.post("/api/v1/rules", json=rule_body(categories={}), headers=admin)
    assert empty.status_code == 422 and empty.json()["field"] == "categories"
    assert empty.json()["messages"] == {
        "zh-CN": "积分规则 categories 有误：至少要有一个积分类别",
        "en": "invalid rule set at categories: must cover at least one category",
    }
    old = {**rule_body(), "effective_from": (local_date(utcnow()) - timedelta(days=2)).isoformat()}
    backdated = client.post("/api/v1/rules", json=old, headers=admin)
    assert backdated.status_code == 422 and backdated.json()["field"] == "effective_from"
    assert "追溯" in backdated.json()["messages"]["zh-CN"]
    assert "retroactive" in backdated.json()["messages"]["en"]
    assert backdated.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/rules", headers=admin).json()["versions"] == []
    yesterday = {
        **rule_body(),
        "effective_from": (local_date(utcnow()) - timedelta(days=1)).isoformat(),
    }
    assert client.post("/api/v1/rules", json=yesterday, headers=admin).status_code == 201


def test_sixty_month_expiry_is_accepted(client: TestClient) -> None:
    """Points may be set to last five years (the seed allows two; the schema allows 60 months)."""
    admin = login(client, "admin")
    r = client.post("/api/v1/rules", json=rule_body(expiry_months=60), headers=admin)
    assert r.status_code == 201 and r.json()["rules"]["expiry_months"] == 60
    r = client.post("/api/v1/rules", json=rule_body(expiry_months=61), headers=admin)
    assert r.status_code == 422 and r.json()["field"] == "expiry_months"
