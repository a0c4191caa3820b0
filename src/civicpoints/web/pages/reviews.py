"""Reviewers: the queue of their own region and organization, riskiest first, with each
record's risk score and signals in words, how long it has waited (late ones marked, as the
hourly alert counts them), and the low-risk records to approve together, all or none
(`POST /api/v1/reviews/bulk-approve`'s service and message).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from civicpoints.access import Principal, Role
from civicpoints.activities import (
    Activity,
    ActivityService,
    BulkApprove,
    OfflineService,
    Participation,
    RecordService,
)
from civicpoints.fraud import PolicySettings
from civicpoints.identity import ResidentLookup
from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.kit.errors import DomainError
from civicpoints.web.pages import signals
from civicpoints.web.pages.forms import FormErrors
from civicpoints.web.pages.kit import Page, StaffPage
from civicpoints.web.pages.staff import require

router = APIRouter(prefix="/staff/reviews", include_in_schema=False)
PAGE = 50


@dataclass(frozen=True)
class Row:
    """One waiting record as the queue shows it."""

    record: Participation
    title: str
    signals: list[tuple[str, int]]  # in words, with their weights
    waited_days: int
    late_after: int | None  # the policy's days, when the record waits longer than that
    low_risk: bool


def policies(p: Page, activities: list[Activity]) -> dict[uuid.UUID, PolicySettings]:
    """The risk policy in force for each activity (looked up once per region)."""
    records = RecordService(p.db, p.ctx)
    by_region: dict[uuid.UUID, PolicySettings] = {}
    for a in activities:
        if a.region_id not in by_region:
            by_region[a.region_id] = records.policy(a)
    return {a.id: by_region[a.region_id] for a in activities}


def _rows(p: Page, who: Principal, after: uuid.UUID | None, now: datetime) -> list[Row]:
    """The page of the queue the service returns, riskiest first, in words."""
    offline = OfflineService(p.db, p.ctx)
    records = offline.queue(who, PAGE, after)
    service = ActivityService(p.db)
    activities = {a: service.get(a) for a in {r.activity_id for r in records}}
    policy = policies(p, list(activities.values()))
    late = {r.id for r in offline.overdue(now, who)}
    rows = []
    for r in records:
        rule = policy[r.activity_id]
        rows.append(
            Row(
                record=r,
                title=activities[r.activity_id].title,
                signals=signals.weighed(p, list(r.flags or []), r.flag_notes, rule),
                waited_days=(now - as_utc(r.created_at)).days,
                late_after=rule.review_alert_days if r.id in late else None,
                low_risk=r.risk < rule.bulk_approve_below,
            )
        )
    return rows


def _queue(
    p: Page,
    status: int = 200,
    after: uuid.UUID | None = None,
    errors: FormErrors | None = None,
    chosen: set[str] | None = None,
) -> Response:
    who = require(p, Role.REVIEWER)
    rows = _rows(p, who, after, utcnow())
    people = ResidentLookup(p.db).by_ids([r.record.resident_id for r in rows])
    low = [r for r in rows if r.low_risk]
    return p.render(
        "staff/reviews.html",
        status,
        rows=[r for r in rows if not r.low_risk],
        low=low,
        chosen={str(r.record.id) for r in low} if chosen is None else chosen,
        people=people,
        more=rows[-1].record.id if len(rows) == PAGE else None,
        late=sum(1 for r in rows if r.late_after is not None),
        decided=p.request.query_params.get("decided", ""),
        count=p.request.query_params.get("n", ""),
        errors=errors or FormErrors(),
    )


@router.get("")
def queue(p: StaffPage, after: uuid.UUID | None = None) -> Response:
    """Records waiting for this reviewer, riskiest first, a full page at a time."""
    return _queue(p, after=after)


@router.post("/bulk-approve")
async def bulk_approve(p: StaffPage) -> Response:
    """Approve the ticked low-risk records together: all or none, as the API does."""
    form = await p.request.form()
    ids = [v for v in form.getlist("participation_ids") if isinstance(v, str)]
    reason = form.get("reason")
    try:
        body = BulkApprove.model_validate(
            {"participation_ids": ids, "reason": reason if isinstance(reason, str) else ""}
        )
        done = OfflineService(p.db, p.ctx).approve_low_risk(
            body.participation_ids, body.reason, require(p, Role.REVIEWER)
        )
    except (DomainError, ValidationError) as exc:
        p.db.rollback()  # all or none: nothing of a refused batch is kept
        status = exc.status if isinstance(exc, DomainError) else 422
        errors = FormErrors.of(exc, p.locale)
        return _queue(p, status, errors=_at_list(errors), chosen=set(ids))
    return p.redirect(f"/staff/reviews?decided=bulk&n={len(done)}")


def _at_list(errors: FormErrors) -> FormErrors:
    """Every error of the batch shown at its list of checkboxes."""
    return FormErrors([("participation_ids", m) for _f, m in errors.items])
