"""The offline service point (线下积分点): find a resident, enter and print paper slips, import CSV.

Slips go through `OfflineService.record` with the API's `OfflineRecordCreate`; the import runs
the API's importer twice: a dry run that writes nothing for the preview, then the real,
all-or-nothing import when staff confirm.
"""

from __future__ import annotations

import base64
import binascii
import uuid

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from civicpoints.access import Role
from civicpoints.activities import (
    IMPORT_COLUMNS,
    ActivityService,
    OfflineRecordCreate,
    OfflineService,
    ReviewDesk,
)
from civicpoints.hours import StarPolicyService
from civicpoints.identity import IdentityService, ResidentLookup
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.errors import DomainError, InvalidInput
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, StaffImportPage, StaffPage
from civicpoints.web.pages.staff import beijing, require

router = APIRouter(prefix="/staff", include_in_schema=False)
LOOKUP = (Role.ORGANIZER, Role.VERIFIER)


@router.get("/residents")
def residents(p: StaffPage, name: str = "", last4: str = "", number: str = "") -> Response:
    """Find a resident by name + last four of the ID number, or by platform number."""
    who = require(p, *LOOKUP)
    values = {"name": name, "last4": last4, "number": number}
    asked = any(v.strip() for v in values.values())
    rows, errors = [], FormErrors()
    if asked:
        try:
            rows = ResidentLookup(p.db).find(who, name, last4, number)
        except DomainError as exc:
            errors = FormErrors.of(exc, p.locale)
    status = 422 if errors else 200
    homes = {r.id: r.community_id for r in rows}
    stars = StarPolicyService(p.db).levels(homes, local_date(utcnow()))
    return p.render(
        "staff/residents.html",
        status,
        values=values,
        errors=errors,
        rows=rows,
        asked=asked,
        stars=stars,
    )


SLIP_FIELDS = ("resident", "activity_id", "started_at", "ended_at", "slip_no", "note")


def _slip_page(
    p: Page, status: int, values: dict[str, str], errors: FormErrors, resident_id: str = ""
) -> Response:
    who = require(p, Role.ORGANIZER)
    person = None
    if resident_id:
        person = ResidentLookup(p.db).visible(_uuid(resident_id, "resident"), who)
        values.setdefault("resident", person.public_no)
    activities = ActivityService(p.db).organized_by(who)
    return p.render(
        "staff/slip_new.html",
        status,
        values=values,
        errors=errors,
        person=person,
        resident_id=resident_id,
        activities=activities,
    )


