"""Prometheus counters of this process, counted only once the work's transaction commits.

Counters here are per process (each uvicorn worker and each CLI run counts its own, from zero
at start); Prometheus sums them across a deployment's targets. Figures that must be right
whatever process asks (backlogs, lag, the last verification, the budget) are read from the
database at scrape time instead (`web/ops.py`). docs/operations.md lists every series.

A use case calls `count_on_commit(session, counter, labels)`: the increment waits in the
session until its transaction commits and is dropped when it rolls back, so a refused
redemption or a retried award is never counted.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)
from sqlalchemy import event
from sqlalchemy.orm import Session

disable_created_metrics()  # no `_created` twin of each counter: see process_start_time
# Every series of the app lives in this registry, not the library's global one: tests and
# several apps in one process read one set of figures, and nothing else registers into it.
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)  # process_start_time_seconds, memory, CPU (Linux)

REQUESTS = Counter(
    "civicpoints_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "civicpoints_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
ADMISSION_WAIT = Histogram(
    "civicpoints_http_admission_wait_seconds",
    "Time a request waited for its turn in this process (web/admission.py) before it ran or "
    "was answered 503.",
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
AWARDS = Counter(
    "civicpoints_awards",
    "Awards of points committed (replayed retries not counted).",
    registry=REGISTRY,
)
AWARD_POINTS = Counter(
    "civicpoints_award_points",
    "Points awarded in committed awards.",
    registry=REGISTRY,
)
REDEMPTIONS = Counter(
    "civicpoints_redemptions",
    "Redemptions committed, by fulfilment (voucher or application).",
    ["fulfilment"],
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "civicpoints_job_runs",
    "Scheduled job runs in this process, by job and outcome (ok or failed).",
    ["job", "outcome"],
    registry=REGISTRY,
)
JOB_FAILURES = Counter(
    "civicpoints_job_failures",
    "Scheduled job runs in this process that failed or raised an alert, by job.",
    ["job"],
    registry=REGISTRY,
)

_PENDING = "civicpoints.metrics.pending"


def count_on_commit(session: Session, increment: Callable[[], None]) -> None:
    """Run `increment` once the session's transaction commits (never if it rolls back)."""
    session.info.setdefault(_PENDING, []).append(increment)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    for increment in session.info.pop(_PENDING, []):
        increment()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
