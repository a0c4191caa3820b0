"""Outcome indicators (/admin/outcomes): a region's indicator values by month beside the
platform's own figures, before and after the region joined the scheme (chart with the join
month marked, and the same numbers in a table), a form to enter one value and a CSV upload.
Works without script; the API's services and errors (docs/insights.md)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from civicpoints.insights import (
    InsightsService,
    JoinSet,
    OutcomeCreate,
    OutcomeService,
    month_start,
)
from civicpoints.kit.clock import add_months, local_date, utcnow
from civicpoints.kit.errors import DomainError, Forbidden
from civicpoints.regions import Region
from civicpoints.web.pages.admin import AdminPage, may_change
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.insights import near
from civicpoints.web.pages.kit import Page, StaffImportPage, StaffPage

router = APIRouter(include_in_schema=False)
MONTH = re.compile(r"^20[0-9]{2}-(0[1-9]|1[0-2])$")
FIELDS = ("indicator", "region", "month", "value", "source", "reason")
Q = {"region": Query("", max_length=36), "indicator": Query("", max_length=32)}


def _key(d: Any) -> str:
    return str(d.isoformat()[:7])


def _asked(
    p: Page, service: OutcomeService, q: dict[str, str]
) -> tuple[dict[str, str], FormErrors]:
    """The filter's values with defaults (24 months around the join day, else the last 24)."""
    problems: list[tuple[str | None, str]] = []
    if q["region"] and not re.fullmatch(r"[0-9a-fA-F-]{32,36}", q["region"]):
        problems.append(("region", p._("Choose a region from the list")))
    for name in ("from", "to"):
        if q[name] and not MONTH.match(q[name]):
            problems.append((name, p._("Enter a month as YYYY-MM")))
    codes = [i.code for i in service.indicators()]
    if q["indicator"] and q["indicator"] not in codes:
        problems.append(("indicator", p._("Choose an indicator from the list")))
    values = dict(q, indicator=q["indicator"] or (codes[0] if codes else ""))
    return values, FormErrors(problems)


def _range(values: dict[str, str], joined: Any) -> tuple[str, str]:
    this = local_date(utcnow()).replace(day=1)
    start = add_months(joined.replace(day=1), -12) if joined else add_months(this, -23)
    end = min(add_months(start, 23), this)
    return values["from"] or _key(start), values["to"] or _key(end)


def _view(p: Page, q: dict[str, str]) -> dict[str, Any]:
    """Everything the page shows for the filter `q` (raises DomainError on a bad one)."""
    assert p.who is not None
    insights, service = InsightsService(p.db), OutcomeService(p.db)
    if not insights.tops(p.who):
        raise Forbidden()
    values, errors = _asked(p, service, q)
    view: dict[str, Any] = {"values": values, "errors": errors, "f": None}
    view["asked"] = {"from": q["from"], "to": q["to"]}  # empty: around the join day
    if errors:
        return view
    place = insights.region_for(p.who, uuid.UUID(values["region"]) if values["region"] else None)
    joined = service.joined_on(place)
    values["region"], (values["from"], values["to"]) = str(place.id), _range(values, joined)
    figures = insights.figures(
        place, month_start(values["from"]), month_start(values["to"]), utcnow()
    )
    indicators = list(service.indicators())
    series = {i.code: service.monthly(i, place, values["from"], values["to"]) for i in indicators}
    chosen = next((i for i in indicators if i.code == values["indicator"]), None)
    _, comparison = service.comparison(chosen, place) if chosen else (None, None)
    view.update(
        f=figures, place=place, joined=joined, indicators=indicators, series=series,
        chosen=chosen, comparison=comparison,
        join_month=_key(joined) if joined else "",
    )  # fmt: skip
    return view


def _name(p: Page, r: Region) -> str:
    return (r.name_en or r.name) if p.locale == "en" else r.name


def _chart(p: Page, view: dict[str, Any]) -> str:
    """The chart's data island: the chosen indicator and the platform's participants."""
    f, chosen = view["f"], view.get("chosen")
    if f is None or chosen is None:
        return "{}"
    months = [m.month for m in f.months]
    values = view["series"][chosen.code]
    name = chosen.name_en if p.locale == "en" else chosen.name
    data = {
        "months": months,
        "indicator": {
            "name": f"{name} ({chosen.unit})",
            "data": [values[m] / 1000 if m in values else None for m in months],
        },
        "platform": {
            "name": p._("Participants"),
            "data": [m.participants if isinstance(m.participants, int) else None for m in f.months],
        },
        "joined": view["join_month"] if view["join_month"] in months else "",
        "joined_label": p._("Joined the scheme"),
    }
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def _render(p: Page, q: dict[str, str], status: int = 200, **extra: Any) -> Response:
    """The page for the filter `q`; a refused filter shows its errors (Forbidden stays 403)."""
    try:
        view = _view(p, q)
    except DomainError as exc:
        if isinstance(exc, Forbidden):
            raise
        view = {"values": q, "errors": FormErrors.of(exc, p.locale), "f": None}
        status = 422
    view.setdefault("asked", {"from": q.get("from", ""), "to": q.get("to", "")})
    for key, empty in (("indicators", []), ("series", {}), ("joined", None), ("join_month", "")):
        view.setdefault(key, empty)
    view.setdefault("chosen", None)
    view.setdefault("comparison", None)
    if view["errors"] and status == 200:
        status = 400
    place = view.get("place")
    _, regions = near(p, str(place.id) if place else view["values"].get("region", ""))
    entry = extra.pop("entry", None) or {"month": _key(add_months(local_date(utcnow()), -1))}
    return p.render(
        "admin/outcomes.html", status, regions=regions, data=_chart(p, view),
        may_enter=may_change(p), entry=entry, entry_errors=extra.pop("entry_errors", FormErrors()),
        import_errors=extra.pop("import_errors", FormErrors()),
        join_errors=extra.pop("join_errors", FormErrors()), saved=extra.pop("saved", ""),
        place_name=_name(p, view["place"]) if view.get("place") else "", **view, **extra,
    )  # fmt: skip