def _uuid(text: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise InvalidInput(
            field=field,
            field_zh="编号",
            field_en="id",
            reason_zh="无法识别",
            reason_en="not recognized",
        ) from None


@router.get("/slips/new")
def new_slip(p: StaffPage, resident: str = "") -> Response:
    """The form to enter a paper slip, for a resident found on the residents page."""
    return _slip_page(p, 200, {}, FormErrors(), resident)


@router.post("/slips/new")
async def enter_slip(p: StaffPage, resident: str = "") -> Response:
    """Enter the slip through the same service as `POST /api/v1/participations`."""
    values = await form_data(p.request, SLIP_FIELDS)
    try:
        body = OfflineRecordCreate.model_validate(
            {
                **values,
                "started_at": beijing(values["started_at"]),
                "ended_at": beijing(values["ended_at"]),
            }
        )
        record = OfflineService(p.db, p.ctx).record(body, require(p, Role.ORGANIZER))
    except (DomainError, ValidationError) as exc:
        return _slip_page(p, 422, values, FormErrors.of(exc, p.locale), resident)
    return p.redirect(f"/staff/slips/{record.id}/print?saved=1")


@router.get("/slips/blank")
def blank_slip(p: StaffPage, activity: uuid.UUID | None = None) -> Response:
    """A blank paper slip to print and fill in by hand (with the activity named, if given)."""
    who = require(p, Role.ORGANIZER)
    found = ActivityService(p.db).organized(activity, who) if activity else None
    return p.render("staff/slip_blank.html", activity=found)


@router.get("/slips/{participation_id}/print")
def print_slip(p: StaffPage, participation_id: uuid.UUID, saved: int = 0) -> Response:
    """A filled slip to print: the resident (masked), the activity and the times."""
    who = require(p, Role.ORGANIZER, Role.REVIEWER)
    record, activity = ReviewDesk(p.db, p.ctx).scoped(
        participation_id, who, (Role.ORGANIZER, Role.REVIEWER)
    )
    person = IdentityService(p.db, p.ctx).resident(record.resident_id)
    return p.render(
        "staff/slip_print.html", record=record, activity=activity, person=person, saved=saved
    )


@router.get("/import")
def import_form(p: StaffPage, created: int = -1, duplicates: int = 0) -> Response:
    """Upload a CSV of paper slips; after an import, how many were written."""
    require(p, Role.ORGANIZER)
    done = {"created": created, "duplicates": duplicates} if created >= 0 else None
    return p.render("staff/import.html", errors=FormErrors(), done=done, columns=IMPORT_COLUMNS)


async def _upload(p: Page) -> bytes:
    """The uploaded file's bytes (at most the limit + 1), or a message for the file field."""
    form = await p.request.form()
    upload = form.get("file")
    limit = int(p.ctx.settings.import_max_bytes)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise _file_error("请选择一个 CSV 文件", "choose a CSV file")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise _file_error(f"文件超过 {limit // 1024} KB", f"the file is over {limit // 1024} KB")
    return data


def _file_error(zh: str, en: str) -> InvalidInput:
    return InvalidInput(field="file", field_zh="文件", field_en="file", reason_zh=zh, reason_en=en)


def _preview(p: Page, data: bytes, status: int, errors: FormErrors) -> Response:
    """Every row's outcome if the file were imported now; nothing is written."""
    report = OfflineService(p.db, p.ctx).import_csv(data, require(p, Role.ORGANIZER), dry_run=True)
    return p.render(
        "staff/import_preview.html",
        status,
        report=report,
        errors=errors,
        payload=base64.b64encode(data).decode(),
    )


@router.post("/import")
async def preview(p: StaffImportPage) -> Response:
    """Check the uploaded file and show the result of each row before anything is written."""
    require(p, Role.ORGANIZER)
    try:
        data = await _upload(p)
        return _preview(p, data, 200, FormErrors())
    except DomainError as exc:
        return p.render(
            "staff/import.html",
            422,
            errors=FormErrors.of(exc, p.locale),
            done=None,
            columns=IMPORT_COLUMNS,
        )


@router.post("/import/confirm")
async def confirm(p: StaffImportPage) -> Response:
    """Import the previewed file: every row or none (`POST /api/v1/participations/import`)."""
    form = await p.request.form()
    raw = form.get("payload")
    try:
        data = base64.b64decode(raw if isinstance(raw, str) else "", validate=True)
    except binascii.Error:
        data = b""
    try:
        report = OfflineService(p.db, p.ctx).import_csv(data, require(p, Role.ORGANIZER))
    except DomainError as exc:
        return _confirm_failed(p, data, exc)
    return p.redirect(f"/staff/import?created={report.created}&duplicates={report.duplicates}")


def _confirm_failed(p: Page, data: bytes, exc: DomainError) -> Response:
    """The preview again, with what changed since (nothing was written)."""
    errors = FormErrors.of(exc, p.locale)
    try:
        return _preview(p, data, 422, errors)
    except DomainError:
        return p.render("staff/import.html", 422, errors=errors, done=None, columns=IMPORT_COLUMNS)


@router.get("/import/template.csv")
def template_csv(p: StaffPage) -> Response:
    """A CSV with the exact column names (UTF-8 with BOM, so Excel reads the Chinese)."""
    require(p, Role.ORGANIZER)
    body = "\ufeff" + ",".join(IMPORT_COLUMNS) + "\r\n"
    response = Response(body.encode(), media_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="slips-template.csv"'
    return p.finish(response)
