"""HTTP for administrators: scheduled job runs and the alerts among them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from civicpoints.identity.router import StaffCaller
from civicpoints.jobs import recent_runs
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
    return [JobRunRead.model_validate(r) for r in recent_runs(db, who, alerts_only, limit)]
