"""Star levels and 志愿服务记录证明: issued by the organization that recorded the hours, signed
by the ledger key, downloadable by the resident, checked by anyone at /verify/{number}."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from civicpoints.access import Principal
from civicpoints.activities import Participation
from civicpoints.cli.city import City
from civicpoints.cli.main import app as cli
from civicpoints.hours import StarPolicyService, StarThresholds, check_note, statement
from civicpoints.hours.models import Certificate
from civicpoints.identity.models import Resident
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import log_signer, open_note, sign_note
from civicpoints.ledger.keys import generate_signer

from .test_api import login, resident_headers
from .test_pages_admin import earn

Maker = Callable[..., uuid.UUID]


@pytest.fixture
def volunteer(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    ctx: Context,
    staff: Callable[[str], Principal],
    make_activity: Maker,
) -> tuple[dict[str, str], Resident]:
    """A resident signed in through the API with 120 hours served at the first committee."""
    headers = resident_headers(client, city, 50)
    with transaction(sessions) as s:
        me = s.scalars(select(Resident).where(Resident.phone_masked.like("138%0050"))).one()
        s.expunge(me)
    earn(sessions, ctx, staff, make_activity, me, [24, 24, 24, 24, 24])
    return headers, me


def certificates(sessions: sessionmaker[Session]) -> int:
    """How many certificates are stored."""
    with transaction(sessions) as s:
        return int(s.scalar(select(func.count()).select_from(Certificate)) or 0)


def issue(
    client: TestClient, city: City, who: str, resident: Resident, **over: object
) -> httpx.Response:
    """POST a certificate request as staff member `who`."""
    body = {
        "platform_no": resident.public_no,
        "organization_id": str(city.committees[0].id),
        "person_in_charge": "王主任",
        "contact": "0571-87000000",
        **over,
    }
    return client.post("/api/v1/certificates", json=body, headers=login(client, who))


def test_star_level_from_hours_and_region_version(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    staff: Callable[[str], Principal],
    volunteer: tuple[dict[str, str], Resident],
) -> None:
    """120 h: one star, 180 h to the next; a city-wide version of 50/100/… makes it two."""
    headers, _ = volunteer
    got = client.get("/api/v1/me/hours", headers=headers).json()
    assert got["total_hours"] == 120
    assert got["stars"] == {
        "level": 1,
        "name": "一星志愿者",
        "hours_to_next": 180,
        "thresholds": [100, 300, 600, 1000, 1500],
    }
    with transaction(sessions) as s:
        StarPolicyService(s).create(
            None, date.today(), StarThresholds(hours=[50, 100, 200, 400, 800]), staff("admin")
        )
    got = client.get("/api/v1/me/hours", headers=headers).json()
    assert got["stars"]["level"] == 2 and got["stars"]["hours_to_next"] == 80
    with transaction(sessions) as s:  # a community's own version wins over the city's
        StarPolicyService(s).create(
            city.communities[0].id,
            date.today(),
            StarThresholds(hours=[500, 600, 700, 800, 900]),
            staff("admin"),
        )
    assert client.get("/api/v1/me/hours", headers=headers).json()["stars"]["level"] == 0


def test_organizer_issues_and_resident_downloads(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    settings: Settings,
    volunteer: tuple[dict[str, str], Resident],
    tmp_path: Path,
) -> None:
    """The street's organizer issues; the resident lists it, downloads the PDF, and the
    signed statement opens with the ledger's public key."""
    headers, me = volunteer
    r = issue(client, city, "organizer", me)
    assert r.status_code == 201, r.text
    cert = r.json()
    assert cert["total_hours"] == 120 and len(cert["lines"]) == 5
    assert cert["id_type"] == "居民身份证" and "*" in cert["id_masked"]
    assert cert["handler"] == "北山街道社工 陈社工" and cert["person_in_charge"] == "王主任"
    assert cert["number"].startswith("ZS")
    body, signers = open_note(cert["note"], [log_signer(settings).verifier])
    assert signers == [settings.ledger_origin] and f"number {cert['number']}" in body

    mine = client.get("/api/v1/me/certificates", headers=headers).json()
    assert [c["number"] for c in mine] == [cert["number"]]
    pdf = client.get(f"/api/v1/me/certificates/{cert['number']}/pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    path = tmp_path / "cert.pdf"
    path.write_bytes(pdf.content)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
        check=True,
    )
    assert list(tmp_path.glob("page*.png"))
    # offline: the statement attached to the PDF opens with the receipts' public key alone
    subprocess.run(
        ["pdfdetach", "-save", "1", str(path), "-o", str(tmp_path / "c.note")], check=True
    )
    vkey = log_signer(settings).verifier.vkey()
    ok = CliRunner().invoke(
        cli, ["ledger", "verify-certificate", str(tmp_path / "c.note"), "--public-key", vkey]
    )
    assert ok.exit_code == 0 and cert["number"] in ok.output, ok.output
    (tmp_path / "bad.note").write_text(
        (tmp_path / "c.note").read_text().replace("total_minutes 7200", "total_minutes 9200")
    )
    bad = CliRunner().invoke(
        cli, ["ledger", "verify-certificate", str(tmp_path / "bad.note"), "--public-key", vkey]
    )
    assert bad.exit_code == 1
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "志愿服务记录证明" in text and cert["number"] in text and "120" in text

    other = resident_headers(client, city, 2)
    gone = client.get(f"/api/v1/me/certificates/{cert['number']}/pdf", headers=other)
    assert gone.status_code == 404


