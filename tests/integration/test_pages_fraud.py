"""The fraud pages of residents and of appeals: my cases, the appeal form (photo included),
the suspension banner, notices, revoked records and signal notes; reviewers' appeals. Every
refusal (no form token, someone else's case, out of scope, bad input) writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities import Participation, RecordStatus
from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.fraud import Appeal, AppealDecision, CaseService
from civicpoints.identity.models import Resident
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction

from .pages import csrf_of, post_form, sign_in
from .test_api import PASSWORD, jpeg
from .test_fraud_cases import refuse_as_fraud
from .test_pages_resident import MakeActivity, resident

Sessions = sessionmaker[Session]


def signed_in_resident(client: TestClient, city: City, sessions: Sessions, n: int) -> Resident:
    """Resident `n`, registered, verified and signed in through the page."""
    resident(client, city, n)
    with transaction(sessions) as s:
        return s.scalars(select(Resident).where(Resident.phone_masked.endswith(f"{n:04d}"))).one()


def case_id_of(sessions: Sessions, who: Resident) -> uuid.UUID:
    """The resident's newest case."""
    with transaction(sessions) as s:
        return CaseService(s).cases_of(who.id, utcnow())[0].case.id


def appeals_count(sessions: Sessions) -> int:
    with transaction(sessions) as s:
        return int(s.scalar(select(func.count()).select_from(Appeal)) or 0)


def appeal(
    client: TestClient,
    case_id: uuid.UUID,
    token: str | None = None,
    reason: str = "我当时在现场",
    **files: bytes,
) -> httpx.Response:
    """Post the appeal form as a browser does: multipart, both file inputs sent."""
    token = token if token is not None else csrf_of(client.get("/cases").text)
    parts = {
        name: (f"{name}.jpg" if name in files else "", files.get(name, b""), "image/jpeg")
        for name in ("camera", "photo")
    }
    data = {"csrf_token": token, "reason": reason}
    return client.post(f"/cases/{case_id}/appeal", data=data, files=parts, follow_redirects=False)


@pytest.fixture
def warned(
    client: TestClient,
    city: City,
    sessions: Sessions,
    ctx: Context,
    staff: Callable[..., Principal],
) -> tuple[Resident, uuid.UUID]:
    """李先生, signed in, with one record refused as fraud by `reviewer`: a warning."""
    li = signed_in_resident(client, city, sessions, 71)
    refuse_as_fraud(sessions, ctx, city, li, staff("reviewer"))
    return li, case_id_of(sessions, li)


def test_my_cases_show_the_warning_and_an_appeal_with_a_photo_is_sent(
    client: TestClient, sessions: Sessions, warned: tuple[Resident, uuid.UUID]
) -> None:
    li, case_id = warned
    page = client.get("/cases").text
    assert "被认定为不属实" in page and "警告" in page and "照片系他人上传照片的翻拍" in page
    assert f'action="/cases/{case_id}/appeal"' in page and 'capture="environment"' in page
    assert 'href="/cases"' in client.get("/").text  # home links to the cases
    notices = client.get("/notifications").text
    assert "您的一条服务记录被认定为不属实" in notices and "15 天内" in notices
    r = appeal(client, case_id, camera=jpeg())
    assert r.status_code == 303, r.text
    with transaction(sessions) as s:
        (filed,) = s.scalars(select(Appeal)).all()
        assert filed.resident_id == li.id and filed.evidence_path is not None
    page = client.get("/cases").text
    assert "正在等待另一位审核员处理" in page and f"/cases/{case_id}/appeal" not in page


def test_appeal_refusals_write_nothing(
    client: TestClient, sessions: Sessions, warned: tuple[Resident, uuid.UUID]
) -> None:
    _li, case_id = warned
    r = appeal(client, case_id, token="")
    assert r.status_code == 403
    r = appeal(client, case_id, reason="   ")
    assert r.status_code == 422 and f'href="#f-{case_id}-reason"' in r.text
    r = appeal(client, case_id, photo=b"not a photo")
    assert r.status_code == 415 and "不是照片" in r.text
    r = appeal(client, case_id, photo=b"")  # chosen but empty: refused, not dropped
    assert r.status_code in (415, 422) and 'role="alert"' in r.text
    r = appeal(client, case_id, photo=jpeg(), camera=jpeg())
    assert r.status_code == 422 and "只选一张" in r.text
    r = appeal(client, uuid.uuid4())
    assert r.status_code == 404
    assert appeals_count(sessions) == 0
    assert appeal(client, case_id).status_code == 303
    token = csrf_of(client.get("/").text)
    r = appeal(client, case_id, token=token)
    assert r.status_code == 409 and "已申诉过" in r.text
    assert appeals_count(sessions) == 1


def test_another_residents_case_is_not_found(
    client: TestClient, city: City, sessions: Sessions, warned: tuple[Resident, uuid.UUID]
) -> None:
    _li, case_id = warned
    client.cookies.clear()
    signed_in_resident(client, city, sessions, 72)
    assert "您没有被认定为不属实的记录" in client.get("/cases").text
    assert appeal(client, case_id).status_code == 404
    assert appeals_count(sessions) == 0


