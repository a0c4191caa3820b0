"""A resident's PIPL rights: their data, consent withdrawal, deletion keeping the ledger whole."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.audit.models import AuditEntry
from civicpoints.cli.city import City
from civicpoints.cli.demo_rewards import SUBSIDISED_50, Rewards
from civicpoints.cli.privacy import audit_csv
from civicpoints.identity.models import Resident
from civicpoints.identity.privacy import ERASED_NAME
from civicpoints.kit.clock import month_key, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.models import metadata
from civicpoints.privacy.service import PrivacyService
from civicpoints.rewards.budget import BudgetService, settlement_csv, settlement_xlsx
from tests.integration.conftest import WEST_LAKE, id_number
from tests.integration.test_api import PASSWORD, create_activity, jpeg, login, register
from tests.integration.test_holds import assert_verifies
from tests.integration.test_rewards import balance, me, redeem
from tests.integration.test_rewards_cli import cli as cli  # the CLI fixture
from tests.integration.test_surveys import QUESTIONS

API = "/api/v1"
NAME, N = "欧阳明月", 7
PHONE = f"1380000{N:04d}"


def sign_up(client: TestClient, city: City) -> dict[str, str]:
    """Register, sign in and verify the resident under test."""
    assert register(client, city, N, name=NAME).status_code == 201
    headers = login(client, PHONE, PASSWORD)
    assert client.post(f"{API}/me/verification", json={}, headers=headers).status_code == 200
    return headers


def needles(sessions: sessionmaker[Session]) -> dict[str, bytes]:
    """What must vanish: name, ID and phone in clear, masked, encrypted and blind-indexed."""
    with sessions() as s:
        r = s.scalars(select(Resident).where(Resident.name == NAME)).one()
        return {
            "name": NAME.encode(),
            "id": id_number(N).encode(),
            "phone": PHONE.encode(),
            "id_masked": r.id_masked.encode(),
            "phone_masked": r.phone_masked.encode(),
            "id_enc": bytes(r.id_enc),
            "phone_enc": bytes(r.phone_enc),
            "id_bidx": r.id_bidx.encode(),
            "phone_bidx": r.phone_bidx.encode(),
        }


def cells(sessions: sessionmaker[Session]) -> Iterator[tuple[str, bytes]]:
    """Every text, binary and JSON value of every table, as bytes, with where it was."""
    with sessions() as s:
        for table in metadata.sorted_tables:
            for row in s.execute(select(table)).mappings():
                for column, value in row.items():
                    if isinstance(value, str):
                        yield f"{table.name}.{column}", value.encode()
                    elif isinstance(value, (bytes, memoryview)):
                        yield f"{table.name}.{column}", bytes(value)
                    elif isinstance(value, (dict, list)):
                        yield (
                            f"{table.name}.{column}",
                            json.dumps(value, ensure_ascii=False).encode(),
                        )


def found(sessions: sessionmaker[Session], wanted: dict[str, bytes]) -> set[tuple[str, str]]:
    """(needle, table.column) pairs where a needle occurs."""
    return {(k, where) for where, blob in cells(sessions) for k, v in wanted.items() if v in blob}


def xlsx_text(data: bytes) -> bytes:
    """Every XML part of a workbook, concatenated."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return b"".join(z.read(n) for n in z.namelist())


def paper_slip(
    client: TestClient, city: City, slip_no: str, note: str = "", reason: str = "核对无误"
) -> Any:
    """An organizer's slip for the resident (an hour, three hours ago), approved by a reviewer."""
    start = utcnow() - timedelta(hours=3)
    activity = create_activity(
        client, city, starts_at=start.isoformat(), ends_at=(start + timedelta(hours=2)).isoformat()
    )
    slip = {
        "resident": PHONE,
        "activity_id": activity,
        "slip_no": slip_no,
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(hours=1)).isoformat(),
        "note": note,
    }
    r = client.post(f"{API}/participations", json=slip, headers=login(client, "organizer"))
    assert r.status_code == 201, r.text
    decision = {"decision": "approve", "reason": reason}
    d = client.post(
        f"{API}/reviews/{r.json()['id']}/decision", json=decision, headers=login(client, "reviewer")
    )
    assert d.status_code == 200, d.text
    return d.json()


