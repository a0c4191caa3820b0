"""The record of every scheduled job run; failed runs are the admins' alerts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, id_column


class JobRun(Base):
    """One run of a job (`domain.verb`): when, whether it succeeded, what it found."""

    __tablename__ = "jobs_run"
    # A scheduled run's period (slot) is recorded once, whichever process gets there first.
    __table_args__ = (UniqueConstraint("name", "slot", name="uq_jobs_run_name_slot"),)

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    ok: Mapped[bool | None]
    # An alert for the administrators: a failed run, or a check that found faults.
    alert: Mapped[bool] = mapped_column(default=False, index=True)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The period a scheduled run is for (e.g. "2026-12-07" for a daily job); None by hand.
    slot: Mapped[str | None] = mapped_column(String(32))
    # Which process ran it: "host:pid".
    runner: Mapped[str | None] = mapped_column(String(128))
