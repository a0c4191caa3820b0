"""Reviewers' appeals (申诉): the open appeals of their region, never against a case they
decided themselves, each with the case, the resident's reason and photo, and the decision
through the same service as `POST /api/v1/appeals/{id}/decision`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError

from civicpoints.access import Role
from civicpoints.activities import FraudDesk, ListingService, Participation, RecordService
from civicpoints.fraud import Appeal, Case, CaseService
from civicpoints.identity import ResidentLookup
from civicpoints.kit.errors import DomainError
from civicpoints.kit.schemas import Decision
from civicpoints.web.pages import signals
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, StaffPage, StaffPhotoPage
from civicpoints.web.pages.staff import require

router = APIRouter(prefix="/staff/appeals", include_in_schema=False)


@dataclass(frozen=True)
class OpenAppeal:
    """An appeal with what the reviewer needs beside it."""

    appeal: Appeal
    case: Case
    record: Participation
    title: str
    sanction: str
    signals: list[str]


def _open(p: Page) -> list[OpenAppeal]:
    who = require(p, Role.REVIEWER)
    pairs = CaseService(p.db).open_appeals(who)
    records = RecordService(p.db, p.ctx)
    rows = {c.id: records.get(c.participation_id) for _a, c in pairs}
    titles = ListingService(p.db).by_id([r.activity_id for r in rows.values()])
    found = []
    for appeal, case in pairs:
        record = rows[case.id]
        until = p.globals()["when"](case.suspended_until) if case.suspended_until else ""
        found.append(
            OpenAppeal(
                appeal=appeal,
                case=case,
                record=record,
                title=titles[record.activity_id].title,
                sanction=signals.sanction(p, case.sanction, until),
                signals=[signals.words(p, c, record.flag_notes) for c in case.signals or []],
            )
        )
    return found


def _page(p: Page, status: int = 200, **extra: Any) -> Response:
    appeals = _open(p)
    people = ResidentLookup(p.db).by_ids([a.case.resident_id for a in appeals])
    return p.render(
        "staff/appeals.html",
        status,
        appeals=appeals,
        people=people,
        done=p.request.query_params.get("decided", ""),
        posted=extra.get("posted"),
        values=extra.get("values", {}),
        errors=extra.get("errors", FormErrors()),
    )


@router.get("")
def appeals(p: StaffPage) -> Response:
    """Appeals waiting for this reviewer, oldest first."""
    return _page(p)


@router.get("/{appeal_id}/photo")
def photo(p: StaffPhotoPage, appeal_id: uuid.UUID) -> Response:
    """The appeal's photo, only for a reviewer of the case's region (never a public URL)."""
    path, mime = FraudDesk(p.db, p.ctx).appeal_photo(appeal_id, require(p, Role.REVIEWER))
    return p.finish(FileResponse(path, media_type=mime))


@router.post("/{appeal_id}/decision")
async def decide(p: StaffPage, appeal_id: uuid.UUID) -> Response:
    """Uphold (the case is withdrawn, the record paid) or refuse, always with a reason."""
    values = await form_data(p.request, ("decision", "reason"))
    who = require(p, Role.REVIEWER)
    try:
        body = Decision.model_validate(values)
        if body.reason:  # the resident reads it either way: this page always asks for it
            FraudDesk(p.db, p.ctx).decide_appeal(appeal_id, body.approve, body.reason, who)
    except (DomainError, ValidationError) as exc:
        p.db.rollback()
        status = exc.status if isinstance(exc, DomainError) else 422
        labels = {"decision": p._("Decision"), "reason": p._("Reason for your decision")}
        found = FormErrors.of(exc, p.locale, labels).items
        return _refused(p, appeal_id, status, values, found)
    if not body.reason:
        found = [("reason", p._("Enter the reason for your decision: the resident reads it."))]
        return _refused(p, appeal_id, 422, values, found)
    return p.redirect(f"/staff/appeals?decided={values['decision']}")


def _refused(
    p: Page,
    appeal_id: uuid.UUID,
    status: int,
    values: dict[str, str],
    found: list[tuple[str | None, str]],
) -> Response:
    """The page again, the errors beside the form of the appeal that was posted."""
    errors = FormErrors([(f"{appeal_id}-{f or 'decision'}", m) for f, m in found])
    return _page(p, status, posted=str(appeal_id), values=values, errors=errors)
