"""Check in and check out on site: the phone's position and a photo, in one multipart form,
and at check-in the venue code (签到码) if the organizer shows one (a wrong code checks in all
the same; the record page then says it did not match).

The same services as the API's `/activities/{id}/checkin`, `/checkout` and
`/participations/{id}/evidence`, with the same upload limit (raised before the body is read,
see `kit.resident_upload_page`). Each post is all or nothing: a refused photo undoes the
check-in it came with. The page then shows the record: points, review and why, or refusal.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from civicpoints.activities import (
    CheckIn,
    ListingService,
    Phone,
    PhotoService,
    Position,
    RecordService,
    code_matched,
)
from civicpoints.fraud import EarningSuspended
from civicpoints.kit.clock import utcnow
from civicpoints.kit.errors import DomainError
from civicpoints.web.pages.activities import as_seen
from civicpoints.web.pages.cases import suspended_words, suspension
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, ResidentPage, ResidentUploadPage

router = APIRouter(include_in_schema=False)
ACTIONS = ("checkin", "checkout")


def _form(
    p: Page,
    activity_id: uuid.UUID,
    action: str,
    status: int,
    errors: FormErrors,
    values: dict[str, str] | None = None,
) -> Response:
    """The check-in or check-out page (`values`: what was typed, shown again)."""
    activity, card, record = as_seen(p, activity_id)
    return p.render(
        "resident/attend.html",
        status,
        a=activity,
        card=card,
        action=action,
        record=record,
        suspended=suspension(p),
        errors=errors,
        values=values or {},
    )


@router.get("/activities/{activity_id}/checkin")
def checkin_form(p: ResidentPage, activity_id: uuid.UUID) -> Response:
    """The check-in page: position (filled in by resident.js) and an optional photo."""
    return _form(p, activity_id, "checkin", 200, FormErrors())


@router.get("/activities/{activity_id}/checkout")
def checkout_form(p: ResidentPage, activity_id: uuid.UUID) -> Response:
    """The check-out page (also where a missing photo is added)."""
    return _form(p, activity_id, "checkout", 200, FormErrors())


async def _posted(p: Page) -> tuple[Position | None, bytes | None]:
    """The position (None if the phone gave none) and the photo's bytes (None if none)."""
    form = await p.request.form()
    lat, lon = form.get("lat"), form.get("lon")
    try:
        where = Position.model_validate({"lat": lat or "", "lon": lon or ""})
    except ValidationError:
        where = None
    return where, await _photo(p)


async def _photo(p: Page) -> bytes | None:
    """The posted photo's bytes (None if none was chosen)."""
    form = await p.request.form()
    photo = form.get("photo")
    data = None
    if isinstance(photo, UploadFile) and photo.filename:
        # A chosen but empty file is sent on as b"": the photo service refuses it with a message.
        data = await photo.read(p.ctx.settings.upload_max_bytes + 1)
        await photo.close()
    return data


def _refused(p: Page, exc: DomainError) -> FormErrors:
    """The refusal beside the form; a suspension's end written as people write a time."""
    if isinstance(exc, EarningSuspended):
        return FormErrors([(exc.field, suspended_words(p, exc))])
    return FormErrors.of(exc, p.locale)


def _no_position(p: Page) -> FormErrors:
    """The message when the form came without the phone's position."""
    text = p._(
        "We do not have your phone's position. Allow this page to use your location "
        "(in the browser's settings), wait for “Position found”, then try again."
    )
    return FormErrors([("lat", text)])


async def _check_in_body(p: Page) -> tuple[CheckIn | FormErrors, dict[str, str]]:
    """The API's check-in body from the form, or what to say beside the fields; and what
    was typed (the venue code), to show again."""
    values = await form_data(p.request, ("lat", "lon", "venue_code"))
    try:
        return CheckIn.model_validate(values), {"venue_code": values["venue_code"]}
    except ValidationError as exc:
        label = {"venue_code": p._("Code shown on site (optional)")}
        said = FormErrors.of(exc, p.locale, label).items
        code = [(f, m) for f, m in said if f == "venue_code"]
        position = _no_position(p).items if len(code) < len(said) else []
        return FormErrors([*position, *code]), {"venue_code": values["venue_code"]}


@router.post("/activities/{activity_id}/checkin")
async def check_in(p: ResidentUploadPage, activity_id: uuid.UUID) -> Response:
    """Check in with the phone's position (and the venue code if typed); a photo sent along
    is kept as evidence. A wrong code checks in all the same; the record page says so."""
    assert p.who is not None
    body, typed = await _check_in_body(p)
    if isinstance(body, FormErrors):
        return _form(p, activity_id, "checkin", 422, body, typed)
    photo = await _photo(p)
    phone = Phone(body.accuracy_m, body.device, body.venue_code)
    try:
        with p.db.begin_nested():
            records = RecordService(p.db, p.ctx)
            record = records.check_in(activity_id, p.who.id, body.lat, body.lon, utcnow(), phone)
            if photo is not None:
                PhotoService(p.db, p.ctx).upload(record.id, p.who.id, photo, p.who.key)
    except DomainError as exc:
        return _form(p, activity_id, "checkin", exc.status, _refused(p, exc), typed)
    matched = code_matched(record, body.venue_code)
    said = "" if matched is None else f"?venue_code={'matched' if matched else 'not_matched'}"
    return p.redirect(f"/records/{record.id}{said}")


@router.post("/activities/{activity_id}/checkout")
async def check_out(p: ResidentUploadPage, activity_id: uuid.UUID) -> Response:
    """Check out (points when nothing is missing or doubtful); a photo is added first.

    After check-out the same form adds a missing photo (no position needed then)."""
    assert p.who is not None
    where, photo = await _posted(p)
    earlier = ListingService(p.db).record_of(activity_id, p.who.id)
    done = earlier is not None and earlier.checkout_at is not None
    if where is None and not done:
        return _form(p, activity_id, "checkout", 422, _no_position(p))
    try:
        with p.db.begin_nested():
            if photo is not None and earlier is not None:
                PhotoService(p.db, p.ctx).upload(earlier.id, p.who.id, photo, p.who.key)
            if where is not None and not done:
                RecordService(p.db, p.ctx).check_out(
                    activity_id, p.who.id, where.lat, where.lon, utcnow(), p.who.key
                )
            record = RecordService(p.db, p.ctx).own_at(activity_id, p.who.id)
    except DomainError as exc:
        return _form(p, activity_id, "checkout", exc.status, _refused(p, exc))
    return p.redirect(f"/records/{record.id}")
