"""Administrators' region settings that are plain numbers: the star-level thresholds
(/admin/stars, `POST /api/v1/hours/star-policies`) and the donation and points-bank settings
(/admin/donations, `POST /api/v1/community/donation-settings`). Each page shows, for a scope the
administrator holds, what is in force today, the versions that apply there (in force, scheduled,
earlier) and a form for a new version from a day; the API's schema and service decide, so the
bounds, the scope check and the audit are the same. Plain forms: no script needed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, Protocol

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from civicpoints.access import Role
from civicpoints.community import DonationSettingCreate, DonationSettingService
from civicpoints.hours import DEFAULT_STARS, StarPolicyCreate, StarPolicyService
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.errors import DomainError, Forbidden
from civicpoints.regions import Level, RegionService
from civicpoints.web.pages.admin_risk import AdminOnly
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page


def _(text: str) -> str:
    """Mark a string for the catalog; the page translates it where it is shown."""
    return text


router = APIRouter(prefix="/admin", include_in_schema=False)
LEVELS = range(1, 6)
LEVEL_NAMES = (
    _("1-star volunteer"),
    _("2-star volunteer"),
    _("3-star volunteer"),
    _("4-star volunteer"),
    _("5-star volunteer"),
)
STAR_FIELDS = ("region_id", "effective_from", "note", *(f"t{n}" for n in LEVELS))
DONATION_NUMBERS = ("monthly_donation_limit", "savings_months", "savings_cap")
DONATION_FIELDS = ("region_id", "effective_from", "note", *DONATION_NUMBERS)


class Version(Protocol):
    """What the versions table reads of a stored version."""

    id: uuid.UUID
    region_id: uuid.UUID | None
    effective_from: date


def _scopes(p: Page) -> list[tuple[str, str]]:
    """Where this administrator may add a version: city-wide, districts, streets, communities."""
    assert p.who is not None
    en = p.locale == "en"
    found = [("", p._("City-wide"))] if p.who.may_citywide(Role.ADMIN) else []
    indent: dict[str, str] = {
        Level.DISTRICT: "",
        Level.STREET: "\u3000",
        Level.COMMUNITY: "\u3000\u3000",
    }
    for r in sorted(RegionService(p.db).tree(), key=lambda r: r.path):
        if r.level in indent and p.who.may(Role.ADMIN, r.path):
            found.append((str(r.id), indent[r.level] + ((r.name_en or r.name) if en else r.name)))
    return found


def _names(p: Page) -> dict[str, str]:
    """Every region's name (versions may be set above the administrator's own scope)."""
    en = p.locale == "en"
    return {str(r.id): (r.name_en or r.name) if en else r.name for r in RegionService(p.db).tree()}


def _default_scope(p: Page, region: str) -> str:
    """The scope asked for, else city-wide for a city administrator, else their first one."""
    assert p.who is not None
    if region or p.who.may_citywide(Role.ADMIN):
        return region
    return next((value for value, _n in _scopes(p) if value), "")


def _region(text: str) -> uuid.UUID | None:
    """The scope's id ('' is city-wide); not an id: 403, as a region one does not hold."""
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        raise Forbidden() from None


def _chain(p: Page, region_id: uuid.UUID | None) -> list[uuid.UUID]:
    if region_id is None:
        return []
    regions = RegionService(p.db)
    return [r.id for r in regions.ancestry(regions.get(region_id))]


def _rows(
    versions: Sequence[Version], chain: list[uuid.UUID], force: Version | None, today: date
) -> list[tuple[Version, str]]:
    """The versions that apply to the scope (its own, its ancestors', city-wide), each with
    its standing: in force, scheduled (starts later) or earlier."""
    out = []
    for v in versions:
        if v.region_id is not None and v.region_id not in chain:
            continue
        if force is not None and v.id == force.id:
            standing = "in_force"
        elif v.effective_from > today:
            standing = "scheduled"
        else:
            standing = "earlier"
        out.append((v, standing))
    return out


def _errors(
    p: Page, exc: DomainError | ValidationError, labels: dict[str, str], whole: str | None = None
) -> FormErrors:
    """The schema's errors named by the form's fields (a threshold by its level; an error of
    the whole body by `whole`)."""
    renamed: list[tuple[str | None, str]] = []
    for name, message in FormErrors.of(exc, p.locale, labels).items:
        parts = (name or "").split(".")
        if parts[0] == "thresholds" and len(parts) == 2 and parts[1].isdigit():
            name = f"t{int(parts[1]) + 1}"
        elif parts[0] in ("thresholds", "body", ""):
            name = whole
        renamed.append((name, message))
    return FormErrors(renamed)


