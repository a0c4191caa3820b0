"""The staff page for the export of volunteer records (/staff/volunteer-records): an
organization in scope, CSV and JSON download links that work without script, masked ID
numbers unless city-wide administrator, every export audited, outside the scope 404."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.audit.models import AuditEntry
from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.identity.models import Resident
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction

from .conftest import id_number
from .pages import sign_in
from .test_pages_admin import earn

PAGE = "/staff/volunteer-records"


def exports(sessions: sessionmaker[Session]) -> list[AuditEntry]:
    with transaction(sessions) as s:
        stmt = select(AuditEntry).where(AuditEntry.action == "activities.volunteer_records_export")
        return list(s.scalars(stmt).all())


def links(html: str) -> list[str]:
    """The page's download links (their href, entities undone)."""
    found = re.findall(r'href="(/staff/volunteer-records/download\?[^"]+)"', html)
    return [x.replace("&amp;", "&") for x in found]


def test_an_organizer_downloads_masked_records_and_each_export_is_audited(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    ctx: Context,
    staff: Callable[[str], Principal],
    make_activity: Callable[..., uuid.UUID],
    make_resident: Callable[..., Resident],
) -> None:
    zhang = make_resident("张秀英")
    earn(sessions, ctx, staff, make_activity, zhang, [4, 2])
    committee = str(city.committees[0].id)
    sign_in(client, "organizer", DEMO_STAFF_PASSWORD)
    page = client.get(f"{PAGE}?organization={committee}").text
    assert "每次导出都会记入审计日志" in page and "证件号码已脱敏" in page
    assert 'href="/staff/volunteer-records" aria-current=page' in page  # in the staff menu
    csv_url, json_url = links(page)
    assert csv_url.endswith(f"organization_id={committee}&format=csv") and "format=json" in json_url
    assert exports(sessions) == []  # showing the page exports nothing

    out = client.get(csv_url)
    assert out.status_code == 200 and out.headers["content-type"].startswith("text/csv")
    assert "attachment" in out.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(out.content.decode("utf-8-sig"))))
    assert len(table) == 3 and table[1][4] == zhang.id_masked
    doc = json.loads(client.get(json_url).content)
    assert doc["id_numbers"] == "masked" and len(doc["volunteers"]) == 1
    assert [r.targets for r in exports(sessions)] == [[committee, "masked"]] * 2

    # another organization (a department's, outside a street's organizer): 404, no export
    other = city.departments["HB"].id
    assert client.get(f"{PAGE}/download?organization_id={other}").status_code == 404
    assert client.get(f"{PAGE}/download?organization_id={uuid.uuid4()}").status_code == 404
    # a malformed query on a page is an address that does not exist (web/pages/errors.py)
    assert client.get(f"{PAGE}/download?organization_id=x&format=csv").status_code == 404
    assert client.get(f"{PAGE}/download?organization_id={committee}&format=xls").status_code == 404
    page = client.get(f"{PAGE}?organization={other}").text  # not theirs: not offered
    assert all(str(other) not in link for link in links(page)) and len(links(page)) == 2
    assert len(exports(sessions)) == 2


def test_a_citywide_administrator_exports_full_id_numbers_and_is_told(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    ctx: Context,
    staff: Callable[[str], Principal],
    make_activity: Callable[..., uuid.UUID],
    make_resident: Callable[..., Resident],
) -> None:
    zhang = make_resident("张秀英")
    earn(sessions, ctx, staff, make_activity, zhang, [3])
    sign_in(client, "admin", DEMO_STAFF_PASSWORD)
    page = client.get(f"{PAGE}?organization={city.committees[0].id}").text
    assert "导出包含完整证件号码" in page
    [_csv, json_url] = links(page)
    doc = client.get(json_url).json()
    assert doc["volunteers"][0]["personal"]["id_number"] == id_number(1)
    assert {r.subject_id for r in exports(sessions)} == {None, zhang.id}


def test_staff_without_the_role_and_residents_cannot_export(client: TestClient, city: City) -> None:
    url = f"{PAGE}/download?organization_id={city.committees[0].id}"
    for username in ("civil", "clerk", "auditor"):
        client.cookies.clear()
        sign_in(client, username, DEMO_STAFF_PASSWORD)
        assert client.get(PAGE).status_code == 403
        assert client.get(url).status_code == 403
    client.cookies.clear()
    assert client.get(url, follow_redirects=False).status_code in (302, 303)
