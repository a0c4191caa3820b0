"""The second look at approved records found risky afterwards (`recheck_at`).

A signal can arrive after a record was approved: a device that served three accounts is
shown, by a fourth, to be a farm's, and the earlier records it reported are weighed again
(activities/risk.py, `RecordRisk.spread`). Such a record keeps its points until a reviewer
looks: they either keep it, with a reason (here), or claw it back (`FraudDesk.claw_back`,
which revokes it and so takes it off the list). Never commits.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.activities.errors import ReviewState
from civicpoints.activities.models import Participation, RecordStatus
from civicpoints.activities.repository import ActivityRepository
from civicpoints.activities.reviewing import ReviewDesk
from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.kit.context import Context


def awaits_recheck(record: Participation) -> bool:
    """Approved, found risky afterwards, and not reviewed since."""
    if record.status != RecordStatus.APPROVED or record.recheck_at is None:
        return False
    return record.reviewed_at is None or as_utc(record.reviewed_at) < as_utc(record.recheck_at)


class Rechecks:
    """The recheck list and keeping a record after its second look."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.session, self.ctx = session, ctx
        self.repo = ActivityRepository(session)

    def waiting(self, by: Principal, limit: int, after: uuid.UUID | None) -> list[Participation]:
        """Approved records waiting for `by`'s second look (reviewers and auditors in
        scope), riskiest first, after a keyset cursor."""
        return list(self.repo.awaiting_recheck(limit, after, by))

    def keep(self, participation_id: uuid.UUID, reason: str, by: Principal) -> Participation:
        """A reviewer over the record looked again and found it sound: it keeps its points
        and the reason is kept on it. Out of scope reads as not found."""
        record, _ = ReviewDesk(self.session, self.ctx).scoped(
            participation_id, by, (Role.REVIEWER,)
        )
        record = self.repo.participation(record.id, lock=True) or record
        if not awaits_recheck(record):
            raise ReviewState(status=record.status)
        record.reviewed_by, record.reviewed_at, record.review_reason = by.id, utcnow(), reason
        self.session.flush()
        return record
