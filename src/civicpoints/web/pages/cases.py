"""A resident's cases (我的处理与申诉): records found false, what each brought, and the appeal
form while the window is open — the API's `GET /me/cases` and `POST /me/cases/{id}/appeal`
(same services, schema and messages), plus the photo the page can send. Works without
JavaScript: a plain multipart form.

`suspension(p)` is the banner a suspended resident sees on home and on the check-in page:
the very message the refused check-in gives (`CaseService.require_may_earn`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from civicpoints.activities import FraudDesk, ListingService, RecordService
from civicpoints.fraud import AppealCreate, CaseNotFound, CaseService, CaseView, EarningSuspended
from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.kit.errors import DomainError
from civicpoints.web import i18n
from civicpoints.web.pages import signals
from civicpoints.web.pages.forms import FormErrors
from civicpoints.web.pages.kit import Page, ResidentAppealPage, ResidentPage

router = APIRouter(include_in_schema=False)
INPUTS = ("photo", "camera")  # from the phone's files, or taken now


@dataclass(frozen=True)
class CaseLine:
    """A case as the resident reads it."""

    view: CaseView
    title: str
    sanction: str
    found: list[str]  # the signals, in words
    may_appeal: bool


def suspension(p: Page) -> str | None:
    """Why and until when the resident may not earn, in the API's words (None: they may)."""
    assert p.who is not None
    try:
        CaseService(p.db).require_may_earn(p.who.id, utcnow())
    except EarningSuspended as exc:
        return suspended_words(p, exc)
    return None


def suspended_words(p: Page, exc: EarningSuspended) -> str:
    """The refusal's message with its end written as people write a time (UI.md)."""
    ends = exc.params.get("ends")
    if not isinstance(ends, datetime):
        return exc.message(p.locale)
    said = {**exc.params, "until": i18n.when(ends, p.locale)}
    return EarningSuspended(exc.field, **said).message(p.locale)


def case_lines(p: Page) -> list[CaseLine]:
    """The resident's cases, newest first, in words."""
    assert p.who is not None
    now = utcnow()
    views = CaseService(p.db).cases_of(p.who.id, now)
    records = RecordService(p.db, p.ctx)
    rows = {v.case.id: records.own(v.case.participation_id, p.who.id) for v in views}
    titles = ListingService(p.db).by_id([r.activity_id for r in rows.values()])
    when = p.globals()["when"]
    lines = []
    for v in views:
        record, c = rows[v.case.id], v.case
        until = when(c.suspended_until) if c.suspended_until else ""
        lines.append(
            CaseLine(
                view=v,
                title=titles[record.activity_id].title,
                sanction=signals.sanction(p, c.sanction, until),
                found=[signals.words(p, s, record.flag_notes) for s in c.signals or []],
                may_appeal=v.appeal is None and now <= as_utc(v.appeal_closes),
            )
        )
    return lines


def _page(p: Page, status: int = 200, **extra: Any) -> Response:
    return p.render(
        "resident/cases.html",
        status,
        cases=case_lines(p),
        suspended=suspension(p),
        appealed=p.request.query_params.get("appealed") == "1",
        posted=extra.get("posted"),
        values=extra.get("values", {}),
        errors=extra.get("errors", FormErrors()),
    )


@router.get("/cases")
def cases(p: ResidentPage) -> Response:
    """My records found false, what each brought, and my appeals."""
    return _page(p)


async def _photo(p: Page) -> tuple[str, bytes | None, str | None]:
    """The reason, the photo (None: none chosen) and which input it came from."""
    form = await p.request.form()
    reason = form.get("reason")
    chosen = []
    for name in INPUTS:
        upload = form.get(name)
        if isinstance(upload, UploadFile) and upload.filename:
            # A chosen but empty file goes on as b"": the photo check refuses it by name.
            chosen.append((name, await upload.read(p.ctx.settings.upload_max_bytes + 1)))
            await upload.close()
    text = reason.strip() if isinstance(reason, str) else ""
    if len(chosen) > 1:
        return text, None, "both"
    return text, (chosen[0][1] if chosen else None), (chosen[0][0] if chosen else None)


@router.post("/cases/{case_id}/appeal")
async def appeal(p: ResidentAppealPage, case_id: uuid.UUID) -> Response:
    """Appeal one of my cases, once, within the policy's days; another reviewer decides."""
    assert p.who is not None
    reason, photo, source = await _photo(p)
    values = {"reason": reason}
    if source == "both":
        both = p._("Choose one photo: take one now or pick one from your phone, not both.")
        return _refused(p, case_id, 422, values, [("photo", both)])
    try:
        body = AppealCreate.model_validate({"reason": reason})
        FraudDesk(p.db, p.ctx).file_appeal(case_id, p.who.id, body.reason, photo)
    except (DomainError, ValidationError) as exc:
        if isinstance(exc, CaseNotFound):
            raise  # someone else's case: the 404 page, as the API answers
        p.db.rollback()
        status = exc.status if isinstance(exc, DomainError) else 422
        found = FormErrors.of(exc, p.locale, {"reason": p._("Why the decision is wrong")}).items
        at = {"photo": source or "photo", "case_id": "reason"}
        return _refused(p, case_id, status, values, [(at.get(f or "", f), m) for f, m in found])
    return p.redirect(f"/cases?appealed=1#case-{case_id}")


def _refused(
    p: Page,
    case_id: uuid.UUID,
    status: int,
    values: dict[str, str],
    found: list[tuple[str | None, str]],
) -> Response:
    """My cases again, the errors beside the form of the case I appealed."""
    errors = FormErrors([(f"{case_id}-{f or 'reason'}", m) for f, m in found])
    return _page(p, status, posted=str(case_id), values=values, errors=errors)
