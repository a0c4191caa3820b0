"""HTTP for administrators: scheduled job runs and the alerts among them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from civicpoints.access import Role
from civicpoints.identity.router import StaffCaller
from civicpoints.jobs import JobRun
from civicpoints.kit.errors import Forbidden
from civicpoints.kit.http import DbSession

router = APIRouter(tags=["admin 管理"])


class JobRunRead(BaseModel):
    """One run of a scheduled job."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    started_at: datetime
    finished_at: datetime | None
    ok: bool | None
    alert: bool
    summary: dict[str, Any]


@router.get("/admin/job-runs", response_model=list[JobRunRead])
def job_runs(
    who: StaffCaller,
    db: DbSession,
    alerts_only: bool = False,
    limit: int = Query(50, ge=1, le=500),
) -> list[JobRunRead]:
    """Recent job runs, newest first; `alerts_only` lists failed runs and found faults."""
    if not who.may_citywide(Role.ADMIN):
        raise Forbidden()
    stmt = select(JobRun).order_by(JobRun.started_at.desc()).limit(limit)
    if alerts_only:
        stmt = stmt.where(JobRun.alert.is_(True))
    return [JobRunRead.model_validate(r) for r in db.scalars(stmt)]
