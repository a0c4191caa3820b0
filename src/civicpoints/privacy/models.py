"""Consent history (append-only, migration 0007) and deletion requests."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, created_at_column, id_column


class ConsentEvent(Base):
    """Consent given or withdrawn, with the notice version; never changed afterwards."""

    __tablename__ = "privacy_consent_event"

    id: Mapped[uuid.UUID] = id_column()
    resident_id: Mapped[uuid.UUID] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(16))  # "given" | "withdrawn"
    version: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = created_at_column()


class DeletionStatus(StrEnum):
    """Where a deletion request stands."""

    PENDING = "pending"
    DONE = "done"


class DeletionRequest(Base):
    """A resident's request to erase their personal data, due after the retention period."""

    __tablename__ = "privacy_deletion_request"

    id: Mapped[uuid.UUID] = id_column()
    resident_id: Mapped[uuid.UUID] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), default=DeletionStatus.PENDING)
    requested_at: Mapped[datetime] = created_at_column()
    due_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(80))  # an actor key: ids only
