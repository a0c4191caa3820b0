"""The organizer's venue-code screen (签到码): the code huge, for a projector or a phone held
up on site, turning every step.

With JavaScript, htmx fetches the next code a second after the shown one turns
(`hx-trigger="load delay:Ns"` on each fragment, so every new code schedules the next); without
it, `<meta http-equiv="refresh">` in a `<noscript>` reloads the page at the same moment. Same
service and scope as `GET /api/v1/activities/{id}/venue-code`: out of scope reads as not found.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from civicpoints.access import Role
from civicpoints.activities import VenueCodes, VenueScreen
from civicpoints.kit.clock import BUSINESS_TZ, utcnow
from civicpoints.web.pages.kit import Page, StaffPage
from civicpoints.web.pages.staff import require

router = APIRouter(prefix="/staff", include_in_schema=False)


def _screen(p: Page, activity_id: uuid.UUID) -> dict[str, Any]:
    """The screen now, and the turn's time as the room reads it (Beijing, to the second)."""
    screen: VenueScreen = VenueCodes(p.db, p.ctx).screen(
        activity_id, require(p, Role.ORGANIZER), utcnow()
    )
    turns = screen.turns_at.astimezone(BUSINESS_TZ).strftime("%H:%M:%S") if screen.turns_at else ""
    return {"s": screen, "activity": screen.activity, "turns": turns}


@router.get("/activities/{activity_id}/venue-code")
def venue_code(p: StaffPage, activity_id: uuid.UUID) -> Response:
    """The venue-code screen of an activity the organizer runs."""
    return p.render("staff/venue_code.html", **_screen(p, activity_id))


@router.get("/activities/{activity_id}/venue-code/live")
def venue_code_live(p: StaffPage, activity_id: uuid.UUID) -> Response:
    """The code fragment the screen fetches when the code turns."""
    return p.render("staff/_venue_code.html", **_screen(p, activity_id))
