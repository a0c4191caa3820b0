"""GET /api/v1/insights/figures (+ .csv, .xlsx): administrators and auditors of a region
only (scope before existence), bounded input, counts of people under 10 read "<10", no
spreadsheet cell is a live formula."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Role
from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.identity import IdentityService, hash_password
from civicpoints.identity.models import Resident
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.regions import Level, RegionService

from .test_api import login

URL = "/api/v1/insights/figures"


@pytest.fixture
def street_admin(sessions: sessionmaker[Session], ctx: Context, city: City) -> str:
    """An administrator of the first street only (北山街道)."""
    with transaction(sessions) as s:
        identity = IdentityService(s, ctx)
        member = identity.add_staff(
            "street_admin",
            "北山街道管理员 周主任",
            None,
            password_hash=hash_password(DEMO_STAFF_PASSWORD),
        )
        identity.grant(member, Role.ADMIN, region_id=city.streets[0].id)
    return "street_admin"


def test_a_street_administrator_sees_their_street_only(
    client: TestClient, city: City, street_admin: str
) -> None:
    headers = login(client, street_admin)
    mine = client.get(URL, params={"region": str(city.streets[0].id)}, headers=headers)
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["region"]["name"] == city.streets[0].name and len(body["months"]) == 12
    default = client.get(URL, headers=headers).json()  # the widest region of their scope
    assert default["region"]["id"] == str(city.streets[0].id)
    community = city.communities[0].id
    assert client.get(URL, params={"region": str(community)}, headers=headers).status_code == 200
    for other in (city.streets[1].id, city.city.id, uuid.uuid4()):  # scope before existence
        r = client.get(URL, params={"region": str(other)}, headers=headers)
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    auditor = login(client, "auditor")
    assert client.get(URL, params={"region": str(uuid.uuid4())}, headers=auditor).status_code == 404
    assert client.get(URL, headers=auditor).json()["region"]["id"] == str(city.city.id)


def test_other_staff_and_residents_are_refused(client: TestClient) -> None:
    assert client.get(URL, headers=login(client, "organizer")).status_code == 403
    assert client.get(URL).status_code == 401


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-13"},
        {"from": "26-01"},
        {"from": "2026-05", "to": "2026-04"},
        {"from": "2020-01", "to": "2026-12"},
        {"region": "not-a-uuid"},
    ],
)
def test_bad_input_is_refused(client: TestClient, params: dict[str, str]) -> None:
    r = client.get(URL, params=params, headers=login(client, "auditor"))
    assert r.status_code == 422, r.text


def test_exports_suppress_small_counts_and_carry_no_formula(
    sessions: sessionmaker[Session],
    client: TestClient,
    city: City,
    make_resident: Callable[..., Resident],
) -> None:
    """A community named like a formula (typed by an administrator) stays text; 1 registered
    resident reads "<10" in the JSON, the CSV and the XLSX."""
    with transaction(sessions) as s:
        place = RegionService(s).add_region(
            "EVIL", '=HYPERLINK("http://x","y")', Level.COMMUNITY, city.streets[0]
        )
    make_resident()
    headers = login(client, "admin")
    params = {"region": str(place.id), "from": "2026-01", "to": "2026-03"}
    body = client.get(URL, params=params, headers=headers).json()
    assert body["totals"]["registered_residents"] == "<10" and len(body["months"]) == 3
    city_wide = client.get(URL, params={"from": "2026-01", "to": "2026-03"}, headers=headers)
    assert city_wide.json()["totals"]["registered_residents"] == "<10"
    csv = client.get(URL + ".csv", params=params, headers=headers)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=" not in text and ",=" not in text
    assert "<10" in text
    xlsx = client.get(URL + ".xlsx", params=params, headers=headers)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    cell = sheet.cell(row=1, column=2)
    assert cell.value == '=HYPERLINK("http://x","y")' and cell.data_type == "s"
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert "<10" in values
