"""The admin console: rules with a preview on last month, the overview, audit, jobs, ledger."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities import OfflineRecordCreate, OfflineService
from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.identity.models import Resident
from civicpoints.jobs import JobRun
from civicpoints.kit.clock import BUSINESS_TZ, local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.months import last_full_month
from civicpoints.scoring import RuleSetCreate, ScoringService
from civicpoints.scoring.rules import DEFAULT_RULE_SET
from civicpoints.scoring.schemas import rule_set_to_dict

from .pages import csrf_of, sign_in

Maker = Callable[..., uuid.UUID]
FIRST = last_full_month(local_date(utcnow()))
RATES = {
    "rate_volunteer_service": "10",
    "rate_high_risk": "20",
    "rate_environmental": "50",
    "rate_public_supervision": "10",
    "rate_education_support": "10",
}


def form(**changes: str) -> dict[str, str]:
    """The new-version form: the seed defaults from tomorrow, city-wide, with `changes`."""
    tomorrow = (local_date(utcnow()) + timedelta(days=1)).isoformat()
    base = {"effective_from": tomorrow, "region_id": "", "monthly_cap": "500"}
    return {**base, "expiry_months": "12", "note": "试行", **RATES, **changes}


def last_month_at(day: int, hour: int = 8) -> datetime:
    """An instant on `day` of the last full month, Beijing time."""
    return datetime.combine(FIRST.replace(day=day), time(hour), BUSINESS_TZ)


def earn(
    sessions: sessionmaker[Session],
    ctx: Context,
    staff: Callable[[str], Principal],
    make_activity: Maker,
    resident: Resident,
    hours: list[int],
) -> None:
    """Volunteering last month, one paper slip per activity, approved: 10 points an hour."""
    organizer, reviewer = staff("organizer"), staff("reviewer")
    for i, h in enumerate(hours):
        start = last_month_at(3 + i)
        activity = make_activity(start, hours=h, title=f"社区服务 {i}")
        with transaction(sessions) as s:
            service = OfflineService(s, ctx)
            slip = OfflineRecordCreate(
                resident=resident.public_no,
                activity_id=activity,
                started_at=start,
                ended_at=start + timedelta(hours=h),
                slip_no=f"S-{resident.public_no}-{i}",
            )
            record = service.record(slip, organizer)
            service.decide(record.id, True, "纸质签到单核对无误", reviewer)


@pytest.fixture
def zhang(
    sessions: sessionmaker[Session],
    ctx: Context,
    staff: Callable[[str], Principal],
    make_activity: Maker,
    make_resident: Callable[..., Resident],
) -> tuple[Resident, Resident]:
    """张女士 earned 480 points last month (24 h + 24 h); 李先生 300 (24 h + 6 h)."""
    zhang, li = make_resident("张秀英"), make_resident("李建国")
    earn(sessions, ctx, staff, make_activity, zhang, [24, 24])
    earn(sessions, ctx, staff, make_activity, li, [24, 6])
    return zhang, li


def signed_in(client: TestClient, username: str) -> str:
    """Sign `username` in; the CSRF token of their pages."""
    sign_in(client, username, DEMO_STAFF_PASSWORD)
    return csrf_of(client.get("/admin/rules").text)


def text_of(html: str) -> str:
    """A page's visible text on one line."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# -- the simulation in the scoring domain ------------------------------------------------


def test_simulate_replays_last_month_under_a_lower_cap(
    sessions: sessionmaker[Session], ctx: Context, zhang: tuple[Resident, Resident]
) -> None:
    from civicpoints.activities import RecordService

    rules = rule_set_to_dict(DEFAULT_RULE_SET) | {"monthly_cap": 400}
    data = RuleSetCreate(effective_from=local_date(utcnow()), rules=rules)
    with transaction(sessions) as s:
        past = RecordService(s, ctx).past_month(FIRST)
        result = ScoringService(s).simulate(data, FIRST, past, fen_per_point=10)
    assert result.participations == 4 and result.residents == 2
    assert (result.points_before, result.points_after) == (780, 700)
    assert [(c.resident_id, c.before, c.after) for c in result.changes] == [(zhang[0].id, 480, 400)]
    assert (result.delta, result.cost_fen, result.losers, result.gainers) == (-80, -800, 1, 0)


