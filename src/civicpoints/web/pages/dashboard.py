"""The administrators' overview (/admin): points, hours and participations by month and place.

The numbers come from the domains' own queries (ledger flows, hours register, activities);
the page carries them twice: as a JSON data island that `static/js/admin.js` draws with
ECharts, and as plain tables under the charts for screen readers and browsers without script.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from civicpoints.access import Role
from civicpoints.activities import ActivityService
from civicpoints.hours import HoursService
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.errors import Forbidden
from civicpoints.kit.months import bounds, recent_months
from civicpoints.ledger import LedgerService, MonthFlows
from civicpoints.web.pages.admin import AdminPage, category_label
from civicpoints.web.pages.kit import Page

router = APIRouter(include_in_schema=False)
MONTHS = 12


@dataclass(frozen=True)
class Dashboard:
    """The overview's figures: the last twelve Beijing months, this one included."""

    points: list[MonthFlows]
    hours: list[tuple[str, float]]
    by_category: list[tuple[str, int]]
    by_street: list[tuple[str, int]]

    def as_json(self, p: Page) -> dict[str, Any]:
        """The figures with their series names in the page's language (for the charts)."""
        return {
            "months": [m.month for m in self.points],
            "points": {
                p._("Issued"): [m.issued for m in self.points],
                p._("Redeemed"): [m.redeemed for m in self.points],
                p._("Expired"): [m.expired for m in self.points],
                p._("Outstanding"): [m.outstanding for m in self.points],
            },
            "hours": {"name": p._("Service hours"), "values": [h for _, h in self.hours]},
            "by_category": [{"name": n, "value": v} for n, v in self.by_category],
            "by_street": {
                "name": p._("Participations"),
                "labels": [n for n, _ in self.by_street],
                "values": [v for _, v in self.by_street],
            },
        }


def dashboard(p: Page) -> Dashboard:
    """The figures, read from the ledger, the hours register and the activities."""
    if p.who is None or not p.who.may_citywide(Role.AUDITOR):
        raise Forbidden()  # city-wide figures: city-wide administrators and auditors
    months = recent_months(local_date(utcnow()), MONTHS)
    since, until = bounds(months[0])[0], bounds(months[-1])[1]
    activities = ActivityService(p.db)
    minutes = HoursService(p.db).minutes_by_month(months)
    names = {True: "name_en", False: "name"}[p.locale == "en"]
    return Dashboard(
        points=LedgerService(p.db).flows_by_month(months),
        hours=[(k, round(v / 60, 1)) for k, v in minutes.items()],
        by_category=sorted(
            (
                (category_label(p, c), n)
                for c, n in activities.counts_by_category(since, until).items()
            ),
            key=lambda x: -x[1],
        ),
        by_street=[
            (getattr(r, names) or r.name, n) for r, n in activities.counts_by_street(since, until)
        ],
    )


@router.get("/admin")
def overview(p: AdminPage) -> Response:
    """Charts of points, hours and participations, each with its table."""
    figures = dashboard(p)
    data = json.dumps(figures.as_json(p), ensure_ascii=False).replace("<", "\\u003c")
    return p.render("admin/home.html", figures=figures, data=data)


@router.get("/admin/dashboard.json")
def overview_json(p: AdminPage) -> Response:
    """The same figures as JSON."""
    return p.finish(JSONResponse(dashboard(p).as_json(p)))
