"""Administrators' risk policy (风控设置, /admin/risk): the policy in force for a region (or
city-wide) and its versions, and a new version with a preview on last month's records
(`POST /api/v1/fraud/policies/preview`'s `FraudDesk.preview`) — an htmx partial, or the whole
page when the browser runs no script. Only administrators of the scope (`check_may_set`).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from civicpoints.access import Role
from civicpoints.activities import FraudDesk
from civicpoints.fraud import (
    DEFAULT_WEIGHTS,
    PolicyCreate,
    PolicyPreviewAsk,
    PolicyService,
    PolicySettings,
)
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.errors import DomainError, Forbidden
from civicpoints.kit.months import last_full_month
from civicpoints.regions import Level, RegionService
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, StaffPage
from civicpoints.web.pages.signals import SIGNALS


def _(text: str) -> str:
    """Mark a string for the catalog; the page translates it where it is shown."""
    return text


router = APIRouter(prefix="/admin/risk", include_in_schema=False)
# The thresholds, grouped as the policy reads: (group, [(setting, label, hint)]).
GROUPS = (
    (
        _("Photos"),
        (
            (
                "photo_near_bits",
                _("Bits apart that still make two photos the same"),
                _("bits (0 to 7)"),
            ),
            ("photo_far_m", _("A photo's GPS is far from the activity beyond"), _("metres")),
            (
                "photo_time_slack_min",
                _("A photo's time may differ from the activity by"),
                _("minutes"),
            ),
        ),
    ),
    (
        _("Positions"),
        (
            (
                "max_speed_kmh",
                _("Fastest believable travel between two positions"),
                _("km per hour"),
            ),
            (
                "same_spot_residents",
                _("Residents at the very same position before it counts"),
                _("people"),
            ),
            ("accuracy_min_m", _("A position accuracy below this is implausible"), _("metres")),
            ("accuracy_max_m", _("A position accuracy above this is implausible"), _("metres")),
        ),
    ),
    (
        _("Patterns"),
        (
            ("burst_factor", _("Awards in a day above this many times the usual"), _("times")),
            ("burst_min_per_day", _("…and at least this many awards that day"), _("awards")),
            ("device_max_accounts", _("Accounts one phone or browser may serve"), _("accounts")),
            (
                "overlap_tolerance_min",
                _("Two records of one resident may overlap by up to"),
                _("minutes"),
            ),
        ),
    ),
    (
        _("Decision"),
        (
            (
                "review_at",
                _("Risk score from which a record goes to a reviewer"),
                _("points of risk"),
            ),
            ("refuse_at", _("Risk score from which a record is refused"), _("points of risk")),
            (
                "bulk_approve_below",
                _("Risk score below which records may be approved together"),
                _("points of risk"),
            ),
            ("review_alert_days", _("Alert when a record waits longer than"), _("days")),
        ),
    ),
    (
        _("Sanctions and appeals"),
        (
            ("ladder_window_days", _("Earlier cases count towards the next step for"), _("days")),
            ("suspension_days", _("Second case: earning suspended for"), _("days")),
            (
                "long_suspension_days",
                _("Third case: suspended, and in the credit record, for"),
                _("days"),
            ),
            ("appeal_days", _("A resident may appeal within"), _("days")),
        ),
    ),
)
SETTINGS = [name for _g, rows in GROUPS for name, _l, _h in rows]
FIELDS = (
    "region_id",
    "effective_from",
    "note",
    *(f"s_{n}" for n in SETTINGS),
    *(f"w_{c}" for c in DEFAULT_WEIGHTS),
)
assert set(SETTINGS) | {"weights"} == set(PolicySettings.model_fields), "every setting on the form"


def admin_only(p: StaffPage) -> Page:
    """Administrators only (auditors and other staff: 403); the scope is checked per region."""
    assert p.who is not None
    if Role.ADMIN not in p.who.roles:
        raise Forbidden()
    return p


AdminOnly = Annotated[Page, Depends(admin_only)]


def _scopes(p: Page) -> list[tuple[str, str]]:
    """Where this administrator may set a policy: city-wide, districts and streets."""
    assert p.who is not None
    en = p.locale == "en"
    found = [("", p._("City-wide"))] if p.who.may_citywide(Role.ADMIN) else []
    for r in sorted(RegionService(p.db).tree(), key=lambda r: r.path):
        if r.level in (Level.DISTRICT, Level.STREET) and p.who.may(Role.ADMIN, r.path):
            indent = "\u3000" if r.level == Level.STREET else ""
            found.append((str(r.id), indent + ((r.name_en or r.name) if en else r.name)))
    return found


def _region(p: Page, text: str) -> uuid.UUID | None:
    """The chosen scope, once the administrator is known to hold it (else 403)."""
    assert p.who is not None
    try:
        region_id = uuid.UUID(text) if text else None
    except ValueError:
        raise Forbidden() from None
    PolicyService(p.db).check_may_set(p.who, region_id)
    return region_id


def _ancestry(p: Page, region_id: uuid.UUID | None) -> list[uuid.UUID]:
    if region_id is None:
        return []
    regions = RegionService(p.db)
    return [r.id for r in regions.ancestry(regions.get(region_id))]


def _as_values(settings: PolicySettings, on: str, region: str) -> dict[str, str]:
    """The form filled from a policy."""
    values = {f"s_{n}": str(getattr(settings, n)) for n in SETTINGS}
    values |= {f"w_{c}": str(settings.weight(c)) for c in DEFAULT_WEIGHTS}
    return values | {"effective_from": on, "region_id": region, "note": ""}


def _settings(values: dict[str, str]) -> dict[str, Any]:
    """The form as the schema's settings (the schema parses and bounds every number)."""
    weights = {c: values[f"w_{c}"] for c in DEFAULT_WEIGHTS}
    return {**{n: values[f"s_{n}"] for n in SETTINGS}, "weights": weights}


