"""Reviewers: the queue of their own region and organization, each record's evidence side by
side, and the decision through the same service as `POST /api/v1/reviews/{id}/decision`.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError

from civicpoints.access import Role
from civicpoints.activities import ActivityService, OfflineService, ReviewDesk
from civicpoints.identity import IdentityService, ResidentLookup
from civicpoints.kit.errors import DomainError
from civicpoints.kit.schemas import Decision
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, StaffPage
from civicpoints.web.pages.staff import require

router = APIRouter(prefix="/staff/reviews", include_in_schema=False)
PAGE = 50


def _(text: str) -> str:
    """Mark a string for the catalog; the page translates it where it is shown."""
    return text


# What each flag means, in words (translated on the page).
FLAGS = {
    "outside_geofence": _("Checked in outside the activity's area"),
    "outside_time_window": _("Checked in outside the activity's time"),
    "checkout_outside_geofence": _("Checked out outside the activity's area"),
    "checkout_outside_time_window": _("Checked out outside the activity's time"),
    "photo_far_from_site": _("The photo's own GPS position is far from the activity"),
    "photo_time_mismatch": _("The photo was taken at another time than the activity"),
    "photo_reused": _("The same photo was already used for another record"),
    "presence_too_short": _("Stayed a shorter time than the rules ask"),
}
REASONS = (
    _("The photo does not show the activity"),
    _("The photo was taken at another time or place"),
    _("The resident was not at the activity's place"),
    _("The times do not match the activity"),
    _("The paper slip is incomplete or cannot be read"),
)


@router.get("")
def queue(p: StaffPage, after: uuid.UUID | None = None, decided: str = "") -> Response:
    """Records waiting for this reviewer, newest first, a full page at a time."""
    who = require(p, Role.REVIEWER)
    rows = OfflineService(p.db, p.ctx).queue(who, PAGE, after)
    activities = ActivityService(p.db)
    titles = {a: activities.get(a).title for a in {r.activity_id for r in rows}}
    people = ResidentLookup(p.db).by_ids([r.resident_id for r in rows])
    more = rows[-1].id if len(rows) == PAGE else None
    return p.render(
        "staff/reviews.html",
        rows=rows,
        titles=titles,
        people=people,
        more=more,
        flags=FLAGS,
        decided=decided,
    )


def _record_page(p: Page, participation_id: uuid.UUID, status: int, **extra: object) -> Response:
    who = require(p, Role.REVIEWER)
    item = ReviewDesk(p.db, p.ctx).item(participation_id, who)
    person = IdentityService(p.db, p.ctx).resident(item.record.resident_id)
    values = extra.pop("values", {})
    errors = extra.pop("errors", FormErrors())
    return p.render(
        "staff/review.html",
        status,
        item=item,
        person=person,
        flags=FLAGS,
        reasons=REASONS,
        values=values,
        errors=errors,
    )


@router.get("/{participation_id}")
def record(p: StaffPage, participation_id: uuid.UUID) -> Response:
    """One record: photo, EXIF time and place, distances, times against the window, flags."""
    return _record_page(p, participation_id, 200)


@router.get("/{participation_id}/photos/{evidence_id}")
def photo(p: StaffPage, participation_id: uuid.UUID, evidence_id: uuid.UUID) -> Response:
    """A record's photo, only for a reviewer who may decide the record (never a public URL)."""
    path, mime = ReviewDesk(p.db, p.ctx).photo(
        participation_id, evidence_id, require(p, Role.REVIEWER)
    )
    return p.finish(FileResponse(path, media_type=mime))


@router.post("/{participation_id}/decision")
async def decide(p: StaffPage, participation_id: uuid.UUID) -> Response:
    """Approve or reject with a reason: a common one, free text, or both."""
    values = await form_data(p.request, ("decision", "reason_choice", "reason"))
    choice = p._(values["reason_choice"]) if values["reason_choice"] in REASONS else ""
    reason = "；".join(part for part in (choice, values["reason"]) if part)
    try:
        body = Decision.model_validate({"decision": values["decision"], "reason": reason})
        OfflineService(p.db, p.ctx).decide(
            participation_id, body.approve, body.reason, require(p, Role.REVIEWER)
        )
    except (DomainError, ValidationError) as exc:
        errors = FormErrors.of(exc, p.locale)
        status = exc.status if isinstance(exc, DomainError) else 422
        return _record_page(p, participation_id, status, values=values, errors=errors)
    return p.redirect(f"/staff/reviews?decided={values['decision']}")
