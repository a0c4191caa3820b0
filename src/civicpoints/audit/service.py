"""Use cases of the audit log: record an act, read the log. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.audit.facts import AuditFacts
from civicpoints.audit.models import AuditEntry
from civicpoints.audit.repository import AuditQuery, AuditRepository
from civicpoints.kit.clock import utcnow
from civicpoints.kit.errors import Forbidden

__all__ = ["AuditEntry", "AuditFacts", "AuditQuery", "AuditService"]


class AuditService:
    """Writes rows in the caller's transaction; reads them for auditors and administrators."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repo = AuditRepository(session)

    def record(self, facts: AuditFacts) -> AuditEntry:
        """Add one row, stamped now (UTC), in the caller's transaction."""
        values = asdict(facts) | {"targets": list(facts.targets)}
        entry = AuditEntry(at=utcnow(), **values)
        self.repo.add(entry)
        return entry

    def page(self, who: Principal, query: AuditQuery, limit: int) -> Sequence[AuditEntry]:
        """A page of the log: city-wide auditors and administrators only."""
        if who.kind != "staff" or not who.may_citywide(Role.AUDITOR):
            raise Forbidden()
        return self.repo.page(query, limit)

    def every_row(self, page: int = 1000) -> Iterator[AuditEntry]:
        """The whole log, newest first, read page by page (the operator's export)."""
        before = None
        while rows := self.repo.page(AuditQuery(before=before), page):
            yield from rows
            before = rows[-1].id

    def about(self, resident_id: uuid.UUID, limit: int = 10_000) -> Sequence[AuditEntry]:
        """Rows about one resident (for their own data export)."""
        return self.repo.page(AuditQuery(subject_id=resident_id), limit)
