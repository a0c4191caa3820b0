"""The resident's home: balance, hours, what expires soon, this month against the cap."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from civicpoints.hours import HoursService
from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.ledger import LedgerService, wallet_of
from civicpoints.scoring import points_summary
from civicpoints.web.pages.kit import ResidentPage

router = APIRouter(include_in_schema=False)
NEWEST = 5


@router.get("/")
def home(p: ResidentPage) -> Response:
    """The resident's home page (长辈模式: the four most used actions, large)."""
    assert p.who is not None
    now = utcnow()
    points = points_summary(p.db, p.ctx, p.who.id, now)
    soon = [lot for lot in points.lots if (as_utc(lot.expires_at) - now).days < 30]
    hours = HoursService(p.db).summary(p.who.id)
    newest = LedgerService(p.db).entries(wallet_of(p.who.id), NEWEST)
    return p.render(
        "resident/home.html",
        points=points,
        soon=soon,
        hours=hours.total_minutes / 60,
        newest=newest,
    )
