"""Reading the record of job runs: the administrators' list and the latest run of a job."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.jobs.models import JobRun
from civicpoints.kit.errors import Forbidden


def recent_runs(
    session: Session, who: Principal, alerts_only: bool = False, limit: int = 50
) -> Sequence[JobRun]:
    """Recent runs, newest first (city-wide administrators); `alerts_only`: the alerts."""
    if not who.may_citywide(Role.ADMIN):
        raise Forbidden()
    stmt = select(JobRun).order_by(JobRun.started_at.desc()).limit(limit)
    if alerts_only:
        stmt = stmt.where(JobRun.alert.is_(True))
    return session.scalars(stmt).all()


def last_run(session: Session, name: str) -> JobRun | None:
    """The newest run of the job `name` (e.g. `ledger.verify`), if it ever ran."""
    stmt = select(JobRun).where(JobRun.name == name).order_by(JobRun.started_at.desc())
    return session.scalars(stmt.limit(1)).first()