def test_a_suspended_resident_is_told_until_when_and_why(
    client: TestClient,
    city: City,
    sessions: Sessions,
    ctx: Context,
    staff: Callable[..., Principal],
    make_activity: MakeActivity,
    warned: tuple[Resident, uuid.UUID],
) -> None:
    li, _case = warned
    assert "暂时不能获取积分" not in client.get("/").text  # a warning does not suspend
    refuse_as_fraud(sessions, ctx, city, li, staff("reviewer"))
    home = client.get("/").text
    assert "暂时不能获取积分" in home and "因第 2 次确认的虚假记录" in home and "暂停至" in home
    activity = make_activity(utcnow())
    assert "暂停至" in client.get(f"/activities/{activity}/checkin").text
    assert "暂停获取积分至" in client.get("/cases").text


def test_a_revoked_record_and_signal_notes_are_said_in_words(
    client: TestClient, city: City, sessions: Sessions, ctx: Context, make_activity: MakeActivity
) -> None:
    from .test_review_queue import pending

    li = signed_in_resident(client, city, sessions, 73)
    with transaction(sessions) as s:
        revoked, waiting = pending(s, city, 0, li, 2)
        s.get(Participation, revoked).status = RecordStatus.REVOKED  # type: ignore[union-attr]
        s.get(Participation, revoked).review_reason = "照片翻拍"  # type: ignore[union-attr]
        row = s.get(Participation, waiting)
        assert row is not None
        row.flags = ["impossible_travel", "photo_edited"]
        note = {"zh-CN": "两次定位相距 30 公里，仅隔 10 分钟", "en": "30 km apart in 10 minutes"}
        row.flag_notes = {"impossible_travel": note}
    page = client.get(f"/records/{revoked}").text
    assert "认定不属实" in page and "积分和服务时长已追回" in page and 'href="/cases"' in page
    assert "认定不属实" in client.get("/records").text
    page = client.get(f"/records/{waiting}").text
    assert "两次定位相距 30 公里" in page and "这张照片用修图软件改过" in page


# -- appeals, for reviewers ----------------------------------------------------------------


def test_another_reviewer_refuses_the_appeal_and_the_resident_reads_why(
    client: TestClient, sessions: Sessions, warned: tuple[Resident, uuid.UUID]
) -> None:
    _li, case_id = warned
    assert appeal(client, case_id, photo=jpeg()).status_code == 303
    with transaction(sessions) as s:
        appeal_id = s.scalars(select(Appeal.id)).one()
    client.cookies.clear()
    sign_in(client, "reviewer", DEMO_STAFF_PASSWORD)  # decided the case: not theirs to judge
    assert str(appeal_id) not in client.get("/staff/appeals").text
    assert client.get(f"/staff/appeals/{appeal_id}/photo").status_code == 200  # in scope
    r = post_form(
        client, "/staff", f"/staff/appeals/{appeal_id}/decision", decision="reject", reason="x"
    )
    assert r.status_code == 409 and "另一位审核员" in r.text
    client.cookies.clear()
    sign_in(client, "mz_reviewer", DEMO_STAFF_PASSWORD)  # another department: out of scope
    assert str(appeal_id) not in client.get("/staff/appeals").text
    assert client.get(f"/staff/appeals/{appeal_id}/photo").status_code == 404
    client.cookies.clear()
    sign_in(client, "reviewer2", DEMO_STAFF_PASSWORD)
    page = client.get("/staff/appeals").text
    assert "我当时在现场" in page and f"/staff/appeals/{appeal_id}/photo" in page
    photo = client.get(f"/staff/appeals/{appeal_id}/photo")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    url = f"/staff/appeals/{appeal_id}/decision"
    assert client.post(url, data={"decision": "reject", "reason": "x"}).status_code == 403
    r = post_form(client, "/staff/appeals", url, decision="reject", reason="")
    assert r.status_code == 422 and f'href="#f-{appeal_id}-reason"' in r.text
    r = post_form(client, "/staff/appeals", url, decision="approve", reason="")
    assert r.status_code == 422  # an uphold needs a reason too on the page
    with transaction(sessions) as s:
        assert s.scalar(select(func.count()).select_from(AppealDecision)) == 0
    r = post_form(
        client, "/staff/appeals", url, decision="reject", reason="照片与他人此前上传的一致"
    )
    assert r.status_code == 303
    assert "已驳回申诉" in client.get(r.headers["location"]).text
    client.cookies.clear()
    sign_in(client, "13800000071", PASSWORD)
    page = client.get("/cases").text
    assert "不成立" in page and "照片与他人此前上传的一致" in page
    assert "您的申诉未获支持" in client.get("/notifications").text


def test_a_resident_cannot_open_the_appeals_of_reviewers(
    client: TestClient, sessions: Sessions, warned: tuple[Resident, uuid.UUID]
) -> None:
    assert client.get("/staff/appeals").status_code == 403
