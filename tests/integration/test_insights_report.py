"""The annual evaluation report (年度评估报告, issue 13 item 3) of the demo city: the PDF's
text and the XLSX read back carry the dashboard's own figures for the same region and range,
the signed global checkpoint the points are at (and points recorded after it are left out,
stated), small counts suppressed, scope 404, bad years refused with nothing written."""

from __future__ import annotations

import io
import re
import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.audit.models import AuditEntry
from civicpoints.cli.demo import load_demo
from civicpoints.identity import IdentityService
from civicpoints.identity.models import Staff
from civicpoints.insights import InsightsService, ReportService, Rollup
from civicpoints.insights.report_layout import fmt
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import ProofService, checkpoint_coverage
from civicpoints.regions import Region, RegionService
from civicpoints.web.app import create_app

from .test_api import login
from .test_receipts import sequence

FIGURE_ID = re.compile(r"^[A-Z][0-9]+(\.[0-9]+)*[a-d]?$")
YEAR = local_date(utcnow()).year
# The figures the report must share with the dashboard (its XLSX id → FiguresRead totals).
SAME = {
    "P1": lambda t: t.participants,
    "P2": lambda t: t.registered_residents,
    "P3": lambda t: t.participation_rate,
    "H1": lambda t: t.hours,
    "H2": lambda t: t.participations,
    "L1": lambda t: t.points.issued,
    "L2": lambda t: t.points.redeemed,
    "L3": lambda t: t.points.expired,
    "L4": lambda t: t.points.donated,
    "L5": lambda t: t.points.clawed_back,
    "L6": lambda t: t.outstanding,
    "L7": lambda t: t.redemption_rate,
    "F1": lambda t: t.fraud_flags,
    "F2": lambda t: t.clawbacks,
}


@pytest.fixture
def demo(sessions: sessionmaker[Session], ctx: Context, settings: Settings) -> Iterator[TestClient]:
    """The demo city (60 residents), rolled up and sequenced, served."""
    assert load_demo(sessions, ctx, residents=60, seed=7) is True
    with transaction(sessions) as s:
        Rollup(s).run(utcnow())
    sequence(settings)
    with TestClient(create_app(settings)) as c:
        yield c


def _region(sessions: sessionmaker[Session], name: str) -> Region:
    with transaction(sessions) as s:
        return next(r for r in RegionService(s).tree() if r.name == name)


def _sheet(body: bytes) -> dict[str, Any]:
    """The XLSX's figure rows: id → value."""
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet is not None
    out: dict[str, Any] = {}
    for row in sheet.iter_rows(values_only=True):
        if row and isinstance(row[0], str) and len(row) >= 3 and FIGURE_ID.match(row[0]):
            out.setdefault(row[0], row[2])
    return out


def _text(pdf: bytes, tmp: Any) -> str:
    path = tmp / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def _dashboard(sessions: sessionmaker[Session], region: Region) -> Any:
    with transaction(sessions) as s:
        first = local_date(utcnow()).replace(month=1, day=1)
        last = local_date(utcnow()).replace(day=1)
        return InsightsService(s).figures(region, first, last, utcnow())


