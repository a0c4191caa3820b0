"""Property: whatever events arrive between runs (service recorded and paid, clawed back,
restored, points expiring; served in this month or earlier ones), the figures with the live
delta, the figures after a run, and the tables after a run all equal a full rebuild."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.hours import HoursService
from civicpoints.identity.models import Resident
from civicpoints.insights import Rollup
from civicpoints.kit.clock import local_date, start_of_local_day, utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.months import recent_months
from civicpoints.ledger import LedgerService, Movement, wallet_of

from .test_insights import figures, run, tables

serve = st.tuples(st.just("serve"), st.integers(0, 2), st.integers(0, 70), st.integers(30, 240))
fix = st.tuples(st.sampled_from(["claw", "restore"]), st.integers(0, 30))
ops = st.lists(
    st.one_of(serve, fix, st.just(("expire",)), st.just(("run",))), min_size=1, max_size=12
)


def _serve(s: Session, resident: Resident, days_ago: int, minutes: int, n: int) -> uuid.UUID:
    """A participation served `days_ago`: its hours, and its points (10 an hour)."""
    served = local_date(utcnow()) - timedelta(days=days_ago)
    record = uuid.uuid4()
    HoursService(s).record(resident.id, record, "volunteer_service", minutes, served)
    at = start_of_local_day(served) + timedelta(hours=10)
    move = Movement("award", minutes // 6, "test", "服务 / service", "t", at, f"p:{record}")
    LedgerService(s).credit(wallet_of(resident.id), move, at + timedelta(days=365))
    return record


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=ops)
def test_any_events_between_runs_equal_a_rebuild(
    sessions: sessionmaker[Session],
    city: City,
    make_resident: Callable[..., Resident],
    fund: Callable[..., None],
    steps: list[tuple[Any, ...]],
) -> None:
    people = [make_resident(name) for name in ("张秀英", "李建国", "王芳")]
    records: list[uuid.UUID] = []
    for op in steps:
        if op[0] == "run":
            run(sessions)
        elif op[0] == "serve":
            with transaction(sessions) as s:
                records.append(_serve(s, people[op[1]], op[2], op[3], len(records)))
        elif op[0] == "expire":
            fund(people[0].id, 7, days=-1)
            with transaction(sessions) as s:
                LedgerService(s).expire_due(utcnow(), batch=100)
        elif records:
            record = records[op[1] % len(records)]
            with transaction(sessions) as s:
                hours = HoursService(s)
                (hours.correct if op[0] == "claw" else hours.uncorrect)(record, "核查", "t")
    live = figures(sessions, city)
    run(sessions)
    incremental, after_run = tables(sessions), figures(sessions, city)
    with transaction(sessions) as s:
        Rollup(s).rebuild(utcnow())
    assert tables(sessions) == incremental
    assert figures(sessions, city) == after_run == live
    months = recent_months(local_date(utcnow()), 2)  # the oracle: the domains' own sums
    with transaction(sessions) as s:
        flows = LedgerService(s).flows_by_month(months)
        minutes = HoursService(s).minutes_by_month(months)
    got = {m["month"]: m for m in live["months"]}
    for f in flows:
        p = got[f.month]["points"]
        assert (p["issued"], p["expired"], p["clawed_back"]) == (f.issued, f.expired, f.clawed_back)
        assert got[f.month]["hours"] == round(minutes[f.month] / 60, 1)
    assert live["totals"]["outstanding"] == flows[-1].outstanding
