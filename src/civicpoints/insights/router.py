"""HTTP for the figures (JSON, CSV and XLSX of a region and a range of Beijing months), the
policy simulator, and a resident's recommendations (为您推荐: read, turn on or off)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from civicpoints.identity import ResidentCaller, StaffCaller
from civicpoints.insights.export import XLSX, as_file
from civicpoints.insights.recs import RecsService
from civicpoints.insights.schemas import (
    MONTH_PATTERN,
    FiguresRead,
    RecommendationRead,
    RecommendationsRead,
    RecommendationsSet,
)
from civicpoints.insights.service import InsightsService, default_range, month_start
from civicpoints.insights.simulator import Simulator
from civicpoints.insights.simulator_schemas import SimulationCreate, SimulationRead
from civicpoints.kit.clock import utcnow
from civicpoints.kit.http import DbSession, ReadSession

router = APIRouter(tags=["insights 统计分析"])
FILES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, XLSX: {}}, "description": "CSV or XLSX file"}
}
RegionQ = Query(None, description="region id (default: the caller's widest scope)")
FromQ = Query(None, alias="from", pattern=MONTH_PATTERN, description="first month, YYYY-MM")
ToQ = Query(None, alias="to", pattern=MONTH_PATTERN, description="last month, YYYY-MM")


def _figures(
    who: StaffCaller, db: ReadSession, region: uuid.UUID | None, first: str | None, last: str | None
) -> FiguresRead:
    service, now = InsightsService(db), utcnow()
    place = service.region_for(who, region)
    a, b = default_range(now)
    start = month_start(first) if first else a
    end = month_start(last) if last else b
    return service.figures(place, start, end, now)


@router.get("/insights/figures", response_model=FiguresRead)
def figures(
    who: StaffCaller,
    db: ReadSession,
    region: uuid.UUID | None = RegionQ,
    first: str | None = FromQ,
    last: str | None = ToQ,
) -> FiguresRead:
    """A region's figures by Beijing month (at most 36; default the last 12): participants,
    volunteers new and returning, hours, participations, points, liability, age × sex and
    more. Administrators and auditors of the region only; counts of people under 10 read
    "<10" (docs/insights.md)."""
    return _figures(who, db, region, first, last)


def _file(
    fmt: str, who: Any, db: Any, region: uuid.UUID | None, first: str | None, last: str | None
) -> Response:
    body, media, name = as_file(_figures(who, db, region, first, last), fmt)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media, headers=headers)


@router.get("/insights/figures.csv", response_class=Response, responses=FILES)
def figures_csv(
    who: StaffCaller,
    db: ReadSession,
    region: uuid.UUID | None = RegionQ,
    first: str | None = FromQ,
    last: str | None = ToQ,
) -> Response:
    """The same figures as CSV (UTF-8 with BOM; formula-like cells made inert)."""
    return _file("csv", who, db, region, first, last)


@router.get("/insights/figures.xlsx", response_class=Response, responses=FILES)
def figures_xlsx(
    who: StaffCaller,
    db: ReadSession,
    region: uuid.UUID | None = RegionQ,
    first: str | None = FromQ,
    last: str | None = ToQ,
) -> Response:
    """The same figures as XLSX (text cells are never formulas)."""
    return _file("xlsx", who, db, region, first, last)


@router.post("/insights/simulations", response_model=SimulationRead)
def simulate(who: StaffCaller, db: ReadSession, body: SimulationCreate) -> SimulationRead:
    """政策模拟: try rule changes (rates, the monthly cap, expiry, regional weights, reward
    prices) against the last 12 months of real award decisions in a region the caller
    administers. The same scoring rules as real awards, replayed; nothing is saved. Returns
    points issued, cost and liability in yuan (fen), residents at the cap and months of budget
    left, current vs proposed, and points by month (docs/insights.md)."""
    return Simulator(db).simulate(who, body, utcnow())


@router.get("/me/recommendations", response_model=RecommendationsRead)
def recommendations(who: ResidentCaller, db: DbSession) -> RecommendationsRead:
    """Your recommended activities, as your home page shows them (ranked now if your list is
    older than the night before; empty when you turned them off)."""
    return _recommendations(RecsService(db), who.id)


@router.put("/me/recommendations", response_model=RecommendationsRead)
def set_recommendations(
    body: RecommendationsSet, who: ResidentCaller, db: DbSession
) -> RecommendationsRead:
    """Turn your recommendations on (ranked now) or off (your stored list deleted now, never
    computed again until you turn them back on)."""
    recs = RecsService(db)
    recs.turn(who.id, "1" if body.enabled else "0", utcnow())
    return _recommendations(recs, who.id)


def _recommendations(recs: RecsService, resident_id: uuid.UUID) -> RecommendationsRead:
    items = [
        RecommendationRead(
            rank=s.rank,
            activity_id=s.activity.id,
            title=s.activity.title,
            starts_at=s.activity.starts_at,
            reason=s.reason.code,
            reason_arg=s.reason.arg,
        )
        for s in recs.suggestions(resident_id, utcnow())
    ]
    return RecommendationsRead(enabled=recs.enabled(resident_id), items=items)
