"""Risk policies are versioned region settings; the score they give decides a record's way,
and reviewers see the riskiest records first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities.models import Participation
from civicpoints.activities.offline import OfflineService
from civicpoints.activities.records import RecordService
from civicpoints.cli.city import City
from civicpoints.fraud import (
    DEFAULT_POLICY,
    InvalidPolicy,
    PolicyCreate,
    PolicyService,
    PolicySettings,
)
from civicpoints.identity.models import Resident
from civicpoints.jobs import run_job, scheduled_jobs
from civicpoints.kit import months
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.errors import Forbidden
from civicpoints.kit.settings import Settings
from civicpoints.regions import RegionService
from tests.integration.test_api import login
from tests.integration.test_review_queue import page_through, pending


def today() -> date:
    """Beijing's date now, asked at each use: a module constant taken at collection went stale
    when a run crossed Beijing's midnight (16:00 UTC) and the app's own "today" moved on."""
    return local_date(utcnow())


def test_the_most_specific_policy_in_force_applies(
    sessions: sessionmaker[Session], city: City, staff: Callable[[str], Principal]
) -> None:
    """City-wide from one date, a street's own from a later one; each applies where and
    when it is in force, else the seed default."""
    street, community = city.streets[0], city.communities[0]
    admin = staff("admin")
    with transaction(sessions) as s:
        policies = PolicyService(s)
        regions = RegionService(s)
        ancestry = [r.id for r in regions.ancestry(regions.get(community.id))]
        assert street.id in ancestry
        assert policies.in_force(ancestry, today()) == (None, DEFAULT_POLICY)
        strict = PolicySettings(review_at=20)
        lax = PolicySettings(review_at=50)
        policies.create(PolicyCreate(effective_from=today(), settings=lax), admin, today())
        later = today() + timedelta(days=10)
        mine = PolicyCreate(region_id=street.id, effective_from=later, settings=strict)
        policies.create(mine, admin, today())
        assert policies.in_force(ancestry, today())[1].review_at == 50
        assert policies.in_force(ancestry, later)[1].review_at == 20
        other = [city.communities[12].id]
        assert policies.in_force(other, later)[1].review_at == 50


def test_a_policy_is_refused_backdated_out_of_scope_or_out_of_bounds(
    sessions: sessionmaker[Session], city: City, staff: Callable[[str], Principal]
) -> None:
    """Nothing is stored for a start before yesterday, for a non-administrator, or for a
    threshold out of bounds or a weight of an unknown signal."""
    admin, reviewer = staff("admin"), staff("reviewer")
    with transaction(sessions) as s:
        policies = PolicyService(s)
        with pytest.raises(InvalidPolicy):
            policies.create(
                PolicyCreate(effective_from=today() - timedelta(days=2), settings=DEFAULT_POLICY),
                admin,
                today(),
            )
        with pytest.raises(Forbidden):
            policies.create(
                PolicyCreate(effective_from=today(), settings=DEFAULT_POLICY),
                reviewer,
                today(),
            )
        assert policies.versions() == []
    with pytest.raises(ValidationError):
        PolicySettings(max_speed_kmh=0)
    with pytest.raises(ValidationError):
        PolicySettings(weights={"no_such_signal": 10})
    with pytest.raises(ValidationError):
        PolicySettings(review_at=100, refuse_at=50)


def test_reviewers_see_the_riskiest_records_first_on_every_page(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    make_resident: Callable[..., Resident],
    staff: Callable[[str], Principal],
) -> None:
    """Scores 0, 60, 20, 60, 100 are shown 100, 60 (newer first), 60, 20, 0, and paging by
    any size shows the same order with nothing skipped or repeated."""
    resident = make_resident("风险排序")
    with transaction(sessions) as s:
        ids = pending(s, city, 0, resident, 5)
        for record_id, risk in zip(ids, (0, 60, 20, 60, 100), strict=True):
            s.get_one(Participation, record_id).risk = risk
    expected = [ids[4], ids[3], ids[1], ids[2], ids[0]]
    reviewer = staff("reviewer")
    with transaction(sessions) as s:
        assert [r.id for r in OfflineService(s, ctx).queue(reviewer, 50, None)] == expected
    for limit in (1, 2, 3):
        assert page_through(sessions, ctx, reviewer, limit) == expected


def test_a_region_policy_decides_whether_a_doubt_goes_to_review(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    make_resident: Callable[..., Resident],
    staff: Callable[[str], Principal],
) -> None:
    """An edited photo weighs 20: below the default review line (30) it is approved with its
    score kept; a street that reviews from 20 sends the same record to a reviewer."""
    resident = make_resident("风险政策")
    admin = staff("admin")
    with transaction(sessions) as s:
        (record_id,) = pending(s, city, 0, resident, 1)
        record = s.get_one(Participation, record_id)
        records = RecordService(s, ctx)
        activity = records.activities.get(record.activity_id)
        record.flags = ["photo_edited"]
        assert records.rescore(record, activity).outcome == "approve"
        assert record.risk == 20
        PolicyService(s).create(
            PolicyCreate(
                region_id=city.streets[0].id,
                effective_from=today(),
                settings=PolicySettings(review_at=20),
            ),
            admin,
            today(),
        )
    with transaction(sessions) as s:
        record = s.get_one(Participation, record_id)
        records = RecordService(s, ctx)
        activity = records.activities.get(record.activity_id)
        assert records.rescore(record, activity).outcome == "review"


def test_policies_over_the_api(client: TestClient) -> None:
    """An administrator adds a version; a reviewer may not; a bad threshold is a 422 naming
    the field, with nothing stored."""
    admin, reviewer = login(client, "admin"), login(client, "reviewer")
    body = {"effective_from": today().isoformat(), "settings": {"max_speed_kmh": 90}}
    assert client.post("/api/v1/fraud/policies", json=body, headers=reviewer).status_code == 403
    bad = {**body, "settings": {"max_speed_kmh": 0}}
    r = client.post("/api/v1/fraud/policies", json=bad, headers=admin)
    assert r.status_code == 422 and "max_speed_kmh" in r.text
    assert client.get("/api/v1/fraud/policies", headers=admin).json() == []
    r = client.post("/api/v1/fraud/policies", json=body, headers=admin)
    assert r.status_code == 201, r.text
    (stored,) = client.get("/api/v1/fraud/policies", headers=reviewer).json()
    assert stored["settings"]["max_speed_kmh"] == 90 and stored["settings"]["review_at"] == 30


def test_a_record_waiting_over_three_days_raises_an_alert(
    sessions: sessionmaker[Session],
    ctx: Context,
    settings: Settings,
    city: City,
    make_resident: Callable[..., Resident],
    staff: Callable[[str], Principal],
) -> None:
    """Waiting 4 days: an alert (the hourly job fails, so admins see it); 2 days: none,
    unless the region's policy alerts after 1 day. Another street's reviewer sees none."""
    resident = make_resident("等待审核")
    reviewer, other, admin = staff("reviewer"), staff("mz_reviewer"), staff("admin")
    now = utcnow()
    with transaction(sessions) as s:
        old, recent = pending(s, city, 0, resident, 2)
        s.get_one(Participation, old).created_at = now - timedelta(days=4)
        s.get_one(Participation, recent).created_at = now - timedelta(days=2)
    job = scheduled_jobs(settings)["activities.review_alerts"][0]
    run = run_job(sessions, "activities.review_alerts", job)
    assert run.alert and run.summary["overdue"] == 1
    with transaction(sessions) as s:
        assert [r.id for r in OfflineService(s, ctx).overdue(now, reviewer)] == [old]
        assert OfflineService(s, ctx).overdue(now, other) == []
    with transaction(sessions) as s:
        PolicyService(s).create(
            PolicyCreate(
                region_id=city.streets[0].id,
                effective_from=today(),
                settings=PolicySettings(review_alert_days=1),
            ),
            admin,
            today(),
        )
    with transaction(sessions) as s:
        assert [r.id for r in OfflineService(s, ctx).overdue(now)] == [old, recent]
    with transaction(sessions) as s:
        for record_id in (old, recent):
            s.get_one(Participation, record_id).status = "approved"
    assert not run_job(sessions, "activities.review_alerts", job).alert


def test_a_proposed_policy_is_previewed_on_last_months_records(
    client: TestClient,
    sessions: sessionmaker[Session],
    city: City,
    make_resident: Callable[..., Resident],
) -> None:
    """Three of last month's records, one with an edited photo: the policy in force sends
    none of them to review, a proposal reviewing from 20 sends one; a reviewer may not ask."""
    resident = make_resident("预览")
    first = months.last_full_month(local_date(utcnow()))
    in_month = months.bounds(first)[0] + timedelta(days=3)
    with transaction(sessions) as s:
        ids = pending(s, city, 0, resident, 3)
        for record_id, flags in zip(ids, ([], ["photo_edited"], []), strict=True):
            record = s.get_one(Participation, record_id)
            record.flags, record.created_at = flags, in_month
    body = {"settings": {"review_at": 20}, "region_id": str(city.streets[0].id)}
    url = "/api/v1/fraud/policies/preview"
    assert client.post(url, json=body, headers=login(client, "reviewer")).status_code == 403
    r = client.post(url, json=body, headers=login(client, "admin"))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "month": months.key_of(first),
        "records": 3,
        "current": {"approve": 3, "review": 0, "refuse": 0},
        "proposed": {"approve": 2, "review": 1, "refuse": 0},
    }
    elsewhere = {**body, "region_id": str(city.streets[4].id)}
    r = client.post(url, json=elsewhere, headers=login(client, "admin"))
    assert r.json()["records"] == 0


def test_low_risk_records_are_approved_together_or_not_at_all(
    client: TestClient,
    sessions: sessionmaker[Session],
    city: City,
    make_resident: Callable[..., Resident],
) -> None:
    """Two records scoring 0 and 5 are approved in one go; with a third scoring 40 in the
    request nothing is approved and the 409 names it; another street's reviewer gets 403."""
    resident = make_resident("批量通过")
    with transaction(sessions) as s:
        ids = pending(s, city, 0, resident, 3)
        for record_id, risk in zip(ids, (0, 5, 40), strict=True):
            s.get_one(Participation, record_id).risk = risk
    url, reviewer = "/api/v1/reviews/bulk-approve", login(client, "reviewer")
    r = client.post(url, json={"participation_ids": [str(i) for i in ids]}, headers=reviewer)
    assert r.status_code == 409 and str(ids[2]) in r.json()["detail"]
    with transaction(sessions) as s:
        assert {s.get_one(Participation, i).status for i in ids} == {"pending_review"}
    two = {"participation_ids": [str(i) for i in ids[:2]], "reason": "低风险批量通过"}
    assert client.post(url, json=two, headers=login(client, "mz_reviewer")).status_code == 403
    r = client.post(url, json=two, headers=reviewer)
    assert r.status_code == 200, r.text
    assert [p["status"] for p in r.json()] == ["approved", "approved"]
    assert client.post(url, json={"participation_ids": []}, headers=reviewer).status_code == 422
