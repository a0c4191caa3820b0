"""The pages of star levels and certificates: the resident's home and certificates page, the
staff issue page (in scope only), the star column of the resident search, the public check."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.hours.models import Certificate
from civicpoints.identity.models import Resident
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction

from .pages import csrf_of, post_form, sign_in
from .test_api import PASSWORD, resident_headers
from .test_pages_admin import earn

Maker = Callable[..., uuid.UUID]


def test_staff_issue_and_resident_download(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    ctx: Context,
    staff: Callable[[str], Principal],
    make_activity: Maker,
) -> None:
    """Organizer finds the resident (one star shown), issues from the page; the resident sees
    stars on the home page and downloads the PDF; the QR's page says genuine."""
    resident_headers(client, city, 60)
    with transaction(sessions) as s:
        me = s.scalars(select(Resident).where(Resident.phone_masked.like("138%0060"))).one()
        s.expunge(me)
    earn(sessions, ctx, staff, make_activity, me, [24, 24, 24, 24, 24])

    sign_in(client, "organizer", DEMO_STAFF_PASSWORD)
    found = client.get(f"/staff/residents?number={me.public_no}")
    assert "一星志愿者" in found.text and "/staff/certificates?resident=" in found.text
    form = client.get(f"/staff/certificates?resident={me.public_no}")
    assert form.status_code == 200 and me.public_no in form.text
    empty = post_form(
        client,
        "/staff/certificates",
        "/staff/certificates",
        platform_no=me.public_no,
        organization_id=str(city.committees[0].id),
        person_in_charge="",
        contact="0571-87000000",
        kind="record",
        honour="",
    )
    assert empty.status_code == 422 and "请填写负责人" in empty.text
    r = post_form(
        client,
        "/staff/certificates",
        "/staff/certificates",
        platform_no=me.public_no,
        organization_id=str(city.committees[0].id),
        person_in_charge="王主任",
        contact="0571-87000000",
        kind="honour",
        honour="2026年度优秀志愿者",
    )
    assert r.status_code == 303, r.text
    listed = client.get(r.headers["location"])
    with transaction(sessions) as s:
        row = s.scalars(select(Certificate)).one()
        number, kind = row.number, row.kind
    assert kind == "honour" and number in listed.text
    pdf = client.get(f"/staff/certificates/{number}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    client.post("/logout", data={"csrf_token": csrf_of(listed.text)})

    sign_in(client, "env_officer", DEMO_STAFF_PASSWORD)  # another department: not theirs
    assert client.get(f"/staff/certificates/{number}/pdf").status_code == 404
    out = post_form(
        client,
        "/staff/certificates",
        "/staff/certificates",
        platform_no=me.public_no,
        organization_id=str(city.committees[0].id),
        person_in_charge="王主任",
        contact="0571",
        kind="record",
        honour="",
    )
    assert out.status_code == 422 and "不在您的管辖范围" in out.text
    with transaction(sessions) as s:
        assert s.scalar(select(func.count()).select_from(Certificate)) == 1
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/staff").text)})

    sign_in(client, "13800000060", PASSWORD)
    home = client.get("/")
    assert "一星志愿者" in home.text and "再服务 180 小时升一星" in home.text
    mine = client.get("/certificates")
    assert number in mine.text and "荣誉证书" in mine.text
    own = client.get(f"/certificates/{number}/pdf")
    assert own.status_code == 200 and own.content.startswith(b"%PDF")
    client.cookies.set("cp_elder", "1")
    elder = client.get("/")
    assert 'class="elder' in elder.text and "一星志愿者" in elder.text
    client.cookies.delete("cp_elder")

    check = client.get(f"/verify/{number}")
    assert "真实有效" in check.text and "张**" in check.text


def test_verify_page_needs_no_sign_in_and_refuses_odd_numbers(client: TestClient) -> None:
    """Public, and a malformed number is refused before any lookup."""
    assert client.get("/verify/ZS20261207NOSUCH22").status_code == 404
    assert client.get("/verify/x'--").status_code in (404, 422)
