"""The administrators' console (/admin): rules with a preview on last month, audit, jobs, ledger.

For office PCs. Administrators may change rules; auditors read everything and change nothing.
Every handler calls the same service as the API (`POST /api/v1/rules` → ScoringService).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from civicpoints.access import Role
from civicpoints.activities import RecordService
from civicpoints.identity import IdentityService
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.errors import DomainError, Forbidden
from civicpoints.kit.months import last_full_month
from civicpoints.regions import Level, RegionService
from civicpoints.rewards import CatalogService
from civicpoints.scoring import (
    CATEGORY_LABELS,
    Category,
    RuleSetCreate,
    RuleSetDoc,
    RulesOverview,
    ScoringService,
)
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, StaffPage

router = APIRouter(include_in_schema=False)
READERS = {Role.ADMIN, Role.AUDITOR}
RATE = "rate_"
RULE_FIELDS = (
    "effective_from",
    "region_id",
    "monthly_cap",
    "expiry_months",
    "note",
    *(RATE + c for c in Category),
)


def admin_page(p: StaffPage) -> Page:
    """A page for administrators and auditors; other staff get 403."""
    assert p.who is not None
    if not READERS & set(p.who.roles):
        raise Forbidden()
    return p


AdminPage = Annotated[Page, Depends(admin_page)]


def may_change(p: Page) -> bool:
    """Whether the person holds the admin role somewhere (auditors only read)."""
    return p.who is not None and Role.ADMIN in p.who.roles


def category_label(p: Page, category: str) -> str:
    """A category's name in the page's language."""
    labels = CATEGORY_LABELS.get(Category(category)) if category in set(Category) else None
    return labels[p.locale] if labels else category


def _scopes(p: Page) -> list[tuple[str, str]]:
    """Where a version may apply: city-wide, then districts and streets by place in the tree."""
    tree = sorted(RegionService(p.db).tree(), key=lambda r: r.path)
    named = [
        (str(r.id), ("\u3000" if r.level == Level.STREET else "") + _name(p, r.name, r.name_en))
        for r in tree
        if r.level in (Level.DISTRICT, Level.STREET)
    ]
    return [("", p._("City-wide")), *named]


def _name(p: Page, zh: str, en: str) -> str:
    return (en or zh) if p.locale == "en" else zh


def _defaults(overview: RulesOverview) -> dict[str, str]:
    """The form filled from the city-wide rules in force."""
    doc = overview.in_force[0].rules
    values = {"monthly_cap": str(doc.monthly_cap), "expiry_months": str(doc.expiry_months)}
    values["effective_from"] = (overview.on + timedelta(days=1)).isoformat()  # tomorrow
    for c in Category:
        rule = doc.categories.get(c)
        values[RATE + c] = str(rule.points) if rule else ""
    return values


def _rules_page(p: Page, status: int, values: dict[str, str], errors: FormErrors) -> Response:
    overview = ScoringService(p.db).overview(local_date(utcnow()))
    return p.render(
        "admin/rules.html",
        status,
        overview=overview,
        values=values or _defaults(overview),
        errors=errors,
        scopes=_scopes(p),
        categories=list(Category),
        label=lambda c: category_label(p, c),
        may_change=may_change(p),
        saved=p.request.query_params.get("saved") == "1",
    )


@router.get("/admin/rules")
def rules(p: AdminPage) -> Response:
    """The rules in force per region (the seed defaults shown as such) and the new version form."""
    return _rules_page(p, 200, {}, FormErrors())


def _as_int(text: str) -> Any:
    """A whole number from the form; anything else is passed on for the schema to refuse."""
    return int(text) if text.isdecimal() else text


def proposal(p: Page, values: dict[str, str]) -> RuleSetCreate:
    """The API's schema filled from the form, on top of the rules in force where it applies
    (rounding, evidence and presence are kept; a category left empty is not covered)."""
    data = RuleSetCreate.model_validate(
        {
            "region_id": values["region_id"] or None,
            "effective_from": values["effective_from"],
            "rules": {},
            "note": values["note"],
        }
    )
    base = _base_doc(p, data.region_id)
    categories = {}
    for c in Category:
        text = values[RATE + c]
        if text:
            rule = dict(base["categories"].get(c) or {"mode": "per_hour"})
            categories[str(c)] = {**rule, "points": _as_int(text)}
    doc = {
        **base,
        "categories": categories,
        "monthly_cap": _as_int(values["monthly_cap"]),
        "expiry_months": _as_int(values["expiry_months"]),
    }
    return data.model_copy(update={"rules": doc})


def _base_doc(p: Page, region_id: uuid.UUID | None) -> dict[str, Any]:
    """The rules in force today for the scope (its nearest region with rules, else city-wide)."""
    ids = []
    if region_id:
        regions = RegionService(p.db)
        ids = [r.id for r in regions.ancestry(regions.get(region_id))]
    _, rule_set = ScoringService(p.db).rules_for(ids, local_date(utcnow()))
    return RuleSetDoc.of(rule_set).model_dump(mode="json")


def _errors(p: Page, exc: DomainError | ValidationError) -> FormErrors:
    """The schema's and the rules' errors named by the form's fields."""
    errors = FormErrors.of(exc, p.locale)
    renamed = []
    for name, message in errors.items:
        parts = (name or "").split(".")
        if name and len(parts) >= 2 and parts[0] == "categories":
            name = RATE + parts[1]
        elif name and parts[0] == "rules" and len(parts) == 1:
            name = None
        renamed.append((name or None, message))
    return FormErrors(renamed)


