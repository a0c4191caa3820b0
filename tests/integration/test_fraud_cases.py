"""李先生's sanctions: a record refused as fraud is a case on the ladder — a warning, then a
suspension that refuses check-ins and points with a clear message; an appeal goes to another
reviewer; an upheld appeal withdraws the case and pays the record."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities.fraud_desk import FraudDesk
from civicpoints.activities.models import Participation
from civicpoints.activities.offline import OfflineService
from civicpoints.activities.records import RecordService
from civicpoints.activities.service import ActivityService
from civicpoints.audit import AuditService
from civicpoints.cli.city import City
from civicpoints.fraud import AppealRefused, CaseService, EarningSuspended, Sanction
from civicpoints.identity.models import Resident
from civicpoints.identity.service import IdentityService
from civicpoints.kit.clock import BUSINESS_TZ, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.ledger import LedgerService, wallet_of
from tests.integration.conftest import WEST_LAKE
from tests.integration.test_api import login, resident_headers
from tests.integration.test_review_queue import pending


def refuse_as_fraud(
    sessions: sessionmaker[Session], ctx: Context, city: City, li: Resident, by: Principal
) -> Participation:
    """One of 李先生's paper slips, refused by `by` as a false record."""
    with transaction(sessions) as s:
        (record_id,) = pending(s, city, 0, li, 1)
    with transaction(sessions) as s:
        return OfflineService(s, ctx).decide(
            record_id, False, "照片系他人上传照片的翻拍", by, fraud=True
        )


def test_li_is_warned_then_suspended_and_his_appeal_goes_to_another_reviewer(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    make_resident: Callable[..., Resident],
    make_activity: Callable[..., object],
    staff: Callable[[str], Principal],
    second_reviewer: Principal,
) -> None:
    li = make_resident("李建国")
    reviewer = staff("reviewer")
    refuse_as_fraud(sessions, ctx, city, li, reviewer)
    with transaction(sessions) as s:
        (first,) = CaseService(s).cases_of(li.id, utcnow())
        assert first.case.sanction == Sanction.WARNING and first.case.suspended_until is None
        assert not first.withdrawn and first.appeal is None
        CaseService(s).require_may_earn(li.id, utcnow())  # a warning does not stop earning
    with transaction(sessions) as s:
        FraudDesk(s, ctx).file_appeal(first.case.id, li.id, "照片是我本人拍的", None)
    with transaction(sessions) as s, pytest.raises(AppealRefused):
        FraudDesk(s, ctx).file_appeal(first.case.id, li.id, "再申诉一次", None)
    with transaction(sessions) as s:
        (appeal, case) = CaseService(s).open_appeals(second_reviewer)[0]
        assert case.id == first.case.id
        assert CaseService(s).open_appeals(reviewer) == []  # never one's own case
    with transaction(sessions) as s, pytest.raises(AppealRefused):
        FraudDesk(s, ctx).decide_appeal(appeal.id, False, "维持", reviewer)
    with transaction(sessions) as s:
        FraudDesk(s, ctx).decide_appeal(appeal.id, False, "比对原图后维持原处理", second_reviewer)
    with transaction(sessions) as s, pytest.raises(AppealRefused):
        FraudDesk(s, ctx).decide_appeal(appeal.id, True, "改判", second_reviewer)

    refuse_as_fraud(sessions, ctx, city, li, reviewer)  # the second offence
    with transaction(sessions) as s:
        views = CaseService(s).cases_of(li.id, utcnow())
        assert views[0].case.sanction == Sanction.SUSPENSION
        until = views[0].case.suspended_until
        assert until is not None and until - utcnow() > timedelta(days=29)
    start = datetime.now(UTC) + timedelta(minutes=10)
    activity_id = make_activity(start)
    with transaction(sessions) as s:
        ActivityService(s).enroll(activity_id, li.id)  # type: ignore[arg-type]
    with transaction(sessions) as s, pytest.raises(EarningSuspended) as refused:
        RecordService(s, ctx).check_in(activity_id, li.id, *WEST_LAKE, start)  # type: ignore[arg-type]
    assert "暂停至" in refused.value.message("zh-CN")
    assert "until" in refused.value.message("en") and refused.value.status == 403


