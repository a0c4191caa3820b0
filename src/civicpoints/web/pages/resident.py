"""The resident's home: balance, hours, what expires soon, this month against the cap, and
the activities recommended for them (为您推荐, stored by the nightly job)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from civicpoints.community import TeamService
from civicpoints.fraud import CaseService
from civicpoints.hours import HoursService, StarPolicyService
from civicpoints.identity import IdentityService, Verification
from civicpoints.insights import RecsService, SurveyService
from civicpoints.kit.clock import as_utc, local_date, utcnow
from civicpoints.kit.errors import DomainError
from civicpoints.ledger import LedgerService, wallet_of
from civicpoints.scoring import points_summary
from civicpoints.web.pages.cases import suspension
from civicpoints.web.pages.forms import FormErrors
from civicpoints.web.pages.kit import ResidentPage

router = APIRouter(include_in_schema=False)
NEWEST = 5
RECOMMENDED, RECOMMENDED_ELDER = 5, 3  # 长辈模式: fewer, larger


@router.get("/")
def home(p: ResidentPage) -> Response:
    """The resident's home page (长辈模式: the four most used actions, large)."""
    assert p.who is not None
    now = utcnow()
    points = points_summary(p.db, p.ctx, p.who.id, now)
    soon = [lot for lot in points.lots if (as_utc(lot.expires_at) - now).days < 30]
    hours = HoursService(p.db).summary(p.who.id)
    newest = LedgerService(p.db).entries(wallet_of(p.who.id), NEWEST)
    me = IdentityService(p.db, p.ctx).resident(p.who.id)
    return p.render(
        "resident/home.html",
        suspended=suspension(p),
        open_cases=_open_cases(p),
        verified=me.verification == Verification.VERIFIED,
        points=points,
        soon=soon,
        hours=hours.total_minutes / 60,
        stars=StarPolicyService(p.db).level_of(me.id, me.community_id, local_date(now)),
        newest=newest,
        teams=TeamService(p.db).teams_of(me.id),
        surveys=SurveyService(p.db).waiting(me.id, now),
        recs_on=RecsService(p.db).enabled(me.id),
        recs=RecsService(p.db).suggestions(
            me.id, now, RECOMMENDED_ELDER if p.elder else RECOMMENDED
        ),
    )


def _open_cases(p: ResidentPage) -> int:
    """How many of the resident's cases stand (not withdrawn): the home page links to them."""
    assert p.who is not None
    return sum(1 for v in CaseService(p.db).cases_of(p.who.id, utcnow()) if not v.withdrawn)


@router.get("/verify")
def verify_form(p: ResidentPage) -> Response:
    """Real-name verification: online where the city's provider allows it, else in person."""
    assert p.who is not None
    me = IdentityService(p.db, p.ctx).resident(p.who.id)
    return p.render("resident/verify.html", me=me, online=_online(p), errors=FormErrors())


@router.post("/verify")
def verify(p: ResidentPage) -> Response:
    """Run the configured real-name check, as `POST /api/v1/me/verification` does."""
    assert p.who is not None
    identity = IdentityService(p.db, p.ctx)
    me = identity.resident(p.who.id)
    try:
        identity.verify(me, "", p.who.key)
    except DomainError as exc:
        errors = FormErrors.of(exc, p.locale)
        return p.render("resident/verify.html", 422, me=me, online=_online(p), errors=errors)
    return p.redirect("/verify")


def _online(p: ResidentPage) -> bool:
    """Whether residents may verify themselves here (the `dev` provider is demo-only)."""
    return p.ctx.settings.identity_provider != "in_person"
