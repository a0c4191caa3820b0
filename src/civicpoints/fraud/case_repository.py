"""Every SQL statement about cases and appeals; access limits in the WHERE clause."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role, scope_clause
from civicpoints.fraud.models import Appeal, AppealDecision, Case
from civicpoints.regions import path_of


def _withdrawn() -> ColumnElement[bool]:
    """A case withdrawn by an upheld appeal."""
    return exists(
        select(Appeal.id)
        .join(AppealDecision, AppealDecision.appeal_id == Appeal.id)
        .where(Appeal.case_id == Case.id, AppealDecision.upheld.is_(True))
    )


class CaseRepository:
    """Reads and writes of cases, appeals and their decisions; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        """Stage a new row and flush it."""
        self.session.add(row)
        self.session.flush()

    def case(self, case_id: uuid.UUID) -> Case | None:
        """One case."""
        return self.session.get(Case, case_id)

    def case_of(self, participation_id: uuid.UUID) -> Case | None:
        """The case about a record, if any."""
        stmt = select(Case).where(Case.participation_id == participation_id)
        return self.session.scalars(stmt).one_or_none()

    def standing_since(self, resident_id: uuid.UUID, since: datetime) -> int:
        """How many of the resident's cases decided since `since` no appeal withdrew."""
        stmt = select(Case.id).where(
            Case.resident_id == resident_id, Case.decided_at >= since, ~_withdrawn()
        )
        return len(self.session.scalars(stmt).all())

    def suspensions(self, resident_id: uuid.UUID, now: datetime) -> Sequence[Case]:
        """The resident's standing cases whose suspension lasts beyond `now`, longest first."""
        stmt = select(Case).where(
            Case.resident_id == resident_id, Case.suspended_until > now, ~_withdrawn()
        )
        return self.session.scalars(stmt.order_by(Case.suspended_until.desc())).all()

    def of_resident(self, resident_id: uuid.UUID) -> Sequence[Case]:
        """A resident's cases, newest first."""
        stmt = select(Case).where(Case.resident_id == resident_id)
        return self.session.scalars(stmt.order_by(Case.decided_at.desc(), Case.id)).all()

    def appeal_of(self, case_id: uuid.UUID) -> Appeal | None:
        """The appeal filed against a case, if any."""
        return self.session.scalars(select(Appeal).where(Appeal.case_id == case_id)).one_or_none()

    def appeal(self, appeal_id: uuid.UUID, lock: bool = False) -> Appeal | None:
        """One appeal (locked until the transaction ends, to decide it once)."""
        stmt = select(Appeal).where(Appeal.id == appeal_id)
        return self.session.scalars(stmt.with_for_update() if lock else stmt).one_or_none()

    def decision(self, appeal_id: uuid.UUID) -> AppealDecision | None:
        """The decision on an appeal, if made."""
        return self.session.get(AppealDecision, appeal_id)

    def open_appeals(self, who: Principal, limit: int) -> Sequence[tuple[Appeal, Case]]:
        """Undecided appeals `who` may decide (reviewer scope in SQL; never their own case),
        oldest first."""
        mine = scope_clause(who, Role.REVIEWER, path_of(Case.region_id), Case.organization_id)
        undecided = ~exists(
            select(AppealDecision.appeal_id).where(AppealDecision.appeal_id == Appeal.id)
        )
        stmt = (
            select(Appeal, Case)
            .join(Case, Case.id == Appeal.case_id)
            .where(mine, undecided, Case.decided_by != who.id)
            .order_by(Appeal.filed_at, Appeal.id)
            .limit(limit)
        )
        return [(a, c) for a, c in self.session.execute(stmt).all()]

    def credit_records(self, since: datetime, until: datetime) -> Sequence[Case]:
        """Standing cases reported to the credit record, decided in [since, until)."""
        stmt = select(Case).where(
            Case.credit_record.is_(True),
            Case.decided_at >= since,
            Case.decided_at < until,
            ~_withdrawn(),
        )
        return self.session.scalars(stmt.order_by(Case.decided_at, Case.id)).all()

    def scoped_cases(self, who: Principal, role: str, limit: int) -> Sequence[Case]:
        """Cases in `who`'s scope for `role`, newest first."""
        mine = scope_clause(who, role, path_of(Case.region_id), Case.organization_id)
        stmt = select(Case).where(or_(mine)).order_by(Case.decided_at.desc(), Case.id)
        return self.session.scalars(stmt.limit(limit)).all()
