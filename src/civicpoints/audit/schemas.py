"""Pydantic shapes of the audit API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditRead(BaseModel):
    """One audit row as auditors see it: ids, route names, outcome, origin."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    at: datetime
    actor_kind: str
    actor_id: uuid.UUID | None
    action: str
    method: str
    path: str
    status: int
    subject_id: uuid.UUID | None
    targets: list[Any]
    client: str
    user_agent: str


class AuditPage(BaseModel):
    """A page of the log, newest first; pass `next_cursor` as `cursor` for the next one."""

    items: list[AuditRead]
    next_cursor: uuid.UUID | None
