"""Second looks (复查): approved records found risky afterwards — a phone that later proved
a farm's, say — riskiest first, with their signals in words. A reviewer keeps each with a
reason (the service of `POST /api/v1/reviews/{id}/keep`) or opens its evidence to claw it
back; auditors see the list too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from civicpoints.access import Role
from civicpoints.activities import ActivityService, Participation, RecheckKeep, Rechecks
from civicpoints.identity import ResidentLookup
from civicpoints.kit.errors import DomainError
from civicpoints.web.pages import signals
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, StaffPage
from civicpoints.web.pages.reviews import PAGE, policies
from civicpoints.web.pages.staff import require

router = APIRouter(prefix="/staff/rechecks", include_in_schema=False)


@dataclass(frozen=True)
class Row:
    """One record waiting for its second look."""

    record: Participation
    title: str
    signals: list[tuple[str, int]]


def _rows(p: Page, after: uuid.UUID | None) -> list[Row]:
    who = require(p, Role.REVIEWER, Role.AUDITOR)
    records = Rechecks(p.db, p.ctx).waiting(who, PAGE, after)
    service = ActivityService(p.db)
    activities = {a: service.get(a) for a in {r.activity_id for r in records}}
    policy = policies(p, list(activities.values()))
    return [
        Row(
            record=r,
            title=activities[r.activity_id].title,
            signals=signals.weighed(p, list(r.flags or []), r.flag_notes, policy[r.activity_id]),
        )
        for r in records
    ]


def _page(p: Page, status: int = 200, after: uuid.UUID | None = None, **extra: Any) -> Response:
    rows = _rows(p, after)
    assert p.who is not None
    return p.render(
        "staff/rechecks.html",
        status,
        rows=rows,
        people=ResidentLookup(p.db).by_ids([r.record.resident_id for r in rows]),
        may_keep=bool({Role.REVIEWER, Role.ADMIN} & set(p.who.roles)),
        more=rows[-1].record.id if len(rows) == PAGE else None,
        kept=p.request.query_params.get("kept", ""),
        posted=extra.get("posted"),
        values=extra.get("values", {}),
        errors=extra.get("errors", FormErrors()),
    )


@router.get("")
def rechecks(p: StaffPage, after: uuid.UUID | None = None) -> Response:
    """Approved records waiting for a second look, riskiest first."""
    return _page(p, after=after)


@router.post("/{participation_id}/keep")
async def keep(p: StaffPage, participation_id: uuid.UUID) -> Response:
    """Keep the record after looking again, with the reason (needed)."""
    values = await form_data(p.request, ("reason",))
    try:
        body = RecheckKeep.model_validate(values)
        Rechecks(p.db, p.ctx).keep(participation_id, body.reason, require(p, Role.REVIEWER))
    except (DomainError, ValidationError) as exc:
        p.db.rollback()
        status = exc.status if isinstance(exc, DomainError) else 422
        labels = {"reason": p._("Why it keeps its points")}
        found = FormErrors.of(exc, p.locale, labels).items
        key = str(participation_id)
        errors = FormErrors([(f"{key}-{f or 'reason'}", m) for f, m in found])
        return _page(p, status, posted=key, values=values, errors=errors)
    return p.redirect("/staff/rechecks?kept=1")
