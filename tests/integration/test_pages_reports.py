"""/admin/reports: a region of the caller's scope and a year; links to the PDF and the XLSX,
made on download by the API's service; a street administrator's picker holds their street
only, and another region's file reads 404; a bad year is refused in the page's words."""

from __future__ import annotations

import io
import re

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.kit.clock import local_date, utcnow

from .pages import sign_in
from .test_insights_api import street_admin  # noqa: F401 (a fixture)
from .test_pages_insights import text_of

YEAR = local_date(utcnow()).year


def test_the_auditor_downloads_the_citys_report(client: TestClient, city: City) -> None:
    sign_in(client, "auditor", DEMO_STAFF_PASSWORD)
    r = client.get("/admin/reports")
    assert r.status_code == 200, r.text
    text = text_of(r.text)
    assert "年度评估报告" in text and f"杭州市，{YEAR} 年" in text
    base = f"/admin/reports/{city.city.id}/{YEAR}"
    assert f'href="{base}.pdf"' in r.text and f'href="{base}.xlsx"' in r.text
    pdf = client.get(base + ".pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"] == (
        f'attachment; filename="civicpoints-report-3301-{YEAR}.pdf"'
    )
    sheet = load_workbook(io.BytesIO(client.get(base + ".xlsx").content)).active
    assert sheet is not None
    rows: dict[object, object] = {}
    for row in sheet.iter_rows(values_only=True):
        rows.setdefault(row[0], row[2])  # the figure's row (the sources table comes last)
    assert rows["P1"] == "<10" and rows["L1"] == 0 and rows["F1"] == "<10"
    assert str(sheet["A1"].value) == f"杭州市 {YEAR} 年度评估报告"
    client.cookies.set("cp_lang", "en")
    english = text_of(client.get("/admin/reports").text)
    assert "Annual evaluation reports" in english and "Download the report (PDF)" in english


def test_a_street_administrator_and_bad_choices(
    client: TestClient,
    city: City,
    street_admin: str,  # noqa: F811
) -> None:
    sign_in(client, street_admin, DEMO_STAFF_PASSWORD)
    html = client.get("/admin/reports").text
    options = re.findall(r'<option value="([0-9a-f-]{36})"', html)
    assert options[0] == str(city.streets[0].id)
    assert str(city.city.id) not in options and str(city.streets[1].id) not in options
    for other in (city.city.id, city.streets[1].id):
        assert client.get(f"/admin/reports/{other}/{YEAR}.pdf").status_code == 404
    mine = client.get(f"/admin/reports/{city.streets[0].id}/{YEAR}.xlsx")
    assert mine.status_code == 200
    bad = client.get("/admin/reports", params={"year": "1999"})
    assert bad.status_code == 400 and "请选择 2000 年至今年之间的年份" in text_of(bad.text)
    assert "/admin/reports/" not in bad.text.split("</form>")[1]
    odd = client.get("/admin/reports", params={"region": str(city.city.id)})
    assert odd.status_code == 400 and "Choose a region" not in odd.text
    assert client.get(f"/admin/reports/{city.streets[0].id}/{YEAR + 1}.pdf").status_code == 422
