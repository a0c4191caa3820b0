"""All SQL of the hours domain's star policies and certificates."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from civicpoints.hours.models import Certificate, HoursCorrection, HoursEntry, StarPolicyRow
from civicpoints.ledger import SigningKey


class HoursRepository:
    """Star-policy versions, certificates and the register's rows; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def star_policies_for(
        self, region_ids: Sequence[uuid.UUID], on: date
    ) -> Sequence[StarPolicyRow]:
        """Versions of the regions (and city-wide ones) already in force on `on`."""
        stmt = select(StarPolicyRow).where(
            or_(StarPolicyRow.region_id.in_(region_ids), StarPolicyRow.region_id.is_(None)),
            StarPolicyRow.effective_from <= on,
        )
        return self.session.scalars(stmt).all()

    def star_policies(self) -> Sequence[StarPolicyRow]:
        """Every version, newest first."""
        stmt = select(StarPolicyRow).order_by(StarPolicyRow.created_at.desc())
        return self.session.scalars(stmt).all()

    def minutes_of(
        self, resident_id: uuid.UUID, participation_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        """Net minutes (entries plus corrections) of the resident's own participations."""
        found: dict[uuid.UUID, int] = {}
        for table in (HoursEntry, HoursCorrection):
            stmt = (
                select(table.participation_id, func.sum(table.minutes))
                .where(
                    table.resident_id == resident_id,
                    table.participation_id.in_(participation_ids),
                )
                .group_by(table.participation_id)
            )
            for pid, minutes in self.session.execute(stmt).all():
                if table is HoursEntry or pid in found:
                    found[pid] = found.get(pid, 0) + int(minutes or 0)
        return found

    def certificate(self, number: str) -> Certificate | None:
        """A certificate by its number."""
        stmt = select(Certificate).where(Certificate.number == number)
        return self.session.scalars(stmt).one_or_none()

    def certificates_of(self, resident_id: uuid.UUID) -> Sequence[Certificate]:
        """A resident's certificates, newest first."""
        stmt = (
            select(Certificate)
            .where(Certificate.resident_id == resident_id)
            .order_by(Certificate.created_at.desc())
        )
        return self.session.scalars(stmt).all()

    def certificates_by(self, organization_ids: Sequence[uuid.UUID]) -> Sequence[Certificate]:
        """Certificates issued in the name of these organizations, newest first (at most 50)."""
        stmt = (
            select(Certificate)
            .where(Certificate.organization_id.in_(organization_ids))
            .order_by(Certificate.created_at.desc())
            .limit(50)
        )
        return self.session.scalars(stmt).all()

    def vkeys(self) -> Sequence[str]:
        """Every checkpoint key of the log (vkey text; never a witness's): a rotated key still
        verifies the certificates it signed."""
        stmt = select(SigningKey.vkey).where(SigningKey.role == "log")
        return self.session.scalars(stmt).all()

    def add(self, row: object) -> None:
        """Stage a new row."""
        self.session.add(row)
        self.session.flush()
