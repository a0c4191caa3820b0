"""The staff console: home, and organizers' activities (publish, roster, cancel).

As thin as the API's routers: the same schema (`ActivityCreate`), the same services, the same
domain errors shown beside the field at fault. Scoping is the services' (SQL for lists).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from civicpoints.access import Principal, Role
from civicpoints.activities import ActivityCreate, ActivityService, ActivityStatus, OfflineService
from civicpoints.fraud import CaseService
from civicpoints.identity import ResidentLookup
from civicpoints.kit.clock import BUSINESS_TZ, as_utc, utcnow
from civicpoints.kit.errors import DomainError, Forbidden
from civicpoints.regions import Level, RegionService
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, StaffPage

router = APIRouter(prefix="/staff", include_in_schema=False)
CATEGORIES = (
    "volunteer_service",
    "high_risk",
    "environmental",
    "public_supervision",
    "education_support",
)
EVIDENCE = ("none", "photo", "photo_gps")
_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?")
_COORDS = re.compile(r"\s*([-+]?\d+(?:\.\d+)?)\s*[,，\s]\s*([-+]?\d+(?:\.\d+)?)\s*")


def require(p: Page, *roles: str) -> Principal:
    """The signed-in staff member, if they hold one of `roles` (or admin) anywhere; else 403."""
    assert p.who is not None
    if not {*roles, Role.ADMIN} & set(p.who.roles):
        raise Forbidden()
    return p.who


def beijing(value: str) -> str:
    """A `datetime-local` value (Beijing time) as ISO 8601 with its offset; other text as is."""
    return f"{value}+08:00" if _LOCAL.fullmatch(value) else value


def local_input(value: datetime | None) -> str:
    """A time as a `datetime-local` value in Beijing time."""
    return as_utc(value).astimezone(BUSINESS_TZ).strftime("%Y-%m-%dT%H:%M") if value else ""


@router.get("")
def home(p: StaffPage) -> Response:
    """The console's start: what this staff member's roles let them do; a reviewer sees how
    many records wait longer than the policy allows and how many appeals wait."""
    assert p.who is not None
    late, appeals = 0, 0
    if {Role.REVIEWER, Role.ADMIN} & set(p.who.roles):
        late = len(OfflineService(p.db, p.ctx).overdue(utcnow(), p.who))
        appeals = len(CaseService(p.db).open_appeals(p.who))
    return p.render("staff/home.html", late=late, appeals=appeals)


@router.get("/activities")
def activities(p: StaffPage) -> Response:
    """The activities this organizer runs, latest first (scope in SQL)."""
    who = require(p, Role.ORGANIZER)
    return p.render("staff/activities.html", rows=ActivityService(p.db).organized_by(who))


FIELDS = (
    "organization_id",
    "region_id",
    "title",
    "description",
    "category",
    "place_name",
    "coords",
    "radius_m",
    "starts_at",
    "ends_at",
    "capacity",
    "evidence",
    "flag_outside",
    "publish",
)


def _choices(p: Page) -> dict[str, Any]:
    """Organizations and places this organizer may publish for."""
    who = require(p, Role.ORGANIZER)
    regions = RegionService(p.db)
    tree = {r.id: r for r in regions.tree()}
    orgs = [
        o for o in regions.organizations() if who.may(Role.ORGANIZER, tree[o.region_id].path, o.id)
    ]
    places = [
        r
        for r in tree.values()
        if r.level in (Level.STREET, Level.COMMUNITY)
        and any(who.may(Role.ORGANIZER, r.path, o.id) for o in orgs)
    ]
    en = p.locale == "en"
    return {
        "orgs": [(str(o.id), (o.name_en or o.name) if en else o.name) for o in orgs],
        "places": [(str(r.id), (r.name_en or r.name) if en else r.name) for r in places],
        "categories": CATEGORIES,
        "evidences": EVIDENCE,
    }


def _new_page(p: Page, status: int, values: dict[str, str], errors: FormErrors) -> Response:
    return p.render("staff/activity_new.html", status, values=values, errors=errors, **_choices(p))


@router.get("/activities/new")
def new_activity(p: StaffPage) -> Response:
    """The form to publish an activity."""
    defaults = {"radius_m": "200", "capacity": "30", "evidence": "none", "publish": "yes"}
    return _new_page(p, 200, defaults, FormErrors())


def _fence(values: dict[str, str]) -> dict[str, Any]:
    """The circle of the typed or pasted "30.2741, 120.1551" and radius (checked by geo)."""
    found = _COORDS.fullmatch(values["coords"])
    lat, lon = (float(found[1]), float(found[2])) if found else (values["coords"] or None, None)
    return {"type": "circle", "lat": lat, "lon": lon, "radius_m": _number(values["radius_m"])}


def _number(text: str) -> float | str:
    """A typed number, or the text itself (which the geofence check then refuses by name)."""
    try:
        return float(text)
    except ValueError:
        return text


def _activity_body(values: dict[str, str]) -> ActivityCreate:
    """The form as the API's own request body."""
    return ActivityCreate.model_validate(
        {
            **{k: values[k] for k in ("organization_id", "region_id", "title", "description")},
            **{k: values[k] for k in ("category", "place_name", "capacity", "evidence")},
            "starts_at": beijing(values["starts_at"]),
            "ends_at": beijing(values["ends_at"]),
            "geofence": _fence(values),
            "flag_outside": values["flag_outside"] == "yes",
            "publish": values["publish"] == "yes",
        }
    )