@pytest.mark.parametrize("place", ["杭州市", "西湖区"])
def test_the_report_carries_the_dashboards_figures_and_the_checkpoint(
    demo: TestClient, sessions: sessionmaker[Session], place: str, tmp_path: Any
) -> None:
    region = _region(sessions, place)
    headers = login(demo, "admin")
    url = f"/api/v1/insights/reports/{region.id}/{YEAR}"
    xlsx = demo.get(url + ".xlsx", headers=headers)
    assert xlsx.status_code == 200, xlsx.text
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    pdf = demo.get(url + ".pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    figures = _dashboard(sessions, region).totals
    got = _sheet(xlsx.content)
    for fid, read in SAME.items():
        assert got[fid] == read(figures), fid
    assert figures.points.issued > 0 and figures.hours > 0
    with transaction(sessions) as s:
        latest = ProofService(s).latest()["global"]
        coverage = checkpoint_coverage(s)
    assert coverage is not None and coverage.pending_entries == 0
    text = _text(pdf.content, tmp_path)
    assert f"{place} {YEAR} 年度评估报告" in text
    assert coverage.root_b64 in text and coverage.root.hex() in text
    assert coverage.root_b64 in latest["note"] and f"{coverage.size:,}" in text
    assert coverage.origin in text
    assert fmt(figures.points.issued) in text and fmt(figures.hours) in text, text
    if place == "西湖区":  # the demo's join day, indicators and the annual survey
        assert got["O1b"] is not None and got["S1"] is not None
        assert "垃圾分类执行率" in text and "年度居民满意度问卷" in text
        assert got["P5"] is not None and got["P7"] is not None


def test_points_recorded_after_the_checkpoint_are_left_out_and_said(
    demo: TestClient,
    sessions: sessionmaker[Session],
    ctx: Context,
    settings: Settings,
    fund: Callable[..., None],
) -> None:
    city = _region(sessions, "杭州市")
    with transaction(sessions) as s:
        admin = IdentityService(s, ctx).staff_principal(
            s.scalars(select(Staff).where(Staff.username == "admin")).one()
        )
    fund(uuid.uuid4(), 37)  # recorded after the last sequencer pass: in no checkpoint yet
    dashboard = _dashboard(sessions, city).totals
    with transaction(sessions) as s:
        report = ReportService(s).gather(admin, city.id, YEAR, utcnow())
    assert report.ledger.issued == dashboard.points.issued - 37
    assert report.ledger.left_out.get("issued") == 37
    assert report.ledger.checkpoint is not None and report.ledger.checkpoint.pending_entries >= 1
    assert report.figures.totals.points.issued == dashboard.points.issued
    sequence(settings)
    with transaction(sessions) as s:
        again = ReportService(s).gather(admin, city.id, YEAR, utcnow())
    assert again.ledger.issued == dashboard.points.issued and not again.ledger.left_out
    assert again.ledger.checkpoint is not None
    assert again.ledger.checkpoint.size > report.ledger.checkpoint.size


def test_small_counts_are_suppressed(
    demo: TestClient, sessions: sessionmaker[Session], tmp_path: Any
) -> None:
    """A community with few participants: its counts of people read "<10" in both files;
    survey options chosen by fewer than 10 people too."""
    headers = login(demo, "admin")
    with transaction(sessions) as s:
        tree = RegionService(s).tree()
        district = next(r for r in tree if r.name == "西湖区")
    community = next(
        r
        for r in sorted(tree, key=lambda r: r.path)
        if r.level == "community" and r.path.startswith(district.path)
    )
    dash = _dashboard(sessions, community).totals
    assert dash.participants == "<10" or isinstance(dash.participants, int)
    url = f"/api/v1/insights/reports/{community.id}/{YEAR}"
    got = _sheet(demo.get(url + ".xlsx", headers=headers).content)
    assert got["P1"] == dash.participants and got["F1"] == "<10"
    for fid, value in got.items():
        if fid[:1] in "PFS" and isinstance(value, int):
            assert value >= 10, (fid, value)
    whole = _sheet(
        demo.get(f"/api/v1/insights/reports/{district.id}/{YEAR}.xlsx", headers=headers).content
    )
    survey_cells = {k: v for k, v in whole.items() if k.startswith("S1.")}
    assert survey_cells and "<10" in survey_cells.values()
    assert all(
        v in ("<10", "x", "—") or int(str(v).replace(",", "")) >= 10 for v in survey_cells.values()
    )
    text = _text(demo.get(url + ".pdf", headers=headers).content, tmp_path)
    assert "<10" in text


def test_scope_and_bad_years(
    demo: TestClient, sessions: sessionmaker[Session], ctx: Context
) -> None:
    """A street administrator: another street, the city and an unknown id read 404 alike;
    residents and staff without the roles are refused; bad years 422; nothing is written."""
    with transaction(sessions) as s:
        tree = RegionService(s).tree()
        streets = sorted((r for r in tree if r.level == "street"), key=lambda r: r.path)
        identity = IdentityService(s, ctx)
        admin = s.scalars(select(Staff).where(Staff.username == "admin")).one()
        member = identity.add_staff(
            "report_street", "街道管理员", None, password_hash=admin.password_hash
        )
        identity.grant(member, "admin", region_id=streets[0].id)
        city = next(r for r in tree if r.parent_id is None)
    headers = login(demo, "report_street")
    mine = demo.get(f"/api/v1/insights/reports/{streets[0].id}/{YEAR}.xlsx", headers=headers)
    assert mine.status_code == 200, mine.text
    for other in (streets[1].id, city.id, uuid.uuid4()):
        r = demo.get(f"/api/v1/insights/reports/{other}/{YEAR}.pdf", headers=headers)
        assert r.status_code == 404, r.text
        assert r.json()["code"] == "insights.report_region_not_found"
    organizer = login(demo, "organizer")
    assert (
        demo.get(
            f"/api/v1/insights/reports/{streets[0].id}/{YEAR}.pdf", headers=organizer
        ).status_code
        == 403
    )
    assert demo.get(f"/api/v1/insights/reports/{streets[0].id}/{YEAR}.pdf").status_code == 401
    with transaction(sessions) as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    for year in ("1999", str(YEAR + 1), "0000", "20266", "abcd"):
        r = demo.get(f"/api/v1/insights/reports/{streets[0].id}/{year}.pdf", headers=headers)
        assert r.status_code == 422, (year, r.text)
    r = demo.get(f"/api/v1/insights/reports/{streets[0].id}/{YEAR + 1}.xlsx", headers=headers)
    assert r.json()["code"] == "insights.invalid_year" and "年份" in r.json()["detail"]
    with transaction(sessions) as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before
