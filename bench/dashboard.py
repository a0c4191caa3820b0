"""`python -m bench.dashboard --db NAME [--repeat 9]`: how long the dashboard's queries take
on a generated city (bench/notes.md, "Dashboard at city scale").

For the city, its largest district, a street and a community of that district: each query
`InsightsService.figures` makes (the people counts, the figure sums, what is outstanding, the
residents registered, the live delta) and `figures` whole, over the default range (the last
12 months), `--repeat` times each in one read transaction; prints the median and the slowest.
Run `civicpoints jobs run insights.rollup` (or `insights.tasks.rollup`) more than OVERLAP
after the city was built first, or the live delta reads the whole city."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.city.build import DEFAULT_SERVER, settings_for
from civicpoints.identity import Resident
from civicpoints.insights import InsightsService, Rollup
from civicpoints.insights.repository import InsightsRepository
from civicpoints.insights.service import default_range, months_of
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import make_engine, make_session_factory, transaction
from civicpoints.kit.months import key_of
from civicpoints.regions import Region


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median and slowest milliseconds of `repeat` calls."""
    ms = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ms.append(1000 * (time.perf_counter() - t))
    return statistics.median(ms), max(ms)


def scopes(s: Session) -> list[tuple[str, Region, int]]:
    """The city, its district with the most residents, a street and a community in it."""

    def residents(region: Region) -> int:
        inside = select(Region.id).where(Region.path.startswith(region.path))
        stmt = select(func.count()).where(Resident.community_id.in_(inside))
        return int(s.scalar(stmt) or 0)

    def below(region: Region) -> Region:
        stmt = select(Region).where(Region.parent_id == region.id).order_by(Region.path)
        kids = list(s.scalars(stmt))
        return max(kids, key=residents)

    city = s.scalars(select(Region).where(Region.parent_id.is_(None))).one()
    district = below(city)
    street = below(district)
    community = below(street)
    return [(r.level, r, residents(r)) for r in (city, district, street, community)]


def main() -> None:
    """Time every query per scope and print a table."""
    p = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__)
    p.add_argument("--db", required=True)
    p.add_argument("--repeat", type=int, default=9)
    args = p.parse_args()
    url = f"{DEFAULT_SERVER}/{args.db}"
    sessions = make_session_factory(make_engine(settings_for(url, args.db).resolved_database_url()))
    now = utcnow()
    first, last = default_range(now)
    months = [key_of(m) for m in months_of(first, last)]
    on = last
    with transaction(sessions) as s:
        repo, service = InsightsRepository(s), InsightsService(s)
        delta = Rollup(s).live(now)
        print(f"live delta: {delta.rows} rows, {len(delta.residents)} residents")
        print(f"{'scope':<10} {'residents':>9}  query: median / slowest ms")
        for level, region, people in scopes(s):
            a, b = months[0], months[-1]
            queries: dict[str, Callable[[], Any]] = {
                "participants": lambda: repo.participants(region, a, b, []),
                "cells": lambda: repo.cells(region, a, b, [], on),
                "figures": lambda: repo.figures(region, a, b),
                "points_upto": lambda: repo.points_upto(region, b),
                "registered": lambda: repo.registered(region, now),
                "live delta": lambda: Rollup(s).live(now),
                "FIGURES WHOLE": lambda: service.figures(region, first, last, now),
            }
            if hasattr(repo, "people"):  # the people aggregate (cities and districts)
                queries["people (aggregate)"] = lambda: repo.people(region.id, a, b)
            parts = [
                f"{name} {m:.1f} / {top:.1f}"
                for name, (m, top) in ((n, timed(q, args.repeat)) for n, q in queries.items())
            ]
            print(f"{level:<10} {people:>9}  " + "; ".join(parts))


if __name__ == "__main__":
    main()