@router.get("/admin/outcomes")
def outcomes(
    p: AdminPage,
    region: str = Q["region"],
    indicator: str = Q["indicator"],
    first: str = Query("", alias="from", max_length=7),
    last: str = Query("", alias="to", max_length=7),
    saved: str = Query("", max_length=40),
) -> Response:
    """Indicator values of a region by month beside the platform's figures."""
    q = {"region": region, "indicator": indicator, "from": first, "to": last}
    return _render(p, q, saved=saved)


def _back(q: dict[str, str], saved: str) -> str:
    keep = "&".join(f"{k}={v}" for k, v in q.items() if v and re.fullmatch(r"[0-9A-Za-z_-]+", v))
    return f"/admin/outcomes?{keep}&saved={saved}"


@router.post("/admin/outcomes")
async def enter(p: StaffPage) -> Response:
    """Enter (or, with a reason, correct) one value: the API's checks and errors."""
    got = await form_data(p.request, FIELDS)
    q = {"region": got["region"][:36], "indicator": got["indicator"][:32], "from": "", "to": ""}
    assert p.who is not None
    try:
        body = OutcomeCreate(
            indicator=got["indicator"], region_id=got["region"], month=got["month"],
            value=_number(got["value"]), source=got["source"], reason=got["reason"] or None,
        )  # fmt: skip
        OutcomeService(p.db).record(p.who, body, utcnow())
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, Forbidden):
            raise
        errors = FormErrors.of(exc, p.locale, labels=_labels(p))
        return _render(p, q, 422, entry=got, entry_errors=errors)
    return p.redirect(_back(q, "value"))


def _number(text: str) -> float | str:
    """The form's number as a float (the schema then checks it), else the text (refused)."""
    try:
        return float(text.strip())
    except ValueError:
        return text or "x"


def _labels(p: Page) -> dict[str, str]:
    return {
        "indicator": p._("Indicator"), "region_id": p._("Region"), "month": p._("Month"),
        "value": p._("Value"), "source": p._("Source"), "reason": p._("Reason for the correction"),
    }  # fmt: skip


@router.post("/admin/outcomes/import")
async def import_values(p: StaffImportPage) -> Response:
    """Import a CSV of values: every line or none, each problem named with its line."""
    form = await p.request.form()
    upload = form.get("file")
    region = form.get("region")
    q = {
        "region": region[:36] if isinstance(region, str) else "",
        "indicator": "",
        "from": "",
        "to": "",
    }
    assert p.who is not None
    limit = int(p.ctx.settings.import_max_bytes)
    data = (
        await upload.read(limit + 1) if isinstance(upload, UploadFile) and upload.filename else b""
    )
    if not data:
        errors = FormErrors([("file", p._("Choose a CSV file"))])
        return _render(p, q, 422, import_errors=errors)
    try:
        created, corrected = OutcomeService(p.db).import_csv(p.who, data, utcnow())
    except DomainError as exc:
        lines = FormErrors.of(exc, p.locale).items
        return _render(p, q, 422, import_errors=FormErrors([("file", m) for _, m in lines]))
    return p.redirect(_back(q, f"import-{created}-{corrected}"))


@router.post("/admin/outcomes/joined")
async def set_joined(p: StaffPage) -> Response:
    """Enter the day the region joined the scheme (its administrators)."""
    got = await form_data(p.request, ("region", "joined_on"))
    q = {"region": got["region"][:36], "indicator": "", "from": "", "to": ""}
    assert p.who is not None
    try:
        body = JoinSet.model_validate({"region_id": got["region"], "joined_on": got["joined_on"]})
        OutcomeService(p.db).set_joined(p.who, body.region_id, body.joined_on)
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, Forbidden):
            raise
        labels = {"joined_on": p._("Joined the scheme on")}
        return _render(p, q, 422, join_errors=FormErrors.of(exc, p.locale, labels=labels))
    return p.redirect(_back(q, "joined"))
