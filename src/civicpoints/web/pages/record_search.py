"""A resident's records by platform number, for reviewers and auditors: each links to its
evidence view, where a waiting record is decided and an approved one may be taken back. Only
the records at activities the caller looks after are read (the scope is in the query); an
unknown number and a resident with no record in scope read alike."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from civicpoints.activities import ReviewDesk
from civicpoints.identity import ResidentLookup
from civicpoints.kit.errors import DomainError
from civicpoints.web.pages.forms import FormErrors
from civicpoints.web.pages.kit import StaffPage
from civicpoints.web.pages.review_record import READERS
from civicpoints.web.pages.staff import require

router = APIRouter(include_in_schema=False)


@router.get("/staff/records")
def records(p: StaffPage, number: str = "") -> Response:
    """The search form, and the resident's records in scope, newest first."""
    who = require(p, *READERS)
    number = number.strip()[:40]
    rows, errors = [], FormErrors()
    if number:
        try:
            rows = ReviewDesk(p.db, p.ctx).records_of(number, who, READERS)
        except DomainError as exc:
            errors = FormErrors.of(exc, p.locale)
    person = ResidentLookup(p.db).by_ids([rows[0][0].resident_id]).popitem()[1] if rows else None
    return p.render(
        "staff/records.html",
        422 if errors else 200,
        rows=rows,
        person=person,
        asked=bool(number) and not errors,
        values={"number": number},
        errors=errors,
    )
