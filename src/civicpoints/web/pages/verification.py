"""In-person real-name verification at the service point (记录核验人员): a verifier sees the
resident's ID card, types its number, and the same service as
`POST /api/v1/residents/{id}/verification` records who, when and which card."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from civicpoints.access import Role
from civicpoints.identity import IdentityService, InPersonVerificationCreate
from civicpoints.kit.errors import DomainError
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, StaffPage
from civicpoints.web.pages.staff import require

router = APIRouter(prefix="/staff", include_in_schema=False)
FIELDS = ("document_type", "document_number")


def _page(
    p: Page, resident_id: uuid.UUID, status: int, errors: FormErrors, values: dict
) -> Response:
    assert p.who is not None
    person = IdentityService(p.db, p.ctx).resident_for_staff(resident_id, p.who)
    return p.render("staff/verify.html", status, person=person, errors=errors, values=values)


@router.get("/residents/{resident_id}/verify")
def verify_form(p: StaffPage, resident_id: uuid.UUID) -> Response:
    """The card check form for one resident of the verifier's area."""
    require(p, Role.VERIFIER)
    return _page(p, resident_id, 200, FormErrors(), {"document_type": "resident_id_card"})


@router.post("/residents/{resident_id}/verify")
async def verify(p: StaffPage, resident_id: uuid.UUID) -> Response:
    """Record the in-person check; a number that does not match the card on file is refused."""
    who = require(p, Role.VERIFIER)
    values = await form_data(p.request, FIELDS)
    labels = {"document_number": p._("Number on the card")}
    try:
        card = InPersonVerificationCreate.model_validate(values)
        IdentityService(p.db, p.ctx).verify_in_person(resident_id, card, who)
    except (DomainError, ValidationError) as exc:
        return _page(p, resident_id, 422, FormErrors.of(exc, p.locale, labels), values)
    return p.redirect(f"/staff/residents/{resident_id}/verify")
