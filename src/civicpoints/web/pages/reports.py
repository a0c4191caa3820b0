"""The annual evaluation reports (/admin/reports): choose a region of the caller's scope and a
year; download the report as PDF or XLSX (the same service as the API, docs/insights.md).

The page itself computes nothing: it checks the choice and links the files, each made on
download (about two seconds for the demo city)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query
from fastapi.responses import Response

from civicpoints.insights import ReportService, report_file
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.http import snapshot
from civicpoints.web.pages.admin import AdminPage
from civicpoints.web.pages.forms import FormErrors
from civicpoints.web.pages.insights import near
from civicpoints.web.pages.kit import Page

router = APIRouter(include_in_schema=False)
YEARS = 10  # the years offered, this one first


@router.get("/admin/reports")
def reports(
    p: AdminPage, region: str = Query("", max_length=36), year: str = Query("", max_length=4)
) -> Response:
    """The form, and the download links of the chosen report."""
    place, regions = near(p, region)
    this = local_date(utcnow()).year
    years = [str(y) for y in range(this, this - YEARS, -1)]
    values = {"region": str(place.id), "year": year or str(this)}
    problems: list[tuple[str | None, str]] = []
    if region and region.lower() != values["region"]:  # not one the caller may read
        values["region"] = region
        problems.append(("region", p._("Choose a region from the list")))
    if not values["year"].isdigit() or not 2000 <= int(values["year"]) <= this:
        problems.append(("year", p._("Choose a year from 2000 to this year")))
    errors = FormErrors(problems)
    chosen = next((name.strip() for r, name in regions if r == values["region"]), "")
    return p.render(
        "admin/reports.html",
        400 if errors else 200,
        regions=regions,
        years=years,
        values=values,
        errors=errors,
        chosen=chosen,
        base=None if errors else f"/admin/reports/{values['region']}/{values['year']}",
    )


def _download(p: Page, region: uuid.UUID, year: int, fmt: str) -> Response:
    assert p.who is not None
    with snapshot(p.request) as db:  # the checkpoint and the figures read from one snapshot
        found = ReportService(db).gather(p.who, region, year, utcnow())
    body, media, name = report_file(found, fmt)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return p.finish(Response(body, media_type=media, headers=headers))


@router.get("/admin/reports/{region}/{year}.pdf")
def report_pdf(p: AdminPage, region: uuid.UUID, year: int) -> Response:
    """The report as PDF."""
    return _download(p, region, year, "pdf")


@router.get("/admin/reports/{region}/{year}.xlsx")
def report_xlsx(p: AdminPage, region: uuid.UUID, year: int) -> Response:
    """The report as XLSX."""
    return _download(p, region, year, "xlsx")