@router.post("/admin/rules/preview")
async def preview(p: AdminPage) -> Response:
    """Step two: what the version would have done to last month, before anything is saved."""
    assert p.who is not None
    values = await form_data(p.request, RULE_FIELDS)
    scoring = ScoringService(p.db)
    try:
        data = proposal(p, values)
        scoring.check_may_set(p.who, data.region_id)
        first = last_full_month(local_date(utcnow()))
        past = RecordService(p.db, p.ctx).past_month(first)
        rate = CatalogService(p.db).fen_per_point(utcnow())
        result = scoring.simulate(data, first, past, rate)
    except (DomainError, ValidationError) as exc:
        if isinstance(exc, Forbidden):
            raise
        return _rules_page(p, 422, values, _errors(p, exc))
    scope = dict(_scopes(p)).get(values["region_id"], "").strip("\u3000")
    identity = IdentityService(p.db, p.ctx)
    numbers = {
        c.resident_id: identity.resident(c.resident_id).public_no for c in result.changes[:20]
    }
    return p.render(
        "admin/rules_preview.html",
        values=values,
        data=data,
        result=result,
        doc=RuleSetDoc.model_validate(data.rules),
        numbers=numbers,
        scope=scope,
        categories=list(Category),
        label=lambda c: category_label(p, c),
    )


@router.post("/admin/rules/edit")
async def edit_rules(p: AdminPage) -> Response:
    """Back from the preview to the form, as it was filled in."""
    return _rules_page(p, 200, await form_data(p.request, RULE_FIELDS), FormErrors())


@router.post("/admin/rules")
async def save_rules(p: AdminPage) -> Response:
    """Step three: save the version previewed (administrators of the scope only)."""
    assert p.who is not None
    values = await form_data(p.request, RULE_FIELDS)
    scoring = ScoringService(p.db)
    try:
        data = proposal(p, values)
        scoring.check_may_set(p.who, data.region_id)
        scoring.create_rule_set(data, p.who.id)
    except (DomainError, ValidationError) as exc:
        if isinstance(exc, Forbidden):
            raise
        return _rules_page(p, 422, values, _errors(p, exc))
    return p.redirect("/admin/rules?saved=1")
