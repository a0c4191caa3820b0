"""How long one policy simulation (政策模拟) takes on a loaded demo city.

    CIVICPOINTS_DATABASE_URL=postgresql://…/db .venv/bin/civicpoints db upgrade
    CIVICPOINTS_DATABASE_URL=… .venv/bin/civicpoints demo            # 3,000 residents
    CIVICPOINTS_DATABASE_URL=… .venv/bin/python -m bench.simulator [runs]

Runs the service as the city administrator (the whole city) and as the first street's
administrator scope, with no change, a higher cap, and every kind of change at once; prints
the median and the slowest of `runs` (default 7) and what was replayed. Reads only.
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from typing import Any

from sqlalchemy import select

from civicpoints.access import Grant, Principal, Role
from civicpoints.insights import SimulationCreate, Simulator
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import make_engine, make_session_factory, transaction
from civicpoints.kit.settings import Settings
from civicpoints.regions import Level, Region


def _admin(region: Region) -> Principal:
    grant = Grant(role=Role.ADMIN, region_path=region.path, organization_id=None)
    return Principal(kind="staff", id=uuid.uuid4(), name="bench", grants=(grant,))


def main(runs: int = 7) -> None:
    sessions = make_session_factory(make_engine(Settings().resolved_database_url()))
    with transaction(sessions) as s:
        regions = list(s.scalars(select(Region).order_by(Region.path)))
    city = next(r for r in regions if r.level == Level.CITY)
    street = next(r for r in regions if r.level == Level.STREET)
    cases: list[tuple[str, Region, dict[str, Any]]] = [
        ("city, no change", city, {}),
        ("city, cap 800", city, {"monthly_cap": 800}),
        ("city, every kind", city, {
            "rates": {"volunteer_service": 12, "high_risk": 25},
            "monthly_cap": 800,
            "expiry_months": 6,
            "weights": [{"region_id": str(r.id), "percent": 120}
                        for r in regions if r.parent_id == city.id][:3],
        }),
        ("street, cap 800", street, {"monthly_cap": 800}),
    ]  # fmt: skip
    for name, region, body in cases:
        who, took = _admin(region), []
        for _ in range(runs):
            with transaction(sessions) as s:
                started = time.perf_counter()
                result = Simulator(s).simulate(who, SimulationCreate(**body), utcnow())
                took.append((time.perf_counter() - started) * 1000)
                s.rollback()
        issued = result.figures[0]
        print(
            f"{name:18} median {statistics.median(took):7.1f} ms  max {max(took):7.1f} ms  "
            f"decisions {result.decisions:6}  reproduced {result.reproduced:6}  "
            f"points {issued.current} → {issued.proposed}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
