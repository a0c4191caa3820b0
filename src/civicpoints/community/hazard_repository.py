"""All SQL of 隐患随手拍. Department scope is applied in the query (access.scope_clause)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role, scope_clause
from civicpoints.community.hazard_models import HazardReport
from civicpoints.regions import org_path_of

# Staff of the department a report was routed to: its reviewers and organizers (and admins).
HANDLERS = (Role.REVIEWER, Role.ORGANIZER)


def _scope(who: Principal) -> ColumnElement[bool]:
    """Reports routed to an organization the caller handles reports for."""
    org = HazardReport.organization_id
    return or_(*(scope_clause(who, role, org_path_of(org), org) for role in HANDLERS))


class HazardRepository:
    """Hazard reports; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, report: HazardReport) -> None:
        """Stage a new report."""
        self.session.add(report)
        self.session.flush()

    def scoped(self, report_id: uuid.UUID, who: Principal, lock: bool) -> HazardReport | None:
        """The report if the caller handles its department (else None, as if absent)."""
        stmt = select(HazardReport).where(HazardReport.id == report_id, _scope(who))
        return self.session.scalars(stmt.with_for_update() if lock else stmt).one_or_none()

    def queue(self, who: Principal, statuses: Sequence[str], limit: int) -> Sequence[HazardReport]:
        """The caller's department's reports in `statuses`, oldest first."""
        stmt = select(HazardReport).where(HazardReport.status.in_(statuses), _scope(who))
        stmt = stmt.order_by(HazardReport.reported_at, HazardReport.id)
        return self.session.scalars(stmt.limit(limit)).all()

    def decided(self, who: Principal, limit: int) -> Sequence[HazardReport]:
        """The caller's department's latest decisions, newest first."""
        stmt = select(HazardReport).where(HazardReport.status != "open", _scope(who))
        stmt = stmt.order_by(HazardReport.decided_at.desc(), HazardReport.id.desc())
        return self.session.scalars(stmt.limit(limit)).all()

    def of_resident(self, resident_id: uuid.UUID, limit: int) -> Sequence[HazardReport]:
        """A resident's own reports, newest first."""
        stmt = select(HazardReport).where(HazardReport.resident_id == resident_id)
        stmt = stmt.order_by(HazardReport.reported_at.desc(), HazardReport.id.desc())
        return self.session.scalars(stmt.limit(limit)).all()

    def around(
        self, category: str, since: datetime, until: datetime, lock: bool = False
    ) -> Sequence[HazardReport]:
        """Open and confirmed reports of a category reported in [since, until] (by id, so
        rows are locked in one order)."""
        stmt = select(HazardReport).where(
            HazardReport.category == category,
            HazardReport.status.in_(("open", "confirmed")),
            HazardReport.reported_at >= since,
            HazardReport.reported_at <= until,
        )
        stmt = stmt.order_by(HazardReport.id)
        if lock:  # and read afresh: a row another decision just changed shows its new state
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return self.session.scalars(stmt).all()
