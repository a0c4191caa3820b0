"""HTTP of outcome indicators: the catalog, values of a region and months, one value, a CSV
import (all lines or none), the before/after comparison and a region's join day."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from civicpoints.identity import StaffCaller, staff
from civicpoints.insights.outcome_models import Indicator, OutcomeRevision, OutcomeValue
from civicpoints.insights.outcome_rules import month_key, plus, shown
from civicpoints.insights.outcome_schemas import (
    CODE_PATTERN,
    ComparisonRead,
    ImportReport,
    IndicatorCreate,
    IndicatorRead,
    JoinSet,
    OutcomeCreate,
    OutcomeList,
    OutcomeRead,
    RevisionRead,
)
from civicpoints.insights.outcomes import MAX_LIST, OutcomeService
from civicpoints.insights.schemas import MONTH_PATTERN
from civicpoints.insights.service import InsightsService
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.http import DbSession, ReadSession, file_upload, uploaded_file
from civicpoints.regions import Region

router = APIRouter(tags=["insights 统计分析"])
OutcomesCsv = Annotated[bytes, Depends(uploaded_file("file", "import_max_bytes", staff))]
IndicatorQ = Query(None, pattern=CODE_PATTERN, description="indicator code")
FromQ = Query(None, alias="from", pattern=MONTH_PATTERN, description="first month, YYYY-MM")
ToQ = Query(None, alias="to", pattern=MONTH_PATTERN, description="last month, YYYY-MM")


def indicator_read(i: Indicator) -> IndicatorRead:
    """An indicator as the API shows it."""
    return IndicatorRead.model_validate(i, from_attributes=True)


def outcome_read(
    v: OutcomeValue, i: Indicator, r: Region, history: list[OutcomeRevision]
) -> OutcomeRead:
    """A value as the API shows it, with the values it replaced."""
    return OutcomeRead(
        id=v.id, indicator=i.code, region_id=r.id, region=r.name, month=v.month,
        value=shown(v.milli), unit=i.unit, source=v.source, entered_by=v.entered_by,
        entered_at=v.entered_at, revision=v.revision,
        history=[
            RevisionRead(
                revision=h.revision, value=shown(h.milli), source=h.source,
                entered_by=h.entered_by, entered_at=h.entered_at, replaced_by=h.replaced_by,
                replaced_at=h.replaced_at, reason=h.reason,
            )
            for h in history
        ],
    )  # fmt: skip


@router.get("/insights/indicators", response_model=list[IndicatorRead])
def indicators(who: StaffCaller, db: ReadSession) -> list[IndicatorRead]:
    """The outcome indicators departments report (any staff member)."""
    return [indicator_read(i) for i in OutcomeService(db).indicators()]


@router.post("/insights/indicators", response_model=IndicatorRead, status_code=201)
def define_indicator(body: IndicatorCreate, who: StaffCaller, db: DbSession) -> IndicatorRead:
    """Define an indicator: code, names, unit, direction, owning department (city-wide
    administrators)."""
    return indicator_read(OutcomeService(db).define(who, body))


@router.get("/insights/outcomes", response_model=OutcomeList)
def outcomes(
    who: StaffCaller,
    db: ReadSession,
    region: uuid.UUID | None = Query(None, description="region id (default: the widest)"),
    indicator: str | None = IndicatorQ,
    first: str | None = FromQ,
    last: str | None = ToQ,
    limit: int = Query(200, ge=1, le=MAX_LIST),
) -> OutcomeList:
    """Values in a region and below for months from..to (default the last 12), with the
    values corrections replaced. Administrators and auditors of the region."""
    place = InsightsService(db).region_for(who, region)
    service = OutcomeService(db)
    chosen = service.indicator(indicator) if indicator else None
    this = month_key(local_date(utcnow()))
    rows, history, more = service.values(
        place, first or plus(this, -11), last or this, chosen, limit
    )
    items = [outcome_read(v, i, r, history.get(v.id, [])) for v, i, r in rows]
    return OutcomeList(items=items, truncated=more)


@router.post("/insights/outcomes", response_model=OutcomeRead, status_code=201)
def enter_outcome(body: OutcomeCreate, who: StaffCaller, db: DbSession) -> OutcomeRead:
    """Enter one value (staff of the indicator's department within their region, and
    administrators). A value for a cell that has one is a correction: it needs `reason`,
    and the old value is kept in `history`."""
    service = OutcomeService(db)
    value, _ = service.record(who, body, utcnow())
    i, r = service.indicator(body.indicator), service.regions.get(body.region_id)
    history = service.repo.history([value.id])
    return outcome_read(value, i, r, list(history))


@router.post(
    "/insights/outcomes/import",
    response_model=ImportReport,
    openapi_extra=file_upload("file", "CSV: indicator,region,month,value,source[,reason]"),
)
def import_outcomes(who: StaffCaller, db: DbSession, file: OutcomesCsv) -> ImportReport:
    """Import values from CSV (UTF-8, at most 1 MB and 5,000 lines; `region` is the region
    code). Any bad line: 422 listing every problem with its line, nothing written."""
    created, corrected = OutcomeService(db).import_csv(who, file, utcnow())
    return ImportReport(created=created, corrected=corrected)


@router.get("/insights/outcomes/comparison", response_model=ComparisonRead)
def comparison(
    who: StaffCaller,
    db: ReadSession,
    indicator: str = Query(pattern=CODE_PATTERN),
    region: uuid.UUID | None = Query(None, description="region id (default: the widest)"),
) -> ComparisonRead:
    """An indicator's average over the 12 months before the region joined the scheme and
    over the join month and the 11 after, with the change."""
    place = InsightsService(db).region_for(who, region)
    service = OutcomeService(db)
    day, c = service.comparison(service.indicator(indicator), place)
    return ComparisonRead(
        indicator=indicator, region_id=place.id, joined_on=day,
        before=c.before if c else None, after=c.after if c else None,
        months_before=c.months_before if c else 0, months_after=c.months_after if c else 0,
        change=c.change if c else None, change_pct=c.change_pct if c else None,
    )  # fmt: skip


@router.put("/insights/joins", response_model=JoinSet)
def set_joined(body: JoinSet, who: StaffCaller, db: DbSession) -> JoinSet:
    """Enter the day a region joined the scheme (its administrators); regions below it
    without their own day inherit it."""
    row = OutcomeService(db).set_joined(who, body.region_id, body.joined_on)
    return JoinSet(region_id=row.region_id, joined_on=row.joined_on)
