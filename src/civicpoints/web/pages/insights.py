"""The figures dashboard (/admin/insights): a region of the caller's scope and a range of
months; KPI tiles, charts each with its table (the tables work without script), exports.

The numbers are the API's (`InsightsService`, docs/insights.md): counts of people under 10
read "<10", and "x" where a total would give a small one away.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from civicpoints.access import Role
from civicpoints.insights import FiguresRead, InsightsService, as_file, default_range, month_start
from civicpoints.kit.clock import utcnow
from civicpoints.kit.errors import DomainError, Forbidden
from civicpoints.regions import Level, Region
from civicpoints.web.pages.admin import AdminPage, category_label
from civicpoints.web.pages.forms import FormErrors
from civicpoints.web.pages.kit import Page

router = APIRouter(include_in_schema=False)
MONTH = re.compile(r"^20[0-9]{2}-(0[1-9]|1[0-2])$")
INDENT = {Level.CITY: 0, Level.DISTRICT: 1, Level.STREET: 2, Level.COMMUNITY: 3}
RegionQ = Query("", max_length=36)
FromQ = Query("", alias="from", max_length=7)
ToQ = Query("", alias="to", max_length=7)


def _asked(p: Page, region: str, first: str, last: str) -> tuple[dict[str, str], FormErrors]:
    """The form's values, defaults filled in, and what is wrong with them."""
    a, b = default_range(utcnow())
    values = {"region": region, "from": first or a.isoformat()[:7], "to": last or b.isoformat()[:7]}
    problems: list[tuple[str | None, str]] = []
    for name in ("from", "to"):
        if not MONTH.match(values[name]):
            problems.append((name, p._("Enter a month as YYYY-MM")))
    if region and not re.fullmatch(r"[0-9a-fA-F-]{32,36}", region):
        problems.append(("region", p._("Choose a region from the list")))
    return values, FormErrors(problems)


def _figures(p: Page, values: dict[str, str]) -> FiguresRead:
    assert p.who is not None
    service = InsightsService(p.db)
    region_id = uuid.UUID(values["region"]) if values["region"] else None
    place = service.region_for(p.who, region_id)
    first, last = month_start(values["from"]), month_start(values["to"])
    return service.figures(place, first, last, utcnow())


def _name(p: Page, r: Any) -> str:
    return (r.name_en or r.name) if p.locale == "en" else r.name


def region_choices(p: Page, regions: list[Region]) -> list[tuple[str, str]]:
    """The region picker's options: id and name, indented by level (the tree's order)."""
    return [(str(r.id), "\u3000" * INDENT.get(Level(r.level), 0) + _name(p, r)) for r in regions]


def near(p: Page, asked: str, role: str = Role.AUDITOR) -> tuple[Region, list[tuple[str, str]]]:
    """The region asked for (by id; the caller's widest when none, or when it is not one the
    caller may read) and the picker's options around it (`InsightsService.picker`); 403 for
    a caller who may read none."""
    assert p.who is not None
    service = InsightsService(p.db)
    tops = service.tops(p.who, role)
    if not tops:
        raise Forbidden()
    place = tops[0]
    try:
        found = service.readable(p.who, uuid.UUID(asked), role) if asked else None
    except ValueError:  # not an id: the caller's widest, as for none
        found = None
    place = found or place
    return place, region_choices(p, service.picker(p.who, place, role))


def _chart_data(p: Page, f: FiguresRead) -> dict[str, Any]:
    """The figures the charts draw (suppressed counts are gaps: null)."""

    def n(v: Any) -> int | None:
        return v if isinstance(v, int) else None

    months = [m.month for m in f.months]
    return {
        "months": months,
        "participants": {
            p._("Participants"): [n(m.participants) for m in f.months],
            p._("New volunteers"): [n(m.new_volunteers) for m in f.months],
            p._("Returning volunteers"): [n(m.returning_volunteers) for m in f.months],
        },
        "points": {
            p._("Issued"): [m.points.issued for m in f.months],
            p._("Redeemed"): [m.points.redeemed for m in f.months],
            p._("Expired"): [m.points.expired for m in f.months],
        },
        "by_category": [
            {"name": category_label(p, c), "value": v} for c, v in f.totals.by_category.items()
        ],
    }


@router.get("/admin/insights")
def insights(p: AdminPage, region: str = RegionQ, first: str = FromQ, last: str = ToQ) -> Response:
    """A region's figures by month: tiles, charts with their tables, age × sex, exports."""
    values, errors = _asked(p, region, first, last)
    figures: FiguresRead | None = None
    status = 200
    if errors:
        status = 400
    else:
        try:
            figures = _figures(p, values)
        except DomainError as exc:
            if isinstance(exc, Forbidden):
                raise
            errors, status = FormErrors.of(exc, p.locale), 422
    _, regions = near(p, str(figures.region.id) if figures else values["region"])
    data = "{}"
    if figures is not None:
        data = json.dumps(_chart_data(p, figures), ensure_ascii=False).replace("<", "\\u003c")
        values["region"] = str(figures.region.id)
    query = "&".join(f"{k}={v}" for k, v in values.items() if v)
    return p.render(
        "admin/insights.html",
        status,
        f=figures,
        regions=regions,
        values=values,
        errors=errors,
        data=data,
        query=query,
        label=lambda c: category_label(p, c),
        place=_name(p, figures.region) if figures else "",
    )


def _export(p: Page, fmt: str, region: str, first: str, last: str) -> Response:
    values, errors = _asked(p, region, first, last)
    if errors:
        return p.redirect("/admin/insights")
    figures = _figures(p, values)
    body, media, name = as_file(figures, fmt)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return p.finish(Response(body, media_type=media, headers=headers))


@router.get("/admin/insights.csv")
def insights_csv(
    p: AdminPage, region: str = RegionQ, first: str = FromQ, last: str = ToQ
) -> Response:
    """The figures shown as CSV."""
    return _export(p, "csv", region, first, last)


@router.get("/admin/insights.xlsx")
def insights_xlsx(
    p: AdminPage, region: str = RegionQ, first: str = FromQ, last: str = ToQ
) -> Response:
    """The figures shown as XLSX."""
    return _export(p, "xlsx", region, first, last)
