"""`python -m bench.dashboard --db NAME [--repeat 9] [--communities N]`: how long the
dashboard's queries take on a generated city (bench/notes.md, "Dashboard at city scale").

For the city, its largest district, a street and a community of that district: each query
`InsightsService.figures` makes (the people counts, the figure sums, what is outstanding, the
residents registered, the live delta) and `figures` whole, over the default range (the last
12 months), `--repeat` times each in one read transaction; prints the median and the slowest.
Run `civicpoints jobs run insights.rollup` (or `insights.tasks.rollup`) more than OVERLAP
after the city was built first, or the live delta reads the whole city.

`--communities N` first copies the city's communities under their streets until there are N,
with their `insights_figure` rows (and what those add to `insights_region_figure`, where the
database has it), in the same transaction, which is rolled back at the end (residents and
memberships are not copied). Either schema: run from main's tree for the old queries."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from bench.city.build import DEFAULT_SERVER, settings_for
from civicpoints.identity import Resident
from civicpoints.insights import InsightsService, Rollup
from civicpoints.insights.repository import InsightsRepository
from civicpoints.insights.service import default_range
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import make_engine, make_session_factory
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


COPIES = """
CREATE TEMP TABLE bench_wide ON COMMIT DROP AS
SELECT c.id AS src, gen_random_uuid() AS id, k, c.code, c.name, c.parent_id,
       substr(c.path, 1, length(c.path) - length(c.code) - 1) || 'w' || k || c.code || '/' AS path
FROM region c, generate_series(1, :copies) k WHERE c.level = 'community';
INSERT INTO region (id, code, name, name_en, level, parent_id, path, created_at)
SELECT id, 'w' || k || code, name || k, '', 'community', parent_id, path, now() FROM bench_wide;
INSERT INTO insights_figure (community_id, month, figure, key, value)
SELECT w.id, f.month, f.figure, f.key, f.value
FROM insights_figure f JOIN bench_wide w ON w.src = f.community_id;
"""
LIFT = """
INSERT INTO insights_region_figure (region_id, month, figure, key, value)
SELECT a.id, f.month, f.figure, f.key, sum(f.value)
FROM insights_figure f JOIN bench_wide w ON w.id = f.community_id
JOIN region a ON w.path LIKE a.path || '%' AND a.level IN ('city', 'district', 'street')
GROUP BY a.id, f.month, f.figure, f.key
ON CONFLICT (region_id, month, figure, key)
DO UPDATE SET value = insights_region_figure.value + excluded.value;
"""


def widen(s: Session, communities: int) -> None:
    """Copy the communities (regions and rollup rows) until there are `communities`."""
    have = int(s.scalar(select(func.count()).where(Region.level == "community")) or 0)
    copies = -(-communities // have) - 1
    for stmt in filter(str.strip, COPIES.split(";")):
        s.execute(text(stmt), {"copies": copies})
    if inspect(s.connection()).has_table("insights_region_figure"):
        s.execute(text(LIFT))
    s.execute(text("ANALYZE region, insights_figure"))
    total = s.scalar(select(func.count()).where(Region.level == "community"))
    print(f"communities: {have} copied {copies} times: {total}")


def queries(s: Session, region: Region, now: datetime) -> dict[str, Callable[[], Any]]:
    """The queries `InsightsService.figures` makes for a region, and `figures` whole, over
    the default range (either schema: the old and the new way of reading the sums)."""
    repo, service = InsightsRepository(s), InsightsService(s)
    first, last = default_range(now)
    a, b = key_of(first), key_of(last)
    out: dict[str, Callable[[], Any]] = {
        "participants": lambda: repo.participants(region, a, b, []),
        "cells": lambda: repo.cells(region, a, b, [], last),
        "figures": lambda: repo.figures(region, a, b),
        "live delta": lambda: Rollup(s).live(now),
        "FIGURES WHOLE": lambda: service.figures(region, first, last, now),
    }
    if hasattr(repo, "upto"):  # points and registrations up to the range's end
        out["upto"] = lambda: repo.upto(region, b)
    else:  # before insights_region_figure
        out["points_upto"] = lambda: getattr(repo, "points_upto")(region, b)  # noqa: B009
        out["registered"] = lambda: getattr(repo, "registered")(region, now)  # noqa: B009
    if hasattr(repo, "people"):  # the people aggregate (cities, districts and streets)
        out["people (aggregate)"] = lambda: repo.people(region.id, a, b)
    return out


def main() -> None:
    """Time every query per scope and print a table."""
    p = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__)
    p.add_argument("--db", required=True)
    p.add_argument("--repeat", type=int, default=9)
    p.add_argument("--communities", type=int, default=0)
    args = p.parse_args()
    url = f"{DEFAULT_SERVER}/{args.db}"
    sessions = make_session_factory(make_engine(settings_for(url, args.db).resolved_database_url()))
    now = utcnow()
    with sessions() as s:
        if args.communities:
            widen(s, args.communities)
        delta = Rollup(s).live(now)
        print(f"live delta: {delta.rows} rows, {len(delta.residents)} residents")
        print(f"{'scope':<10} {'residents':>9}  query: median / slowest ms")
        for level, region, people in scopes(s):
            parts = [
                f"{name} {m:.1f} / {top:.1f}"
                for name, q in queries(s, region, now).items()
                for m, top in [timed(q, args.repeat)]
            ]
            print(f"{level:<10} {people:>9}  " + "; ".join(parts))
        s.rollback()  # nothing is kept (the copies of --communities included)


if __name__ == "__main__":
    main()