def test_an_upheld_appeal_withdraws_the_case_and_pays_the_record(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    make_resident: Callable[..., Resident],
    staff: Callable[[str], Principal],
    second_reviewer: Principal,
) -> None:
    """The record is approved after all (hours and points), the case no longer counts:
    the next confirmed fraud is a warning again, not a suspension."""
    wang = make_resident("王明")
    record = refuse_as_fraud(sessions, ctx, city, wang, staff("reviewer"))
    with transaction(sessions) as s:
        (view,) = CaseService(s).cases_of(wang.id, utcnow())
        FraudDesk(s, ctx).file_appeal(view.case.id, wang.id, "我有签到表为证", None)
    with transaction(sessions) as s:
        ((appeal, _),) = CaseService(s).open_appeals(second_reviewer)
        FraudDesk(s, ctx).decide_appeal(appeal.id, True, "签到表属实，撤销处理", second_reviewer)
    with transaction(sessions) as s:
        (view,) = CaseService(s).cases_of(wang.id, utcnow())
        assert view.withdrawn
        assert s.get_one(Participation, record.id).status == "approved"
        assert LedgerService(s).balance(wallet_of(wang.id)) == 20
    refuse_as_fraud(sessions, ctx, city, wang, staff("reviewer"))
    with transaction(sessions) as s:
        newest = CaseService(s).cases_of(wang.id, utcnow())[0]
        assert newest.case.sanction == Sanction.WARNING


def test_cases_and_appeals_over_the_api(
    client: TestClient, sessions: sessionmaker[Session], city: City
) -> None:
    """A reviewer refuses a slip as fraud over the API; the resident reads the case and
    appeals; the same reviewer sees no appeal to decide, the second one refuses it. Fraud
    with an approval, an empty appeal, and someone else's case are refused, nothing written."""
    token = resident_headers(client, city, 1)
    stranger = resident_headers(client, city, 2)
    li = client.get("/api/v1/me", headers=token).json()
    with transaction(sessions) as s:
        li = s.get_one(Resident, uuid.UUID(li["id"]))
        (record_id,) = pending(s, city, 0, li, 1)
    reviewer, second = login(client, "reviewer"), login(client, "reviewer2")
    url = f"/api/v1/reviews/{record_id}/decision"
    both = {"decision": "approve", "reason": "x", "fraud": True}
    assert client.post(url, json=both, headers=reviewer).status_code == 422
    r = client.post(
        url, json={"decision": "reject", "reason": "翻拍他人照片", "fraud": True}, headers=reviewer
    )
    assert r.status_code == 200, r.text
    (case,) = client.get("/api/v1/me/cases", headers=token).json()
    assert case["sanction"] == "warning" and case["reason"] == "翻拍他人照片"
    appeal_url = f"/api/v1/me/cases/{case['id']}/appeal"
    assert client.post(appeal_url, json={"reason": " "}, headers=token).status_code == 422
    r = client.post(appeal_url, json={"reason": "不是我"}, headers=stranger)
    assert r.status_code == 404
    r = client.post(appeal_url, json={"reason": "照片是我本人拍的"}, headers=token)
    assert r.status_code == 201 and r.json()["appeal"]["reason"] == "照片是我本人拍的"
    assert client.get("/api/v1/appeals", headers=reviewer).json() == []
    (waiting,) = client.get("/api/v1/appeals", headers=second).json()
    decide = f"/api/v1/appeals/{waiting['appeal']['id']}/decision"
    r = client.post(decide, json={"decision": "reject", "reason": "比对原图，维持"}, headers=second)
    assert r.status_code == 200 and r.json()["upheld"] is False
    (case,) = client.get("/api/v1/me/cases", headers=token).json()
    assert case["decision"]["reason"] == "比对原图，维持" and not case["withdrawn"]


def test_a_third_offence_enters_the_credit_record_export(
    client: TestClient,
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    make_resident: Callable[..., Resident],
    staff: Callable[[str], Principal],
) -> None:
    """Warning, suspension, then a long suspension reported in the month's credit-record CSV
    with the full ID number — for a city-wide administrator only, each view audited."""
    li = make_resident("李建国")
    for _ in range(3):
        refuse_as_fraud(sessions, ctx, city, li, staff("reviewer"))
    with transaction(sessions) as s:
        views = CaseService(s).cases_of(li.id, utcnow())
        assert [v.case.sanction for v in views] == [
            Sanction.LONG_SUSPENSION,
            Sanction.SUSPENSION,
            Sanction.WARNING,
        ]
        number = IdentityService(s, ctx).id_number(s.get_one(Resident, li.id))
    month = utcnow().astimezone(BUSINESS_TZ).strftime("%Y-%m")
    url = f"/api/v1/fraud/credit-records?month={month}"
    assert client.get(url, headers=login(client, "auditor")).status_code == 403
    assert client.get(url, headers=login(client, "reviewer")).status_code == 403
    assert client.get(url + "-01", headers=login(client, "admin")).status_code == 422
    r = client.get(url, headers=login(client, "admin"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and number in lines[1] and "李建国" in lines[1]
    with transaction(sessions) as s:
        seen = AuditService(s).about(li.id)
        assert any(e.action == "fraud.credit_record_export" for e in seen)