def _errors(p: Page, exc: DomainError | ValidationError) -> FormErrors:
    """The schema's errors named by the form's fields."""
    renamed: list[tuple[str | None, str]] = []
    for name, message in FormErrors.of(exc, p.locale).items:
        parts = (name or "").split(".")
        if parts[0] == "settings" and len(parts) == 3 and parts[1] == "weights":
            name = f"w_{parts[2]}"
        elif parts[0] == "settings" and len(parts) == 2:
            name = f"s_{parts[1]}"
        elif parts[0] == "settings":  # the policy as a whole (e.g. refuse below review)
            name = "s_refuse_at" if "refuse_at" in str(exc) else None
        renamed.append((name, message))
    return FormErrors(renamed)


def _page(p: Page, status: int, region: str, **extra: Any) -> Response:
    region_id = _region(p, region)
    today = local_date(utcnow())
    policies = PolicyService(p.db)
    ancestry = _ancestry(p, region_id)
    force_id, force = policies.in_force(ancestry, today)
    versions = [v for v in policies.versions() if v.region_id is None or v.region_id in ancestry]
    scopes = _scopes(p)
    return p.render(
        "admin/risk.html",
        status,
        region=region,
        scopes=scopes,
        names=dict(scopes) | _all_names(p),
        force_id=force_id,
        force=force,
        versions=versions,
        groups=GROUPS,
        signals=SIGNALS,
        weights=list(DEFAULT_WEIGHTS),
        values=extra.get("values")
        or _as_values(force, (today + timedelta(days=1)).isoformat(), region),
        errors=extra.get("errors", FormErrors()),
        preview=extra.get("preview"),
        saved=p.request.query_params.get("saved") == "1",
    )


def _all_names(p: Page) -> dict[str, str]:
    """Every region's name, for versions set above the administrator's own scope."""
    en = p.locale == "en"
    return {str(r.id): (r.name_en or r.name) if en else r.name for r in RegionService(p.db).tree()}


@router.get("")
def risk(p: AdminOnly, region: str = "") -> Response:
    """The policy in force for the chosen scope, its versions and the new-version form."""
    if not region and p.who is not None and not p.who.may_citywide(Role.ADMIN):
        region = next((value for value, _n in _scopes(p) if value), "")
    return _page(p, 200, region)


@router.post("/preview")
async def preview(p: AdminOnly) -> Response:
    """What the policy in force and the proposal decide for last month's records."""
    assert p.who is not None
    values = await form_data(p.request, FIELDS)
    partial = p.request.headers.get("hx-request") == "true"
    desk = FraudDesk(p.db, p.ctx)
    try:
        ask = PolicyPreviewAsk.model_validate(
            {"region_id": values["region_id"] or None, "settings": _settings(values)}
        )
        desk.cases.policies.check_may_set(p.who, ask.region_id)
        result = desk.preview(ask.region_id, ask.settings, last_full_month(local_date(utcnow())))
    except (DomainError, ValidationError) as exc:
        if isinstance(exc, Forbidden):
            raise
        if partial:  # htmx swaps 200s only: the summary links to the fields on the page
            return p.render("admin/_risk_preview.html", errors=_errors(p, exc), preview=None)
        return _page(p, 422, values["region_id"], values=values, errors=_errors(p, exc))
    if partial:
        return p.render("admin/_risk_preview.html", errors=FormErrors(), preview=result)
    return _page(p, 200, values["region_id"], values=values, preview=result)


@router.post("")
async def save(p: AdminOnly) -> Response:
    """Store the new version (the API's schema and checks); the page shows it in force."""
    assert p.who is not None
    values = await form_data(p.request, FIELDS)
    try:
        data = PolicyCreate.model_validate(
            {
                "region_id": values["region_id"] or None,
                "effective_from": values["effective_from"],
                "settings": _settings(values),
                "note": values["note"],
            }
        )
        PolicyService(p.db).create(data, p.who)
    except (DomainError, ValidationError) as exc:
        if isinstance(exc, Forbidden):
            raise
        p.db.rollback()
        return _page(p, 422, values["region_id"], values=values, errors=_errors(p, exc))
    return p.redirect(f"/admin/risk?region={values['region_id']}&saved=1")