def answer_survey(client: TestClient, city: City, headers: dict[str, str], text: str) -> str:
    """The organizer opens a survey of the resident's street; the resident answers it, with
    free text. The survey's id."""
    staff = login(client, "organizer")
    body = {"title": "居民满意度问卷", "region_id": str(city.streets[0].id), "questions": QUESTIONS}
    made = client.post(f"{API}/surveys", json=body, headers=staff)
    assert made.status_code == 201, made.text
    sid, qs = made.json()["id"], [q["id"] for q in made.json()["questions"]]
    until = {"closes_at": (utcnow() + timedelta(days=7)).isoformat()}
    opened = client.post(f"{API}/surveys/{sid}/open", json=until, headers=staff)
    assert opened.status_code == 200, opened.text
    answers = [
        {"question_id": qs[0], "choices": [0]},
        {"question_id": qs[1], "choices": [0, 1]},
        {"question_id": qs[2], "value": 4},
        {"question_id": qs[3], "text": text},
    ]
    sent = client.post(f"{API}/surveys/{sid}/responses", json={"answers": answers}, headers=headers)
    assert sent.status_code == 201, sent.text
    return str(sid)


def live_resident(
    client: TestClient, city: City, rewards: Rewards, fund: Callable[..., None]
) -> dict[str, str]:
    """A resident with a photo-evidenced action, a staff-noted slip and a used voucher."""
    headers = sign_up(client, city)
    activity = create_activity(client, city, category="environmental", evidence="photo_gps")
    client.post(f"{API}/activities/{activity}/enrollments", headers=headers)
    pos = {"lat": WEST_LAKE[0], "lon": WEST_LAKE[1]}
    rec = client.post(f"{API}/activities/{activity}/checkin", json=pos, headers=headers).json()
    client.post(f"{API}/activities/{activity}/checkout", json=pos, headers=headers)
    photo = {"photo": ("p.jpg", jpeg(*WEST_LAKE), "image/jpeg")}
    up = client.post(f"{API}/participations/{rec['id']}/evidence", files=photo, headers=headers)
    assert up.status_code == 201, up.text
    note = f"{NAME} 本人签字 {PHONE}"  # staff free text naming them: erased with them
    paper_slip(client, city, "HZ-PIPL-1", note, f"核对{NAME}身份证 {id_number(N)}")
    answer_survey(client, city, headers, f"我是{NAME}，电话 {PHONE}")  # free text: erased
    fund(me(client, headers), 480)
    bought = redeem(client, headers, rewards.items[SUBSIDISED_50], key="pipl-1")
    assert bought.status_code == 201, bought.text
    code = bought.json()["vouchers"][0]["code"]
    used = client.post(f"{API}/vouchers/{code}/verify", headers=login(client, "clerk"))
    assert used.status_code == 200, used.text
    return headers


