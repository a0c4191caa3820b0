"""One record under review: its evidence side by side, its signals in words with their
weights, a small map of the geofence and the positions (SVG drawn here, no tiles), and the
decision through the same service and schema as `POST /api/v1/reviews/{id}/decision`,
including "confirm as false record" (a case on the sanction ladder).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError

from civicpoints.access import Role
from civicpoints.activities import (
    OfflineService,
    RecordDecision,
    RecordService,
    ReviewDesk,
    ReviewItem,
    geofence_from_dict,
)
from civicpoints.identity import IdentityService
from civicpoints.kit.errors import DomainError
from civicpoints.web.pages import fencemap, signals
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, StaffPage, StaffPhotoPage
from civicpoints.web.pages.staff import require

router = APIRouter(prefix="/staff/reviews", include_in_schema=False)


def _(text: str) -> str:
    """Mark a string for the catalog; the page translates it where it is shown."""
    return text


REASONS = (
    _("The photo does not show the activity"),
    _("The photo was taken at another time or place"),
    _("The resident was not at the activity's place"),
    _("The times do not match the activity"),
    _("The paper slip is incomplete or cannot be read"),
)


def spots(item: ReviewItem) -> list[fencemap.Spot]:
    """The positions a record reported: check-in, check-out and each photo's own GPS."""
    r = item.record
    found = []
    if r.checkin_lat is not None and r.checkin_lon is not None:
        found.append(fencemap.Spot("checkin", 1, r.checkin_lat, r.checkin_lon))
    if r.checkout_lat is not None and r.checkout_lon is not None:
        found.append(fencemap.Spot("checkout", 1, r.checkout_lat, r.checkout_lon))
    for n, ph in enumerate(item.photos, start=1):
        e = ph.evidence
        if e.gps_lat is not None and e.gps_lon is not None:
            found.append(fencemap.Spot("photo", n, e.gps_lat, e.gps_lon))
    return found


def _record_page(p: Page, participation_id: uuid.UUID, status: int, **extra: object) -> Response:
    who = require(p, Role.REVIEWER)
    item = ReviewDesk(p.db, p.ctx).item(participation_id, who)
    person = IdentityService(p.db, p.ctx).resident(item.record.resident_id)
    policy = RecordService(p.db, p.ctx).policy(item.activity)
    r = item.record
    return p.render(
        "staff/review.html",
        status,
        item=item,
        person=person,
        policy=policy,
        weighed=signals.weighed(p, list(r.flags or []), r.flag_notes, policy),
        map=fencemap.draw(geofence_from_dict(item.activity.geofence), spots(item)),
        reasons=REASONS,
        values=extra.get("values", {}),
        errors=extra.get("errors", FormErrors()),
    )


@router.get("/{participation_id}")
def record(p: StaffPage, participation_id: uuid.UUID) -> Response:
    """One record: photo, EXIF time and place, distances, the map, signals and weights."""
    return _record_page(p, participation_id, 200)


@router.get("/{participation_id}/photos/{evidence_id}")
def photo(p: StaffPhotoPage, participation_id: uuid.UUID, evidence_id: uuid.UUID) -> Response:
    """A record's photo, only for a reviewer who may decide the record (never a public URL)."""
    path, mime = ReviewDesk(p.db, p.ctx).photo(
        participation_id, evidence_id, require(p, Role.REVIEWER)
    )
    return p.finish(FileResponse(path, media_type=mime))


@router.post("/{participation_id}/decision")
async def decide(p: StaffPage, participation_id: uuid.UUID) -> Response:
    """Approve or reject with a reason (a common one, free text, or both); a rejection may
    confirm the record as false, which opens a case on the resident's sanction ladder."""
    values = await form_data(p.request, ("decision", "reason_choice", "reason", "fraud"))
    choice = p._(values["reason_choice"]) if values["reason_choice"] in REASONS else ""
    reason = "；".join(part for part in (choice, values["reason"]) if part)
    try:
        body = RecordDecision.model_validate(
            {"decision": values["decision"], "reason": reason, "fraud": values["fraud"] == "yes"}
        )
        OfflineService(p.db, p.ctx).decide(
            participation_id, body.approve, body.reason, require(p, Role.REVIEWER), body.fraud
        )
    except (DomainError, ValidationError) as exc:
        p.db.rollback()
        # The schema's whole-body rule (only a rejection confirms fraud) is the checkbox's.
        found = FormErrors.of(exc, p.locale).items
        errors = FormErrors([("fraud" if f == "body" else f, m) for f, m in found])
        status = exc.status if isinstance(exc, DomainError) else 422
        return _record_page(p, participation_id, status, values=values, errors=errors)
    outcome = "fraud" if body.fraud else values["decision"]
    return p.redirect(f"/staff/reviews?decided={outcome}")
