"""The printable points statement (积分单): for a resident, or printed by staff for them.

Staff at an offline service point print it for a resident of their regions (404 outside
them, 403 without a role that serves residents: `IdentityService.resident_for_staff`).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import Response

from civicpoints.hours import HoursService
from civicpoints.identity import IdentityService, Resident
from civicpoints.kit.clock import utcnow
from civicpoints.kit.qr import qr_svg
from civicpoints.ledger import LedgerService, wallet_of
from civicpoints.scoring import points_summary
from civicpoints.web.pages.kit import Page, ResidentPage, StaffPage

router = APIRouter(include_in_schema=False)
LINES = 20


def _statement(p: Page, resident: Resident, template: str) -> Response:
    """The statement of one resident: balance, hours, latest entries, platform number QR."""
    now = utcnow()
    label = p._("QR code of platform number %(no)s", no=resident.public_no)
    return p.render(
        template,
        resident=resident,
        points=points_summary(p.db, p.ctx, resident.id, now),
        hours=HoursService(p.db).summary(resident.id).total_minutes / 60,
        entries=LedgerService(p.db).entries(wallet_of(resident.id), LINES),
        qr=qr_svg(resident.public_no, label, "qr qr-small"),
        printed_at=now,
    )


@router.get("/print")
def my_statement(p: ResidentPage) -> Response:
    """My points statement, ready to print."""
    assert p.who is not None
    resident = IdentityService(p.db, p.ctx).resident(p.who.id)
    return _statement(p, resident, "resident/print.html")


@router.get("/staff/residents/{resident_id}/print")
def staff_statement(p: StaffPage, resident_id: uuid.UUID) -> Response:
    """A resident's statement printed by staff at a service point (their regions only)."""
    assert p.who is not None
    resident = IdentityService(p.db, p.ctx).resident_for_staff(resident_id, p.who)
    return _statement(p, resident, "resident/print_staff.html")