def test_simulate_a_higher_rate_for_a_street_only(
    sessions: sessionmaker[Session], ctx: Context, city: City, zhang: tuple[Resident, Resident]
) -> None:
    from civicpoints.activities import RecordService

    rules = rule_set_to_dict(DEFAULT_RULE_SET) | {"monthly_cap": 1000}
    elsewhere = city.streets[1].id
    with transaction(sessions) as s:
        past = RecordService(s, ctx).past_month(FIRST)
        scoring = ScoringService(s)
        here = RuleSetCreate(effective_from=local_date(utcnow()), rules=rules)
        there = here.model_copy(update={"region_id": elsewhere})
        assert scoring.simulate(here, FIRST, past, 10).delta == 0  # nobody was capped
        assert scoring.simulate(there, FIRST, past, 10).changes == ()


# -- who may enter ----------------------------------------------------------------------


def test_a_resident_gets_the_403_page(client: TestClient, city: City) -> None:
    from .test_api import PASSWORD, register

    register(client, city, 31)
    sign_in(client, "13800000031", PASSWORD)
    r = client.get("/admin")
    assert r.status_code == 403 and "<h1>" in r.text
    assert client.get("/admin/rules").status_code == 403


def test_an_organizer_gets_403_and_a_stranger_is_sent_to_sign_in(
    client: TestClient, city: City
) -> None:
    r = client.get("/admin/audit", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    sign_in(client, "organizer", DEMO_STAFF_PASSWORD)
    for path in ("/admin", "/admin/rules", "/admin/audit", "/admin/jobs", "/admin/ledger"):
        assert client.get(path).status_code == 403, path


def test_admins_and_auditors_start_in_the_console(client: TestClient, city: City) -> None:
    r = sign_in(client, "auditor", DEMO_STAFF_PASSWORD)
    assert r.headers["location"] == "/admin"
    page = client.get("/admin/rules")
    assert page.status_code == 200 and "只读" in page.text
    assert 'action="/admin/rules/preview"' not in page.text


# -- rules -------------------------------------------------------------------------------


def test_the_rules_page_shows_the_seed_defaults_as_such(client: TestClient, city: City) -> None:
    signed_in(client, "admin")
    page = text_of(client.get("/admin/rules").text)
    assert "全市" in page and "初始默认规则" in page
    assert "志愿服务 10 分/小时" in page and "每人每月 500 积分" in page


def test_preview_shows_last_months_effect_then_saves(
    client: TestClient, city: City, zhang: tuple[Resident, Resident]
) -> None:
    token = signed_in(client, "admin")
    r = client.post("/admin/rules/preview", data={"csrf_token": token, **form(monthly_cap="400")})
    assert r.status_code == 200, r.text
    page = text_of(r.text)
    assert "受影响的居民 1 人" in page and "-80 积分" in page and "-¥8.00" in page
    assert zhang[0].public_no in page and zhang[1].public_no not in page
    assert "尚未保存" in page
    assert "初始默认规则" in text_of(client.get("/admin/rules").text)  # nothing saved yet
    confirm = {"csrf_token": csrf_of(r.text), **form(monthly_cap="400")}
    saved = client.post("/admin/rules", data=confirm, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/rules?saved=1"
    page = text_of(client.get("/admin/rules?saved=1").text)
    assert "已保存" in page and "全部版本" in page and "400 积分 试行" in page
    assert "初始默认规则" in page  # in force from tomorrow: today the seed defaults still apply


def test_preview_refuses_what_the_api_refuses(client: TestClient, city: City) -> None:
    token = signed_in(client, "admin")
    yesterday2 = (local_date(utcnow()) - timedelta(days=2)).isoformat()
    bad = form(effective_from=yesterday2, monthly_cap="-5")
    r = client.post("/admin/rules/preview", data={"csrf_token": token, **bad})
    assert r.status_code == 422 and 'role="alert"' in r.text
    assert 'href="#f-effective_from"' in r.text or 'href="#f-monthly_cap"' in r.text
    r = client.post(
        "/admin/rules/preview",
        data={"csrf_token": token, **form(rate_high_risk="0")},
    )
    assert r.status_code == 422 and 'href="#f-rate_high_risk"' in r.text
    assert "不能小于 1" in r.text


def test_an_auditor_reads_but_cannot_save_rules(client: TestClient, city: City) -> None:
    token = signed_in(client, "auditor")
    for action in ("/admin/rules/preview", "/admin/rules"):
        r = client.post(action, data={"csrf_token": token, **form(monthly_cap="400")})
        assert r.status_code == 403, action
    signed_in(client, "admin")
    assert "初始默认规则" in text_of(client.get("/admin/rules").text)


def test_a_rules_post_without_its_token_changes_nothing(client: TestClient, city: City) -> None:
    signed_in(client, "admin")
    r = client.post("/admin/rules", data=form(monthly_cap="400"), follow_redirects=False)
    assert r.status_code == 403 and "页面已过期" in r.text
    forged = {"csrf_token": "forged", **form(monthly_cap="400")}
    assert client.post("/admin/rules", data=forged).status_code == 403
    assert "初始默认规则" in text_of(client.get("/admin/rules").text)


# -- overview ----------------------------------------------------------------------------


def test_the_overview_tables_carry_the_real_figures(
    client: TestClient, city: City, zhang: tuple[Resident, Resident]
) -> None:
    signed_in(client, "admin")
    data = client.get("/admin/dashboard.json").json()
    month = f"{FIRST.year:04d}-{FIRST.month:02d}"
    i = data["months"].index(month)
    assert data["points"]["发放"][i] == 780 and data["points"]["未使用"][i] == 780
    assert data["hours"]["values"][i] == 78.0
    assert data["by_category"] == [{"name": "志愿服务", "value": 4}]
    assert data["by_street"]["labels"] == [city.streets[0].name]
    page = client.get("/admin")
    assert 'id="dashboard-data"' in page.text and "/static/js/admin.js" in page.text
    assert f'<th scope="row">{month}</th><td class="num">780</td>' in page.text


# -- audit, jobs, ledger -----------------------------------------------------------------


def test_the_audit_log_lists_and_filters(client: TestClient, city: City) -> None:
    token = signed_in(client, "admin")
    client.post("/admin/rules", data={"csrf_token": token, **form(monthly_cap="450")})
    page = client.get("/admin/audit?actor=admin").text
    assert "save_rules" in page and "POST /admin/rules" in page
    assert "save_rules" not in client.get("/admin/audit?actor=auditor").text
    bad = client.get("/admin/audit?since=yesterday&actor=nobody")
    assert (
        bad.status_code == 400 and 'href="#f-since"' in bad.text and 'href="#f-actor"' in bad.text
    )


def test_jobs_and_the_last_verification(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    now = utcnow()
    with transaction(sessions) as s:
        s.add(
            JobRun(
                name="ledger.verify",
                started_at=now,
                finished_at=now,
                ok=False,
                alert=True,
                summary={"faults": 3, "queued": 0, "first": ["bucket 0: entry hash"]},
            )
        )
    signed_in(client, "admin")
    jobs = text_of(client.get("/admin/jobs?alerts=1").text)
    assert "ledger.verify" in jobs and "警报" in jobs
    ledger = text_of(client.get("/admin/ledger").text)
    assert "发现问题" in ledger and "bucket 0: entry hash" in ledger
    signed_in(client, "auditor")
    assert client.get("/admin/jobs").status_code == 403  # as the API: administrators only
    assert client.get("/admin/ledger").status_code == 200
