"""HTTP of 隐患随手拍: residents report and follow; the department's staff decide."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from civicpoints.community.hazard_schemas import (
    CandidateRead,
    HazardDecision,
    HazardReportCreate,
    HazardReportRead,
)
from civicpoints.community.hazard_service import HazardService
from civicpoints.identity import ResidentCaller, StaffCaller, resident
from civicpoints.kit.clock import utcnow
from civicpoints.kit.errors import ContentTooLarge
from civicpoints.kit.http import (
    BODY_LIMIT,
    MULTIPART_SLACK,
    BodyLimitOf,
    Ctx,
    DbSession,
    Idempotent,
    ReadSession,
)

router = APIRouter(tags=["community 社区"])
Limit = Annotated[int, Query(ge=1, le=200)]
FIELDS = ("category", "community_id", "address", "description", "lat", "lon")


async def read_report(
    request: Request, _who: Annotated[Any, Depends(resident)]
) -> tuple[HazardReportCreate, bytes | None]:
    """The report's fields and its photo (None when absent), read once the caller is known."""
    limit = int(request.app.state.ctx.settings.upload_max_bytes)
    if isinstance(budget := request.scope.get(BODY_LIMIT), BodyLimitOf):
        budget.bytes = limit + MULTIPART_SLACK
    try:
        async with request.form(max_files=1, max_fields=12) as form:
            values = {k: form.get(k) for k in FIELDS}
            upload = form.get("photo")
            photo = await upload.read(limit + 1) if isinstance(upload, UploadFile) else None
    except HTTPException as exc:  # the body limit, passed while the form streamed in
        if exc.status_code == 413:
            raise ContentTooLarge("photo", limit) from None
        raise
    given = {k: v for k, v in values.items() if isinstance(v, str) and v != ""}
    try:
        return HazardReportCreate.model_validate(given), photo
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


Report = Annotated[tuple[HazardReportCreate, bytes | None], Depends(read_report)]
_FORM = {
    "type": "object",
    "required": ["photo", "category", "community_id", "address", "description"],
    "properties": {
        "photo": {"type": "string", "format": "binary", "description": "JPEG, PNG or WebP"},
        "category": {"type": "string", "enum": ["safety", "environment"]},
        "community_id": {"type": "string", "format": "uuid"},
        "address": {"type": "string", "minLength": 2, "maxLength": 200},
        "description": {"type": "string", "minLength": 2, "maxLength": 500},
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "lon": {"type": "number", "minimum": -180, "maximum": 180},
    },
}


@router.post(
    "/hazard-reports",
    response_model=HazardReportRead,
    status_code=201,
    openapi_extra={
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _FORM}}}
    },
)
def create_report(who: ResidentCaller, db: DbSession, ctx: Ctx, report: Report) -> HazardReportRead:
    """Report a safety or environmental hazard with a photo taken there (随手拍)."""
    data, photo = report
    row = HazardService(db, ctx).report(who.id, data, photo, utcnow())
    return HazardReportRead.model_validate(row)


@router.get("/me/hazard-reports", response_model=list[HazardReportRead])
def my_reports(
    who: ResidentCaller, db: ReadSession, ctx: Ctx, limit: Limit = 50
) -> list[HazardReportRead]:
    """The signed-in resident's reports and where each stands, newest first."""
    rows = HazardService(db, ctx).mine(who.id, limit)
    return [HazardReportRead.model_validate(r) for r in rows]


@router.get("/hazard-reports", response_model=list[HazardReportRead])
def queue(
    who: StaffCaller, db: ReadSession, ctx: Ctx, limit: Limit = 100
) -> list[HazardReportRead]:
    """Open reports routed to the caller's department, oldest first."""
    rows = HazardService(db, ctx).queue(who, limit)
    return [HazardReportRead.model_validate(r) for r in rows]


def _with_candidates(service: HazardService, report_id: uuid.UUID, who: Any) -> HazardReportRead:
    row = service.scoped(report_id, who)
    read = HazardReportRead.model_validate(row)
    read.candidates = [
        CandidateRead(
            id=c.report.id,
            status=c.report.status,
            address=c.report.address,
            reported_at=c.report.reported_at,
            metres=c.metres,
        )
        for c in service.candidates(row)
    ]
    return read


@router.get("/hazard-reports/{report_id}", response_model=HazardReportRead)
def get_report(
    report_id: uuid.UUID, who: StaffCaller, db: ReadSession, ctx: Ctx
) -> HazardReportRead:
    """One report of the caller's department, with duplicate candidates (100 m, 48 h)."""
    return _with_candidates(HazardService(db, ctx), report_id, who)


@router.get("/hazard-reports/{report_id}/photo", response_class=FileResponse)
def report_photo(report_id: uuid.UUID, who: StaffCaller, db: ReadSession, ctx: Ctx) -> Any:
    """The report's photo, for its department only."""
    path, mime = HazardService(db, ctx).photo(report_id, who)
    return FileResponse(path, media_type=mime)


@router.post("/hazard-reports/{report_id}/decision", response_model=HazardReportRead)
def decide(
    report_id: uuid.UUID,
    body: HazardDecision,
    who: StaffCaller,
    db: DbSession,
    ctx: Ctx,
    once: Idempotent,
) -> HazardReportRead:
    """Confirm (a first report earns points), merge into the first report, or reject."""

    def run() -> HazardReportRead:
        service = HazardService(db, ctx)
        service.decide(report_id, body, who, utcnow())
        return _with_candidates(service, report_id, who)

    return once(who.key, body, run)
