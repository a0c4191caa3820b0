"""All SQL of the privacy use cases."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpoints.privacy.models import ConsentEvent, DeletionRequest, DeletionStatus


class PrivacyRepository:
    """Consent events and deletion requests."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        """Insert a row in the caller's transaction."""
        self.session.add(row)
        self.session.flush()

    def consents(self, resident_id: uuid.UUID) -> Sequence[ConsentEvent]:
        """A resident's consent history, oldest first."""
        stmt = select(ConsentEvent).where(ConsentEvent.resident_id == resident_id)
        return self.session.scalars(stmt.order_by(ConsentEvent.id)).all()

    def pending_of(self, resident_id: uuid.UUID) -> DeletionRequest | None:
        """The resident's pending deletion request, if any."""
        stmt = select(DeletionRequest).where(
            DeletionRequest.resident_id == resident_id,
            DeletionRequest.status == DeletionStatus.PENDING,
        )
        return self.session.scalars(stmt).first()

    def pending(self, due_by: datetime | None, limit: int) -> Sequence[DeletionRequest]:
        """Pending requests (due by `due_by` when given), oldest first, locked when claimed."""
        stmt = select(DeletionRequest).where(DeletionRequest.status == DeletionStatus.PENDING)
        if due_by is not None:
            stmt = stmt.where(DeletionRequest.due_at <= due_by)
        return self.session.scalars(stmt.order_by(DeletionRequest.id).limit(limit)).all()

    def request(self, request_id: uuid.UUID) -> DeletionRequest | None:
        """One deletion request, locked for carrying out."""
        stmt = select(DeletionRequest).where(DeletionRequest.id == request_id)
        return self.session.scalars(stmt.with_for_update()).first()
