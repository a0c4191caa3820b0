"""The audit table: append-only (database triggers refuse UPDATE and DELETE, migration 0007)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, id_column


class AuditEntry(Base):
    """Who did what, to whose data, when and from where; ids only, never personal data."""

    __tablename__ = "audit_entry"

    id: Mapped[uuid.UUID] = id_column()  # UUIDv7: time-ordered, the paging cursor
    at: Mapped[datetime] = mapped_column(index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(120), index=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(200))  # the route's template: no ids, no codes
    status: Mapped[int] = mapped_column(Integer)
    subject_id: Mapped[uuid.UUID | None] = mapped_column(index=True)  # the resident concerned
    targets: Mapped[list[Any]] = mapped_column(JSON, default=list)
    client: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(120))