def _at_fields(errors: FormErrors) -> FormErrors:
    """Geofence errors shown beside the coordinates and radius the page asks for."""
    moved = {"lat": "coords", "lon": "coords", "geofence": "coords", "type": "coords"}
    return FormErrors([(moved.get(f or "", f), m) for f, m in errors.items])


@router.post("/activities/new")
async def create_activity(p: StaffPage) -> Response:
    """Publish an activity with the API's checks and messages."""
    values = await form_data(p.request, FIELDS)
    try:
        activity = ActivityService(p.db).create(_activity_body(values), require(p, Role.ORGANIZER))
    except (DomainError, ValidationError) as exc:
        return _new_page(p, 422, values, _at_fields(FormErrors.of(exc, p.locale)))
    return p.redirect(f"/staff/activities/{activity.id}")


def _roster_data(p: Page, activity_id: uuid.UUID) -> dict[str, Any]:
    roster = ActivityService(p.db).roster(activity_id, require(p, Role.ORGANIZER))
    people = ResidentLookup(p.db).by_ids([e.resident_id for e in roster.enrollments])
    return {"roster": roster, "activity": roster.activity, "people": people, "now": utcnow()}


@router.get("/activities/{activity_id}")
def activity(p: StaffPage, activity_id: uuid.UUID) -> Response:
    """An activity with its roster and attendance (refreshed every 10 s with htmx)."""
    return p.render("staff/activity.html", **_roster_data(p, activity_id))


@router.get("/activities/{activity_id}/roster")
def roster(p: StaffPage, activity_id: uuid.UUID) -> Response:
    """The roster fragment the activity page refreshes."""
    return p.render("staff/roster.html", **_roster_data(p, activity_id))


@router.get("/activities/{activity_id}/cancel")
def cancel_form(p: StaffPage, activity_id: uuid.UUID) -> Response:
    """Ask before cancelling an activity (a page, not a pop-up)."""
    found = ActivityService(p.db).organized(activity_id, require(p, Role.ORGANIZER))
    return p.render("staff/cancel.html", activity=found, errors=FormErrors())


@router.post("/activities/{activity_id}/cancel")
def cancel(p: StaffPage, activity_id: uuid.UUID) -> Response:
    """Cancel the activity, as `POST /api/v1/activities/{id}/cancel` does."""
    who = require(p, Role.ORGANIZER)
    service = ActivityService(p.db)
    found = service.organized(activity_id, who)
    try:
        service.set_status(found.id, ActivityStatus.CANCELLED, who)
    except DomainError as exc:
        return p.render(
            "staff/cancel.html", 409, activity=found, errors=FormErrors.of(exc, p.locale)
        )
    return p.redirect(f"/staff/activities/{activity_id}")
