"""HTTP for the annual evaluation report (年度评估报告): PDF and XLSX of a region and a year."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from civicpoints.identity import StaffCaller
from civicpoints.insights.report import PDF, XLSX, ReportService, report_file
from civicpoints.kit.clock import utcnow
from civicpoints.kit.http import snapshot

router = APIRouter(tags=["insights 统计分析"])
FILES: dict[int | str, dict[str, Any]] = {
    200: {"content": {PDF: {}, XLSX: {}}, "description": "the report as PDF or XLSX"}
}
YearP = Path(ge=1000, le=9999, description="the report's year (Beijing calendar)")


def _report(request: Request, who: Any, region: uuid.UUID, year: int, fmt: str) -> Response:
    with snapshot(request) as db:  # one snapshot: the checkpoint and the figures agree
        found = ReportService(db).gather(who, region, year, utcnow())
    body, media, name = report_file(found, fmt)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media, headers=headers)


@router.get("/insights/reports/{region}/{year}.pdf", response_class=Response, responses=FILES)
def report_pdf(
    request: Request, who: StaffCaller, region: uuid.UUID, year: int = YearP
) -> Response:
    """The annual evaluation report of a region and a year as PDF: participation before and
    after the join day, hours, points at the newest signed global checkpoint, outcome
    indicators, surveys, budget, fraud and clawbacks; every number with its figure id
    (docs/insights.md). Administrators and auditors of the region; others 404."""
    return _report(request, who, region, year, "pdf")


@router.get("/insights/reports/{region}/{year}.xlsx", response_class=Response, responses=FILES)
def report_xlsx(
    request: Request, who: StaffCaller, region: uuid.UUID, year: int = YearP
) -> Response:
    """The same report as XLSX: one row per figure id with its value, unit and source."""
    return _report(request, who, region, year, "xlsx")