def test_deleted_resident_is_gone_from_every_table_and_export_and_the_ledger_verifies(
    client: TestClient,
    city: City,
    rewards: Rewards,
    fund: Callable[..., None],
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    """Request → admin erases: no trace of name, ID or phone anywhere; hours and ledger stay."""
    headers = live_resident(client, city, rewards, fund)
    resident = me(client, headers)
    wanted = needles(sessions)
    before = found(sessions, wanted)
    # The scan sees them before: the row itself, the staff's note and review reason.
    assert {k for k, _ in before} == set(wanted), before
    assert ("name", "activity_participation.note") in before
    assert any(settings.uploads_dir.rglob("*.jpg"))
    hours = client.get(f"{API}/me/hours", headers=headers).json()["total_minutes"]
    entries = len(client.get(f"{API}/me/ledger", headers=headers).json())

    asked = client.post(f"{API}/me/deletion", headers=headers)
    assert asked.status_code == 201, asked.text
    again = client.post(f"{API}/me/deletion", headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "privacy.deletion_already_requested"
    back = client.post(f"{API}/me/consent", json={"consent": True}, headers=headers)
    assert back.status_code == 409  # no consent again while the deletion waits
    admin = login(client, "admin")
    assert client.get(f"{API}/deletions", headers=login(client, "organizer")).status_code == 403
    (pending,) = client.get(f"{API}/deletions", headers=admin).json()
    assert pending["resident_id"] == str(resident)
    done = client.post(f"{API}/deletions/{pending['id']}/erase", headers=admin)
    assert done.status_code == 200 and done.json()["status"] == "done", done.text

    assert found(sessions, wanted) == set()
    assert not any(settings.uploads_dir.rglob("*.jpg"))
    with transaction(sessions) as s:
        report = BudgetService(s).settlement(month_key(utcnow()))
    assert report.lines  # the used voucher is still settled, under nobody's name
    exports = {
        "settlement.csv": settlement_csv(report),
        "settlement.xlsx": xlsx_text(settlement_xlsx(report)),
        "audit.csv": audit_csv(sessions),
    }
    assert str(resident).encode() in exports["audit.csv"]  # the id stays: the rows are kept
    for name, blob in exports.items():
        assert [k for k, v in wanted.items() if v in blob] == [], name
    assert client.get(f"{API}/me", headers=headers).status_code == 401  # tokens revoked
    r = client.post(f"{API}/auth/token", json={"username": PHONE, "password": PASSWORD})
    assert r.status_code == 401
    with sessions() as s:
        from civicpoints.hours.service import HoursService
        from civicpoints.ledger import wallet_of
        from civicpoints.ledger.service import LedgerService

        assert HoursService(s).summary(resident).total_minutes == hours
        assert len(LedgerService(s).entries(wallet_of(resident), 200)) == entries
    assert_verifies(sessions, settings)


def test_withdrawn_consent_stops_earning_and_redeeming_until_given_again(
    client: TestClient, city: City, rewards: Rewards, fund: Callable[..., None]
) -> None:
    """Withdraw: open redemptions cancelled (holds released), no redeeming, no points; then back."""
    headers = sign_up(client, city)
    fund(me(client, headers), 1480)
    pending = redeem(client, headers, rewards.items["EDU-PRIORITY"]).json()
    issued = redeem(client, headers, rewards.items[SUBSIDISED_50]).json()
    assert (pending["status"], issued["status"]) == ("pending", "issued")
    assert balance(client, headers) == 500

    out = client.post(f"{API}/me/consent/withdraw", headers=headers)
    assert out.status_code == 200 and out.json()["consent_withdrawn_at"], out.text
    assert balance(client, headers) == 1480  # both holds released, points back
    for r in (pending, issued):
        seen = client.get(f"{API}/redemptions/{r['id']}", headers=headers).json()
        assert seen["status"] == "cancelled"
    refused = redeem(client, headers, rewards.items[SUBSIDISED_50])
    assert refused.status_code == 403 and refused.json()["code"] == "identity.consent_withdrawn"
    assert "撤回" in refused.json()["messages"]["zh-CN"]
    assert balance(client, headers) == 1480
    activity = create_activity(client, city)
    client.post(f"{API}/activities/{activity}/enrollments", headers=headers)
    pos = {"lat": WEST_LAKE[0], "lon": WEST_LAKE[1]}
    here = client.post(f"{API}/activities/{activity}/checkin", json=pos, headers=headers)
    assert here.status_code == 403 and here.json()["code"] == "identity.consent_withdrawn"
    record = paper_slip(client, city, "HZ-PIPL-2")
    assert record["points"] is None  # hours are kept, points wait for consent
    assert client.get(f"{API}/me/hours", headers=headers).json()["total_minutes"] == 60

    back = client.post(f"{API}/me/consent", json={"consent": True}, headers=headers)
    assert back.status_code == 200 and back.json()["consent_withdrawn_at"] is None
    assert balance(client, headers) > 1480  # the record's points decided now
    bad = client.post(f"{API}/me/consent", json={"consent": False}, headers=headers)
    assert bad.status_code == 422
    assert redeem(client, headers, rewards.items[SUBSIDISED_50]).status_code == 201


def test_my_data_holds_everything_unmasked_and_the_staff_acts_about_me(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    """JSON with ID and phone in clear, consents, records, ledger, audit rows; an HTML file."""
    headers = sign_up(client, city)
    paper_slip(client, city, "HZ-PIPL-3")
    data = client.get(f"{API}/me/data", headers=headers)
    assert data.status_code == 200 and data.headers["cache-control"] == "no-store"
    body = data.json()
    profile = body["profile"]
    assert (profile["name"], profile["id_number"], profile["phone"]) == (NAME, id_number(N), PHONE)
    assert not {"password_hash", "id_enc", "phone_enc", "id_bidx"} & profile.keys()
    assert len(body["participations"]) == 1 and body["hours"]["total_minutes"] == 60
    assert len(body["ledger_entries"]) == 1 and body["ledger_entries"][0]["amount"] > 0
    paths = {(a["actor_kind"], a["path"]) for a in body["audit_entries"]}
    assert ("staff", "/participations") in paths  # the organizer's slip about them
    assert body["recommendations"] == {"enabled": True, "list": []}
    assert body["survey_responses"] == []
    sid = answer_survey(client, city, headers, "多组织周末活动")
    off = client.put(f"{API}/me/recommendations", json={"enabled": False}, headers=headers)
    assert off.status_code == 200 and off.json() == {"enabled": False, "items": []}
    body = client.get(f"{API}/me/data", headers=headers).json()
    (response,) = body["survey_responses"]
    assert response["survey_id"] == sid and response["title"] == "居民满意度问卷"
    texts = [a["text"] for a in response["answers"] if a["text"]]
    assert texts == ["多组织周末活动"] and len(response["answers"]) == 5  # 1 + 2 + 1 + 1
    assert body["recommendations"]["enabled"] is False
    page = client.get(f"{API}/me/data", params={"format": "html"}, headers=headers)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "attachment" in page.headers["content-disposition"]
    assert NAME in page.text and id_number(N) in page.text and "<script" not in page.text
    bad = client.get(f"{API}/me/data", params={"format": "exe"}, headers=headers)
    assert bad.status_code == 422
    staff = client.get(f"{API}/me/data", headers=login(client, "admin"))
    assert staff.status_code == 403
    with sessions() as s:
        exports = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "export_personal_data")
        ).all()
    assert [(e.actor_kind, e.subject_id, e.status) for e in exports] == [
        ("resident", uuid.UUID(profile["id"]), 200)
    ] * 3


def test_due_deletions_are_erased_by_the_job_and_audited(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable[..., Resident],
    cli: Callable[..., Any],
    tmp_path: Path,
) -> None:
    """`privacy erase-due` leaves requests inside their retention period and erases the due."""
    waiting, due = make_resident(name="王未到"), make_resident(name="李到期")
    now_ctx = Context(
        settings=ctx.settings.model_copy(update={"retention_deletion_days": 0}), cipher=ctx.cipher
    )
    with transaction(sessions) as s:
        PrivacyService(s, ctx).request_deletion(waiting.id)  # 15 days by default
        PrivacyService(s, now_ctx).request_deletion(due.id)
    run = cli("privacy", "erase-due")
    assert run.exit_code == 0 and "erased 1 " in run.output, run.output
    with sessions() as s:
        names = {r.id: r.name for r in s.scalars(select(Resident))}
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.erase_due")).all()
    assert (names[waiting.id], names[due.id]) == ("王未到", ERASED_NAME)
    assert [(a.actor_kind, a.subject_id) for a in audit] == [("system", due.id)]
    out = tmp_path / "audit.csv"
    assert cli("audit", "export", "--out", out).exit_code == 0
    text = out.read_text(encoding="utf-8-sig")
    assert "privacy.erase_due" in text and str(due.id) in text and "李到期" not in text
    assert cli("privacy", "erase-due").output.startswith("已删除个人信息 erased 0 ")