def _whole(text: str) -> int | str:
    """A form's whole number as a number (anything else goes to the schema as typed)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else text


# -- star levels ---------------------------------------------------------------------------


def _stars_page(p: Page, status: int, region: str, **extra: Any) -> Response:
    assert p.who is not None
    region_id = _region(region)
    service = StarPolicyService(p.db)
    service.check_may_set(p.who, region_id)
    today = local_date(utcnow())
    chain = _chain(p, region_id)
    force = service.current(chain, today)
    thresholds = force.thresholds if force else DEFAULT_STARS.hours
    values = extra.get("values") or {
        "region_id": region,
        "effective_from": (today + timedelta(days=1)).isoformat(),
        "note": "",
        **{f"t{n}": str(h) for n, h in zip(LEVELS, thresholds, strict=True)},
    }
    return p.render(
        "admin/stars.html",
        status,
        region=region,
        scopes=_scopes(p),
        names=_names(p),
        force=force,
        thresholds=thresholds,
        level_names=LEVEL_NAMES,
        rows=_rows(service.versions(), chain, force, today),
        values=values,
        errors=extra.get("errors", FormErrors()),
        today=today,
        saved=p.request.query_params.get("saved") == "1",
    )


@router.get("/stars")
def stars(p: AdminOnly, region: str = "") -> Response:
    """The star thresholds in force for the chosen scope, their versions, a new version."""
    return _stars_page(p, 200, _default_scope(p, region))


@router.post("/stars")
async def save_stars(p: AdminOnly) -> Response:
    """Store a new version of the thresholds (the API's schema and checks)."""
    assert p.who is not None
    values = await form_data(p.request, STAR_FIELDS)
    labels = {"effective_from": p._("In force from"), "note": p._("Note (why the change)")}
    try:
        data = StarPolicyCreate.model_validate(
            {
                "region_id": values["region_id"] or None,
                "effective_from": values["effective_from"],
                "thresholds": [_whole(values[f"t{n}"]) for n in LEVELS],
                "note": values["note"],
            }
        )
        StarPolicyService(p.db).add(data, p.who)
    except (DomainError, ValidationError) as exc:
        if isinstance(exc, Forbidden):
            raise
        p.db.rollback()
        errors = _errors(p, exc, labels, "thresholds")
        return _stars_page(p, 422, values["region_id"], values=values, errors=errors)
    return p.redirect(f"/admin/stars?region={values['region_id']}&saved=1")


# -- donations and the points bank ---------------------------------------------------------


def _donations_page(p: Page, status: int, region: str, **extra: Any) -> Response:
    assert p.who is not None
    region_id = _region(region)
    service = DonationSettingService(p.db)
    service.check_may_set(p.who, region_id)
    today = local_date(utcnow())
    force = service.current(region_id, today)
    settings = service.in_force(region_id, today)
    values = extra.get("values") or {
        "region_id": region,
        "effective_from": (today + timedelta(days=1)).isoformat(),
        "note": "",
        **{n: str(getattr(settings, n)) for n in DONATION_NUMBERS},
    }
    return p.render(
        "admin/donation_settings.html",
        status,
        region=region,
        scopes=_scopes(p),
        names=_names(p),
        force=force,
        settings=settings,
        rows=_rows(service.versions(), _chain(p, region_id), force, today),
        values=values,
        errors=extra.get("errors", FormErrors()),
        today=today,
        saved=p.request.query_params.get("saved") == "1",
    )


@router.get("/donations")
def donation_settings(p: AdminOnly, region: str = "") -> Response:
    """The donation and points-bank settings in force for the chosen scope, their versions,
    a new version."""
    return _donations_page(p, 200, _default_scope(p, region))


@router.post("/donations")
async def save_donation_settings(p: AdminOnly) -> Response:
    """Store a new version of the settings (the API's schema and checks)."""
    assert p.who is not None
    values = await form_data(p.request, DONATION_FIELDS)
    labels = {
        "effective_from": p._("In force from"),
        "monthly_donation_limit": p._("Monthly donation limit"),
        "savings_months": p._("Saved points last"),
        "savings_cap": p._("Points bank cap"),
        "note": p._("Note (why the change)"),
    }
    try:
        data = DonationSettingCreate.model_validate(
            {
                "region_id": values["region_id"] or None,
                "effective_from": values["effective_from"],
                **{n: _whole(values[n]) for n in DONATION_NUMBERS},
                "note": values["note"],
            }
        )
        DonationSettingService(p.db).add(data, p.who)
    except (DomainError, ValidationError) as exc:
        if isinstance(exc, Forbidden):
            raise
        p.db.rollback()
        errors = _errors(p, exc, labels)
        return _donations_page(p, 422, values["region_id"], values=values, errors=errors)
    return p.redirect(f"/admin/donations?region={values['region_id']}&saved=1")
