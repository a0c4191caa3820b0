"""Settlement exports carry no live formula (issue 8, defect 10; OWASP CSV injection), on
SQLite and PostgreSQL: names a spreadsheet would run are escaped in CSV and are plain text
cells in XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.cli.demo_rewards import Rewards
from civicpoints.kit.clock import month_key, utcnow
from civicpoints.kit.db import transaction
from civicpoints.rewards.models import Item, Merchant, Sponsor
from tests.integration.test_api import login
from tests.integration.test_rewards import API, redeem, zhang

# What a hostile or careless name looks like to Excel, LibreOffice or Google Sheets.
PAYLOADS: dict[tuple[type[Item | Merchant | Sponsor], str], str] = {
    (Merchant, "lianhua-xihu"): '=HYPERLINK("http://x","y")',
    (Sponsor, "city-fund"): "+1",
    (Item, "SM-10"): "-2",
    (Merchant, "metro-service"): "@SUM(A1)",
    (Sponsor, "hz-metro"): "\t=1",
    (Item, "TRANSIT-MONTH"): "\r=cmd|' /C calc'!A0",
}
LEADS = ("=", "+", "-", "@", "\t", "\r")


def used_vouchers_with_hostile_names(
    client: TestClient,
    city: City,
    rewards: Rewards,
    fund: Callable[..., None],
    sessions: sessionmaker[Session],
) -> dict[str, str]:
    """Two vouchers used at two merchants, then every name of the month made hostile."""
    headers = zhang(client, city, fund, points=1120)
    for code, clerk in (("SM-10", "clerk"), ("TRANSIT-MONTH", "clerk_metro")):
        made = redeem(client, headers, rewards.items[code])
        assert made.status_code == 201, made.text
        voucher = made.json()["vouchers"][0]["code"]
        used = client.post(f"{API}/vouchers/{voucher}/verify", headers=login(client, clerk))
        assert used.status_code == 200, used.text
    with transaction(sessions) as s:  # names as an import or an old release may have left them
        for (model, code), name in PAYLOADS.items():
            s.execute(update(model).where(model.code == code).values(name=name))
    return login(client, "admin")


def export(client: TestClient, admin: dict[str, str], fmt: str) -> bytes:
    """GET /settlements/export for this month."""
    params = {"month": month_key(utcnow()), "format": fmt}
    r = client.get(f"{API}/settlements/export", params=params, headers=admin)
    assert r.status_code == 200, r.text
    return r.content


def test_csv_and_xlsx_settlements_carry_no_formula(
    client: TestClient,
    city: City,
    rewards: Rewards,
    fund: Callable[..., None],
    sessions: sessionmaker[Session],
) -> None:
    """CSV: each hostile name is written with a leading ' and no cell starts a formula;
    XLSX: no cell is a formula, each name is its own text, marked as quoted text."""
    admin = used_vouchers_with_hostile_names(client, city, rewards, fund, sessions)
    text = export(client, admin, "csv").decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]
    for name in PAYLOADS.values():
        assert "'" + name in cells, name
        assert name not in cells, name
    assert [c for c in cells if c.startswith(LEADS)] == []

    book = load_workbook(io.BytesIO(export(client, admin, "xlsx")))
    found = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert [c.coordinate for c in found if c.data_type == "f"] == []
    texts = {c.value: c for c in found if isinstance(c.value, str)}
    for name in PAYLOADS.values():
        cell = texts[name.replace("\r", "\n")]  # XML reads a bare CR back as LF
        assert cell.data_type == "s" and cell.quotePrefix, repr(name)
