"""The policy simulator (政策模拟, /admin/simulator): the form prefilled with what is in force
in a region the administrator runs, and the result of `POST /api/v1/insights/simulations`'s
`Simulator` — a table (current, proposed, difference) and a chart by month with its table.
Works without script; with htmx the result is swapped in place. Nothing is saved."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError

from civicpoints.access import Role
from civicpoints.insights import Current, SimulationCreate, SimulationRead, Simulator
from civicpoints.kit.clock import utcnow
from civicpoints.kit.errors import DomainError, Forbidden
from civicpoints.regions import Region
from civicpoints.web.pages.admin import AdminPage, category_label
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.insights import near
from civicpoints.web.pages.kit import Page

router = APIRouter(include_in_schema=False)
RegionQ = Query("", max_length=36)
RATE, WEIGHT, PRICE = "rate_", "weight_", "price_"


def _name(p: Page, r: Any) -> str:
    return (r.name_en or r.name) if p.locale == "en" else r.name


def _region(p: Page, sim: Simulator, text: str) -> Region:
    assert p.who is not None
    try:
        asked = uuid.UUID(text) if text else None
    except ValueError:
        asked = None
    return sim.region_for(p.who, asked)


def _defaults(current: Current) -> dict[str, str]:
    """The form's values as they are in force."""
    rules = current.rules
    values = {RATE + str(c): str(r.points) for c, r in rules.categories.items()}
    values |= {"monthly_cap": str(rules.monthly_cap), "expiry_months": str(rules.expiry_months)}
    values |= {WEIGHT + str(r.id): "100" for r in current.children}
    values |= {PRICE + str(item.id): str(item.price_points) for item, _ in current.items}
    return values


def _ask(
    region: Region, current: Current, values: dict[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The API's request from the form (a field left as in force, or empty, is no change),
    and the form field each of the request's paths came from (for the errors)."""
    defaults = _defaults(current)

    def changed(name: str) -> bool:
        return bool(values.get(name)) and values[name] != defaults.get(name)

    def number(text: str) -> Any:
        return int(text) if text.isdecimal() and len(text) < 12 else text

    body: dict[str, Any] = {"region_id": str(region.id), "rates": {}, "weights": [], "prices": []}
    where: dict[str, str] = {}
    for c in current.rules.categories:
        if changed(RATE + str(c)):
            body["rates"][str(c)] = number(values[RATE + str(c)])
            where[f"rates.{c}"] = RATE + str(c)
    for name in ("monthly_cap", "expiry_months"):
        if changed(name):
            body[name] = number(values[name])
            where[name] = name
    for r in current.children:
        if changed(WEIGHT + str(r.id)):
            where[f"weights.{len(body['weights'])}.percent"] = WEIGHT + str(r.id)
            body["weights"].append(
                {"region_id": str(r.id), "percent": number(values[WEIGHT + str(r.id)])}
            )
    for item, _ in current.items:
        if changed(PRICE + str(item.id)):
            where[f"prices.{len(body['prices'])}.price_points"] = PRICE + str(item.id)
            body["prices"].append(
                {"item_id": str(item.id), "price_points": number(values[PRICE + str(item.id)])}
            )
    return body, where


def _errors(p: Page, exc: DomainError | ValidationError, where: dict[str, str]) -> FormErrors:
    errors = FormErrors.of(exc, p.locale)
    return FormErrors([(where.get(name or "", name) or None, m) for name, m in errors.items])


def _chart(p: Page, result: SimulationRead) -> str:
    data = {
        "months": [m.month for m in result.months],
        "series": {
            p._("Current rules"): [m.current for m in result.months],
            p._("Proposal"): [m.proposed for m in result.months],
        },
    }
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def _render(
    p: Page,
    status: int,
    sim: Simulator,
    region: Region,
    current: Current,
    values: dict[str, str],
    errors: FormErrors,
    result: SimulationRead | None,
) -> Response:
    assert p.who is not None
    partial = p.request.headers.get("hx-request") == "true" and status == 200
    return p.render(
        "admin/_simulation.html" if partial else "admin/simulator.html",
        status,
        regions=near(p, str(region.id), Role.ADMIN)[1],
        region=region,
        place=_name(p, region),
        current=current,
        values=values,
        errors=errors,
        result=result,
        data=_chart(p, result) if result else "{}",
        label=lambda c: category_label(p, c),
        name=lambda r: _name(p, r),
    )


@router.get("/admin/simulator")
def simulator(p: AdminPage, region: str = RegionQ) -> Response:
    """The form, prefilled with the rules in force today in the region."""
    sim = Simulator(p.db)
    place = _region(p, sim, region)
    current = sim.current(place, utcnow())
    return _render(p, 200, sim, place, current, _defaults(current), FormErrors(), None)


@router.post("/admin/simulator")
async def simulate(p: AdminPage) -> Response:
    """The result beside the form as it was filled in; nothing is saved."""
    assert p.who is not None
    sim = Simulator(p.db)
    region_text = (await form_data(p.request, ["region"]))["region"]
    place = _region(p, sim, region_text)
    now = utcnow()
    current = sim.current(place, now)
    names = ["region", *_defaults(current)]
    values = await form_data(p.request, names)
    body, where = _ask(place, current, values)
    try:
        result = sim.simulate(p.who, SimulationCreate.model_validate(body), now)
    except (DomainError, ValidationError) as exc:
        if isinstance(exc, Forbidden):
            raise
        return _render(p, 422, sim, place, current, values, _errors(p, exc, where), None)
    return _render(p, 200, sim, place, current, values, FormErrors(), result)
