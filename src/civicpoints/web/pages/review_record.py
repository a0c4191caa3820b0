"""One record under review: its evidence side by side, each photo beside its look-alikes
from other records, its signals in words with their weights, a small map of the geofence and
the positions (SVG drawn here, no tiles), and the decision through the same service and schema
as `POST /api/v1/reviews/{id}/decision`, including "confirm as false record" (a case on the
sanction ladder). An approved record may be taken back (`POST /api/v1/participations/{id}/
clawback`'s `FraudDesk.claw_back` and schema) by a reviewer or an auditor over it.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError

from civicpoints.access import Role
from civicpoints.activities import (
    FraudDesk,
    OfflineService,
    RecordDecision,
    RecordService,
    RecordStatus,
    ReviewDesk,
    ReviewItem,
    geofence_from_dict,
)
from civicpoints.fraud import CaseView, ClawbackAsk
from civicpoints.identity import IdentityService
from civicpoints.kit.errors import DomainError
from civicpoints.web import i18n
from civicpoints.web.pages import fencemap, signals
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, StaffPage, StaffPhotoPage
from civicpoints.web.pages.staff import require

router = APIRouter(prefix="/staff/reviews", include_in_schema=False)
# Who may read a record's evidence and take an approved one back; only reviewers decide.
READERS = (Role.REVIEWER, Role.AUDITOR)


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
    who = require(p, *READERS)
    desk = ReviewDesk(p.db, p.ctx)
    item = desk.item(participation_id, who, READERS)
    person = IdentityService(p.db, p.ctx).resident(item.record.resident_id)
    policy = RecordService(p.db, p.ctx).policy(item.activity)
    r, case = item.record, desk.case(item)
    return p.render(
        "staff/review.html",
        status,
        item=item,
        person=person,
        policy=policy,
        weighed=signals.weighed(p, list(r.flags or []), r.flag_notes, policy),
        map=fencemap.draw(geofence_from_dict(item.activity.geofence), spots(item)),
        alikes=desk.look_alikes(item, who, READERS),
        similar=lambda bits: signals.similarity(p, bits),
        case=case,
        sanction=_sanction(p, case),
        may_decide=desk.holds(item.activity, who, (Role.REVIEWER,)),
        may_claw=r.status == RecordStatus.APPROVED and case is None,
        clawed=p.request.query_params.get("clawed") == "1",
        reasons=REASONS,
        values=extra.get("values", {}),
        errors=extra.get("errors", FormErrors()),
    )


def _sanction(p: Page, view: CaseView | None) -> str:
    """The case's sanction in words ('' without a case)."""
    if view is None:
        return ""
    until = view.case.suspended_until
    return signals.sanction(p, view.case.sanction, i18n.when(until, p.locale) if until else "")


@router.get("/{participation_id}")
def record(p: StaffPage, participation_id: uuid.UUID) -> Response:
    """One record: photo, EXIF time and place, distances, the map, signals and weights."""
    return _record_page(p, participation_id, 200)


@router.get("/{participation_id}/photos/{evidence_id}")
def photo(p: StaffPhotoPage, participation_id: uuid.UUID, evidence_id: uuid.UUID) -> Response:
    """A record's photo, only for a reviewer or auditor over the record (never a public URL);
    a look-alike from another record is shown through that record's own URL, so its scope."""
    path, mime = ReviewDesk(p.db, p.ctx).photo(
        participation_id, evidence_id, require(p, *READERS), READERS
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


@router.post("/{participation_id}/clawback")
async def claw_back(p: StaffPage, participation_id: uuid.UUID) -> Response:
    """Take back an approved record found false, with the reason the resident reads: its
    points (what was spent becomes debt), its hours, and the next step of the ladder."""
    values = await form_data(p.request, ("reason",))
    try:
        body = ClawbackAsk.model_validate(values)
        FraudDesk(p.db, p.ctx).claw_back(participation_id, body.reason, require(p, *READERS))
    except (DomainError, ValidationError) as exc:
        if isinstance(exc, DomainError) and exc.status == 404:
            raise  # out of scope or unknown: the 404 page, as the API answers
        p.db.rollback()
        labels = {"reason": p._("Why the record is taken back")}
        status = exc.status if isinstance(exc, DomainError) else 422
        errors = FormErrors.of(exc, p.locale, labels)
        return _record_page(p, participation_id, status, values=values, errors=errors)
    return p.redirect(f"/staff/reviews/{participation_id}?clawed=1")
