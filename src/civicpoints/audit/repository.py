"""All SQL of the audit log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from civicpoints.audit.models import AuditEntry


@dataclass(frozen=True)
class AuditQuery:
    """Filters of an audit read; None means any."""

    actor_id: uuid.UUID | None = None
    action: str | None = None
    subject_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: uuid.UUID | None = None  # the cursor: the last id of the previous page


class AuditRepository:
    """Adds rows (never changes them) and reads pages newest first."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, entry: AuditEntry) -> None:
        """Insert one row in the caller's transaction."""
        self.session.add(entry)
        self.session.flush()

    def page(self, q: AuditQuery, limit: int) -> Sequence[AuditEntry]:
        """Rows matching every filter, newest first, at most `limit`."""
        stmt = _filtered(select(AuditEntry), q).order_by(AuditEntry.id.desc()).limit(limit)
        return list(self.session.scalars(stmt))


def _filtered(stmt: Select[tuple[AuditEntry]], q: AuditQuery) -> Select[tuple[AuditEntry]]:
    """The WHERE clause of a query: filters go to SQL so pages are complete."""
    if q.actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == q.actor_id)
    if q.action is not None:
        stmt = stmt.where(AuditEntry.action == q.action)
    if q.subject_id is not None:
        stmt = stmt.where(AuditEntry.subject_id == q.subject_id)
    if q.since is not None:
        stmt = stmt.where(AuditEntry.at >= q.since)
    if q.until is not None:
        stmt = stmt.where(AuditEntry.at < q.until)
    if q.before is not None:
        stmt = stmt.where(AuditEntry.id < q.before)
    return stmt
