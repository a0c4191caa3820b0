"""Run a job and record it; a job that raises or reports faults raises an alert."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from civicpoints.jobs.models import JobRun
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.metrics import JOB_FAILURES, JOB_RUNS

log = logging.getLogger("civicpoints.jobs")
Job = Callable[[sessionmaker[Session]], tuple[bool, dict[str, Any]]]


def run_job(sessions: sessionmaker[Session], name: str, job: Job) -> JobRun:
    """Run `job` (which owns its own transactions) and store the outcome in its own."""
    started = utcnow()
    try:
        ok, summary = job(sessions)
    except Exception as exc:  # recorded as an alert; the scheduler keeps running
        log.exception("job %s failed", name)
        ok, summary = False, {"error": repr(exc), "trace": traceback.format_exc()[-2000:]}
    run = JobRun(
        name=name, started_at=started, finished_at=utcnow(), ok=ok, alert=not ok, summary=summary
    )
    with transaction(sessions) as s:
        s.add(run)
    JOB_RUNS.labels(job=name, outcome="ok" if ok else "failed").inc()
    if not ok:
        JOB_FAILURES.labels(job=name).inc()
        log.error("job %s raised an alert: %s", name, summary)
    return run
