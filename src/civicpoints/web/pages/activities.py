"""Activities for residents: the list (nearest or closest to home first), one activity,
enrol and cancel. Real forms and links: everything here works without JavaScript.

Thin like the API's router: the same `ActivityService` calls and the same domain errors,
shown on the page in the API's words.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError

from civicpoints.activities import (
    Activity,
    ActivityService,
    Card,
    EducationCredit,
    ListingService,
    Participation,
    Position,
    participation_view,
)
from civicpoints.identity import GuardianService, IdentityService, LinkStatus
from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.kit.errors import DomainError
from civicpoints.web.pages.forms import FormErrors
from civicpoints.web.pages.kit import Page, ResidentPage

router = APIRouter(include_in_schema=False)
CATEGORIES = (
    "volunteer_service",
    "high_risk",
    "environmental",
    "public_supervision",
    "education_support",
)
PER_PAGE = 20


def position(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    """The browser's position when both numbers came and make sense; else None."""
    if lat is None or lon is None:
        return None
    try:
        where = Position(lat=lat, lon=lon)
    except ValidationError:
        return None
    return where.lat, where.lon


@router.get("/activities")
def activity_list(
    p: ResidentPage,
    category: str = "",
    lat: float | None = None,
    lon: float | None = None,
    page: int = Query(1, ge=1, le=50),
) -> Response:
    """Upcoming activities: by distance when the phone gave its position, else home first."""
    assert p.who is not None
    near = position(lat, lon)
    chosen = category if category in CATEGORIES else None
    home = IdentityService(p.db, p.ctx).resident(p.who.id).community_id
    cards = ListingService(p.db).upcoming(p.who.id, home, utcnow(), chosen, near)
    shown = cards[(page - 1) * PER_PAGE : page * PER_PAGE]
    return p.render(
        "resident/activities.html",
        cards=shown,
        categories=CATEGORIES,
        category=chosen or "",
        near=near,
        page_no=page,
        more=len(cards) > page * PER_PAGE,
    )


def as_seen(p: Page, activity_id: uuid.UUID) -> tuple[Activity, Card, Participation | None]:
    """An activity as the signed-in resident sees it: its card and their own record."""
    assert p.who is not None
    activity = ActivityService(p.db).get(activity_id)
    listing = ListingService(p.db)
    card = listing.cards([activity], p.who.id)[0]
    return activity, card, listing.record_of(activity_id, p.who.id)


def _detail(
    p: Page, activity_id: uuid.UUID, status: int = 200, errors: FormErrors | None = None
) -> Response:
    """The activity page with the resident's own enrollment, record and any error."""
    assert p.who is not None
    activity, card, record = as_seen(p, activity_id)
    listing = ListingService(p.db)
    children, credit = [], None
    if activity.category == "education_support":  # 教育积分: where the points go
        links = GuardianService(p.db, p.ctx).children_of(p.who.id)
        children = [c for lk, c in links if lk.status == LinkStatus.CONFIRMED]
        credit = EducationCredit(p.db, p.ctx).choice(activity_id, p.who.id)
    return p.render(
        "resident/activity.html",
        status,
        card=card,
        a=activity,
        children=children,
        credit=credit,
        waitlist=listing.waitlist_position(activity_id, p.who.id),
        record=participation_view(p.db, record) if record else None,
        ended=as_utc(activity.ends_at) <= utcnow(),
        errors=errors or FormErrors(),
    )


@router.get("/activities/{activity_id}")
def activity_detail(p: ResidentPage, activity_id: uuid.UUID) -> Response:
    """One activity: time, place, points, evidence, places, and enrol or cancel."""
    return _detail(p, activity_id)


def _refused(p: Page, activity_id: uuid.UUID, exc: DomainError) -> Response:
    """The activity page again, with the API's message at the top."""
    p.db.rollback()  # nothing of a refused request is kept
    errors = FormErrors([(None, m) for _f, m in FormErrors.of(exc, p.locale).items])
    return _detail(p, activity_id, exc.status, errors)


def refused_detail(p: Page, activity_id: uuid.UUID, exc: DomainError) -> Response:
    """The activity page again with a refused request's message (for other page modules)."""
    return _refused(p, activity_id, exc)


@router.post("/activities/{activity_id}/enrollment")
def enrol(p: ResidentPage, activity_id: uuid.UUID) -> Response:
    """Enrol (or join the waitlist when full); the page shows the API's message on refusal."""
    assert p.who is not None
    try:
        ActivityService(p.db).enroll(activity_id, p.who.id)
    except DomainError as exc:
        return _refused(p, activity_id, exc)
    return p.redirect(f"/activities/{activity_id}#status")


@router.post("/activities/{activity_id}/enrollment/cancel")
def cancel_enrolment(p: ResidentPage, activity_id: uuid.UUID) -> Response:
    """Give up a place (the first on the waitlist moves up)."""
    assert p.who is not None
    try:
        ActivityService(p.db).cancel_enrollment(activity_id, p.who.id)
    except DomainError as exc:
        return _refused(p, activity_id, exc)
    return p.redirect(f"/activities/{activity_id}#status")