def test_out_of_scope_is_not_found_and_writes_nothing(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    volunteer: tuple[dict[str, str], Resident],
) -> None:
    """Another department's organizer: 404, as for an organization that does not exist."""
    _, me = volunteer
    r = issue(client, city, "env_officer", me)
    assert r.status_code == 404 and r.json()["code"] == "activities.organization_not_found"
    unknown = issue(client, city, "organizer", me, organization_id=str(uuid.uuid4()))
    assert unknown.status_code == 404 and unknown.json()["code"] == r.json()["code"]
    assert certificates(sessions) == 0


def test_someone_elses_hours_are_refused(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    ctx: Context,
    staff: Callable[[str], Principal],
    make_activity: Maker,
    make_resident: Callable[..., Resident],
    volunteer: tuple[dict[str, str], Resident],
) -> None:
    """A record of another resident among those asked for: 422, nothing written."""
    _, me = volunteer
    li = make_resident("李建国")
    earn(sessions, ctx, staff, make_activity, li, [3])
    with transaction(sessions) as s:
        theirs = s.scalars(select(Participation.id).where(Participation.resident_id == li.id)).one()
        mine = s.scalars(select(Participation.id).where(Participation.resident_id == me.id)).all()
    r = issue(client, city, "organizer", me, participation_ids=[str(mine[0]), str(theirs)])
    assert r.status_code == 422 and r.json()["code"] == "hours.certificate_refused"
    assert certificates(sessions) == 0
    ok = issue(client, city, "organizer", me, participation_ids=[str(mine[0])])
    assert ok.status_code == 201 and ok.json()["total_hours"] == 24


def test_verify_page_genuine_unknown_and_tampered(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    volunteer: tuple[dict[str, str], Resident],
) -> None:
    """Public: genuine shows only the masked name, hours, issuer and date; an unknown number
    says so; a stored certificate whose signature does not hold is not genuine."""
    _, me = volunteer
    cert = issue(client, city, "organizer", me).json()
    page = client.get(f"/verify/{cert['number']}")
    assert page.status_code == 200
    assert "真实有效" in page.text and "张**" in page.text and "120" in page.text
    assert me.name not in page.text and me.public_no not in page.text
    assert client.get(f"/api/v1/certificates/{cert['number']}/check").json()["standing"] == (
        "genuine"
    )

    unknown = client.get("/verify/ZS20261207ABCDEFGH")
    assert unknown.status_code == 404 and "未找到" in unknown.text

    with transaction(sessions) as s:
        row = s.scalars(select(Certificate)).one()
        content = {**row.content, "number": "ZS20261207FORGED22", "total_minutes": 60000}
        forged = sign_note(
            statement(content), [generate_signer(row.note.split("\n")[-2][2:].split(" ")[0])]
        )
        s.add(
            Certificate(
                number="ZS20261207FORGED22",
                kind="record",
                resident_id=me.id,
                organization_id=row.organization_id,
                issued_on=row.issued_on,
                total_minutes=60000,
                content=content,
                note=forged,
                issued_by=row.issued_by,
            )
        )
    bad = client.get("/verify/ZS20261207FORGED22")
    assert bad.status_code == 200 and "不是真实" in bad.text and "1000" not in bad.text
    assert not check_note(forged, content, [])
