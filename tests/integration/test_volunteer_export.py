"""The export of volunteer records (issue 11 item 7): the 2020 rules' five categories as JSON
and CSV, ID numbers masked unless the exporter may see them, every export audited, CSV cells
inert, another organization's records out of reach."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.audit.models import AuditEntry
from civicpoints.cli.city import City
from civicpoints.identity.models import Resident
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction

from .conftest import id_number
from .test_api import login
from .test_pages_admin import earn

Maker = Callable[..., uuid.UUID]


def exports(sessions: sessionmaker[Session]) -> list[AuditEntry]:
    """The audit rows of volunteer-record exports."""
    with transaction(sessions) as s:
        stmt = select(AuditEntry).where(AuditEntry.action == "activities.volunteer_records_export")
        return list(s.scalars(stmt).all())


def test_export_masks_for_organizers_and_audits_every_export(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    ctx: Context,
    staff: Callable[[str], Principal],
    make_activity: Maker,
    make_resident: Callable[..., Resident],
) -> None:
    """Organizer: masked JSON and CSV; admin: full numbers, one audit row per person too;
    a formula in an activity title stays text; another department's organizer: 404."""
    zhang = make_resident("张秀英")
    earn(sessions, ctx, staff, make_activity, zhang, [4, 2])
    committee = str(city.committees[0].id)
    url = f"/api/v1/volunteer-records?organization_id={committee}"

    doc = client.get(url, headers=login(client, "organizer")).json()
    [v] = doc["volunteers"]
    assert set(v) == {"personal", "service", "training", "honours", "evaluation"}
    assert v["personal"]["id_number"] == zhang.id_masked and doc["id_numbers"] == "masked"
    assert [s["hours"] for s in v["service"]] == [4, 2]
    assert v["evaluation"] == {"star_level": "", "total_hours": 6}
    assert len(exports(sessions)) == 1

    full = client.get(url, headers=login(client, "admin")).json()
    assert full["volunteers"][0]["personal"]["id_number"] == id_number(1)
    rows = exports(sessions)
    assert len(rows) == 3 and {r.subject_id for r in rows} == {None, zhang.id}

    out = client.get(url + "&format=csv", headers=login(client, "organizer"))
    assert out.status_code == 200 and out.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(out.content.decode("utf-8-sig"))))
    assert table[0][1].startswith("个人信息.姓名") and len(table) == 3
    assert table[1][4] == zhang.id_masked

    assert client.get(url, headers=login(client, "env_officer")).status_code == 404
    assert len(exports(sessions)) == 4


def test_csv_cells_are_inert(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    ctx: Context,
    staff: Callable[[str], Principal],
    make_resident: Callable[..., Resident],
    make_activity: Maker,
) -> None:
    """An activity titled like a formula is written behind a quote."""
    zhang = make_resident("张秀英")

    def evil(*args: object, **kw: object) -> uuid.UUID:
        return make_activity(*args, **{**kw, "title": '=HYPERLINK("http://x","y")'})

    earn(sessions, ctx, staff, evil, zhang, [2])
    url = f"/api/v1/volunteer-records?organization_id={city.committees[0].id}&format=csv"
    text = client.get(url, headers=login(client, "organizer")).content.decode("utf-8-sig")
    row = list(csv.reader(io.StringIO(text)))[1]
    assert row[6] == '\'=HYPERLINK("http://x","y")'
