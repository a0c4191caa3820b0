"""All SQL of children, guardian links and the enrolment-year setting; never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role, scope_clause
from civicpoints.identity.education_models import Child, EducationSetting, GuardianLink
from civicpoints.regions import path_of


class GuardianRepository:
    """Children, links and settings."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        """Stage a new row and flush it, so unique violations surface here."""
        self.session.add(row)
        self.session.flush()

    def child_by_bidx(self, id_bidx: str) -> Child | None:
        """A child by the blind index of their ID number."""
        return self.session.scalars(select(Child).where(Child.id_bidx == id_bidx)).one_or_none()

    def child(self, child_id: uuid.UUID) -> Child | None:
        """A child by id."""
        return self.session.get(Child, child_id)

    def link(self, link_id: uuid.UUID, lock: bool = False) -> GuardianLink | None:
        """A link by id (locked for a decision)."""
        stmt = select(GuardianLink).where(GuardianLink.id == link_id)
        return self.session.scalars(stmt.with_for_update() if lock else stmt).one_or_none()

    def link_of(self, guardian_id: uuid.UUID, child_id: uuid.UUID) -> GuardianLink | None:
        """The guardian's link to the child, if any."""
        stmt = select(GuardianLink).where(
            GuardianLink.guardian_id == guardian_id, GuardianLink.child_id == child_id
        )
        return self.session.scalars(stmt).one_or_none()

    def links_of(self, guardian_id: uuid.UUID) -> Sequence[tuple[GuardianLink, Child]]:
        """A guardian's links with their children, oldest first."""
        stmt = (
            select(GuardianLink, Child)
            .join(Child, Child.id == GuardianLink.child_id)
            .where(GuardianLink.guardian_id == guardian_id)
            .order_by(GuardianLink.created_at, GuardianLink.id)
        )
        return [(link, child) for link, child in self.session.execute(stmt).all()]

    def live_guardians(self, child_id: uuid.UUID) -> int:
        """How many guardians are linked to the child or asking to be (not rejected)."""
        stmt = select(func.count()).where(
            GuardianLink.child_id == child_id, GuardianLink.status != "rejected"
        )
        return int(self.session.scalar(stmt) or 0)

    def links_for(
        self, who: Principal, status: str | None, limit: int
    ) -> Sequence[tuple[GuardianLink, Child]]:
        """Links in the regions where `who` holds the education role (in SQL, before the
        LIMIT), oldest first."""
        scope = scope_clause(
            who, Role.EDUCATION, path_of(GuardianLink.community_id), GuardianLink.community_id
        )
        stmt = select(GuardianLink, Child).join(Child, Child.id == GuardianLink.child_id)
        stmt = stmt.where(scope)
        if status is not None:
            stmt = stmt.where(GuardianLink.status == status)
        stmt = stmt.order_by(GuardianLink.created_at, GuardianLink.id).limit(limit)
        return [(link, child) for link, child in self.session.execute(stmt).all()]

    def settings_for(self, region_ids: list[uuid.UUID], on: date) -> Sequence[EducationSetting]:
        """Enrolment-year settings of these regions (or city-wide) in force by `on`."""
        stmt = select(EducationSetting).where(
            EducationSetting.effective_from <= on,
            (EducationSetting.region_id.in_(region_ids)) | (EducationSetting.region_id.is_(None)),
        )
        return self.session.scalars(stmt).all()
