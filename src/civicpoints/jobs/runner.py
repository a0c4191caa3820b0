"""Run a job and record it; a job that raises or reports faults raises an alert."""

from __future__ import annotations

import logging
import os
import socket
import traceback
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.jobs.models import JobRun
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.metrics import JOB_FAILURES, JOB_RUNS

log = logging.getLogger("civicpoints.jobs")
Job = Callable[[sessionmaker[Session]], tuple[bool, dict[str, Any]]]


def runner_name() -> str:
    """This process, as job runs name it: host:pid."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}"


def run_job(sessions: sessionmaker[Session], name: str, job: Job) -> JobRun:
    """Run `job` (which owns its own transactions) and store the outcome in its own."""
    run = JobRun(name=name, started_at=utcnow(), runner=runner_name(), summary={})
    _run(sessions, run, job)
    with transaction(sessions) as s:
        s.add(run)
    return run


def run_scheduled(sessions: sessionmaker[Session], name: str, job: Job, slot: str) -> JobRun | None:
    """Run `job` for its period `slot` unless some process, on any host, already has.

    The run is claimed first: its row (name, slot) is committed before the job starts, and
    the unique index lets one claim in; the others get None and run nothing.
    """
    run = JobRun(name=name, started_at=utcnow(), slot=slot, runner=runner_name(), summary={})
    try:
        with transaction(sessions) as s:
            s.add(run)
    except IntegrityError:
        log.info("job %s for %s already claimed by another process", name, slot)
        return None
    _run(sessions, run, job)
    with transaction(sessions) as s:
        s.merge(run)
    return run


def _run(sessions: sessionmaker[Session], run: JobRun, job: Job) -> None:
    """Call the job and write its outcome on `run` (not stored here)."""
    try:
        ok, summary = job(sessions)
    except Exception as exc:  # recorded as an alert; the scheduler keeps running
        log.exception("job %s failed", run.name)
        ok, summary = False, {"error": repr(exc), "trace": traceback.format_exc()[-2000:]}
    run.finished_at, run.ok, run.alert, run.summary = utcnow(), ok, not ok, summary
    JOB_RUNS.labels(job=run.name, outcome="ok" if ok else "failed").inc()
    if not ok:
        JOB_FAILURES.labels(job=run.name).inc()
        log.error("job %s raised an alert: %s", run.name, summary)
