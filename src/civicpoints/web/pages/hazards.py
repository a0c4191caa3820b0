"""隐患随手拍 pages: the resident's report form and 我的上报; the department's queue with
duplicate candidates (no map) and the confirm / merge / reject forms. Same services and
errors as `/api/v1/hazard-reports`.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from civicpoints.access import Role
from civicpoints.community import (
    HazardDecision,
    HazardReport,
    HazardReportCreate,
    HazardService,
)
from civicpoints.identity import IdentityService, ResidentLookup
from civicpoints.kit.clock import utcnow
from civicpoints.kit.errors import DomainError
from civicpoints.regions import Level, RegionService
from civicpoints.web.pages.forms import MAX_FIELD, FormErrors, form_data
from civicpoints.web.pages.kit import (
    Page,
    ResidentPage,
    ResidentUploadPage,
    StaffPage,
    StaffPhotoPage,
)
from civicpoints.web.pages.staff import require

router = APIRouter(include_in_schema=False)
FIELDS = ("category", "community_id", "address", "description", "lat", "lon")
HANDLERS = (Role.REVIEWER, Role.ORGANIZER)


def _names(p: Page) -> dict[uuid.UUID, str]:
    """Community and organization names in the page's language."""
    regions = RegionService(p.db)
    en = p.locale == "en"
    names = {r.id: (r.name_en or r.name) if en else r.name for r in regions.tree()}
    names |= {o.id: (o.name_en or o.name) if en else o.name for o in regions.organizations()}
    return names


def _form(p: Page, status: int, values: dict[str, str], errors: FormErrors) -> Response:
    regions = RegionService(p.db)
    communities = [r for r in regions.tree() if r.level == Level.COMMUNITY]
    if not values.get("community_id") and p.who is not None:
        home = IdentityService(p.db, p.ctx).resident(p.who.id).community_id
        values = {**values, "community_id": str(home)}
    return p.render(
        "resident/hazard_new.html",
        status,
        communities=communities,
        names=_names(p),
        values=values,
        errors=errors,
    )


@router.get("/hazards/new")
def new_report(p: ResidentPage) -> Response:
    """The 随手拍 form: a photo, the place and what is wrong."""
    return _form(p, 200, {}, FormErrors())


@router.post("/hazards/new")
async def post_report(p: ResidentUploadPage) -> Response:
    """File the report (nothing is written when the photo is missing or taken elsewhere)."""
    assert p.who is not None
    form = await p.request.form()
    values = {k: v.strip()[:MAX_FIELD] if isinstance(v := form.get(k), str) else "" for k in FIELDS}
    upload = form.get("photo")
    photo = None
    if isinstance(upload, UploadFile) and upload.filename:
        photo = await upload.read(p.ctx.settings.upload_max_bytes + 1)
    labels = {
        "category": p._("Kind of hazard"),
        "community_id": p._("Community"),
        "address": p._("Where exactly"),
        "description": p._("What is wrong"),
    }
    try:
        data = HazardReportCreate.model_validate({k: v for k, v in values.items() if v})
        with p.db.begin_nested():
            report = HazardService(p.db, p.ctx).report(p.who.id, data, photo, utcnow())
    except (DomainError, ValidationError) as exc:
        status = exc.status if isinstance(exc, DomainError) else 422
        return _form(p, status, values, FormErrors.of(exc, p.locale, labels))
    return p.redirect(f"/hazards?reported={report.id}#r-{report.id}")


@router.get("/hazards")
def my_reports(p: ResidentPage) -> Response:
    """我的上报: each report, where it stands, and why."""
    assert p.who is not None
    service = HazardService(p.db, p.ctx)
    return p.render(
        "resident/hazards.html",
        reports=service.mine(p.who.id),
        names=_names(p),
        reported=p.request.query_params.get("reported", ""),
    )


# -- the department -------------------------------------------------------------------------


@router.get("/staff/hazards")
def queue(p: StaffPage) -> Response:
    """Open reports routed to the caller's department, oldest first; recent decisions below."""
    who = require(p, *HANDLERS)
    service = HazardService(p.db, p.ctx)
    return p.render(
        "staff/hazards.html",
        open=service.queue(who),
        decided=service.decided(who),
        names=_names(p),
        done=p.request.query_params.get("decided", ""),
    )


def _detail(p: Page, report_id: uuid.UUID, status: int = 200, **extra: Any) -> Response:
    who = require(p, *HANDLERS)
    service = HazardService(p.db, p.ctx)
    report: HazardReport = service.scoped(report_id, who)
    person = ResidentLookup(p.db).by_ids([report.resident_id]).get(report.resident_id)
    return p.render(
        "staff/hazard.html",
        status,
        r=report,
        person=person,
        candidates=service.candidates(report),
        names=_names(p),
        values=extra.get("values", {}),
        errors=extra.get("errors", FormErrors()),
    )


@router.get("/staff/hazards/{report_id}")
def detail(p: StaffPage, report_id: uuid.UUID) -> Response:
    """One report with its photo, duplicate candidates and the decision forms."""
    return _detail(p, report_id)


@router.get("/staff/hazards/{report_id}/photo")
def photo(p: StaffPhotoPage, report_id: uuid.UUID) -> Response:
    """The report's photo, for its department only (never a public URL)."""
    path, mime = HazardService(p.db, p.ctx).photo(report_id, require(p, *HANDLERS))
    return p.finish(FileResponse(path, media_type=mime))


@router.post("/staff/hazards/{report_id}/decision")
async def decide(p: StaffPage, report_id: uuid.UUID) -> Response:
    """Confirm, merge into the first report, or reject with a reason."""
    who = require(p, *HANDLERS)
    values = await form_data(p.request, ("decision", "duplicate_of", "reason"))
    try:
        body = HazardDecision.model_validate({k: v for k, v in values.items() if v})
        HazardService(p.db, p.ctx).decide(report_id, body, who, utcnow())
    except (DomainError, ValidationError) as exc:
        p.db.rollback()
        status = exc.status if isinstance(exc, DomainError) else 422
        if status == 404:
            raise
        labels = {"reason": p._("Reason"), "duplicate_of": p._("First report")}
        found = FormErrors.of(exc, p.locale, labels)
        fixed = FormErrors([(f or "decision", m) for f, m in found.items])
        return _detail(p, report_id, status, values=values, errors=fixed)
    return p.redirect(f"/staff/hazards?decided={values['decision']}")
