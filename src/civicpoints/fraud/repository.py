"""Every SQL statement of the fraud domain's policies and reported positions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from civicpoints.fraud.models import Observation, PhotoHash, PolicyRow


class FraudRepository:
    """Reads and writes of policies and observations; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        """Stage a new row and flush it."""
        self.session.add(row)
        self.session.flush()

    def policies_for(self, region_ids: Sequence[uuid.UUID], on: date) -> Sequence[PolicyRow]:
        """Policies in force on `on` for any of `region_ids` or city-wide."""
        stmt = select(PolicyRow).where(
            PolicyRow.effective_from <= on,
            or_(PolicyRow.region_id.in_(region_ids), PolicyRow.region_id.is_(None)),
        )
        return self.session.scalars(stmt).all()

    def policies(self) -> Sequence[PolicyRow]:
        """Every policy version, newest first."""
        stmt = select(PolicyRow).order_by(PolicyRow.effective_from.desc(), PolicyRow.id.desc())
        return self.session.scalars(stmt).all()

    def last_observation(self, resident_id: uuid.UUID, before: datetime) -> Observation | None:
        """The resident's latest reported position at or before `before`."""
        stmt = (
            select(Observation)
            .where(Observation.resident_id == resident_id, Observation.at <= before)
            .order_by(Observation.at.desc(), Observation.id.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def residents_at_spot(self, spot: str, resident_id: uuid.UUID) -> int:
        """How many residents other than `resident_id` reported the very same position."""
        stmt = select(func.count(func.distinct(Observation.resident_id))).where(
            Observation.spot == spot, Observation.resident_id != resident_id
        )
        return int(self.session.scalar(stmt) or 0)

    def accounts_on_device(self, device: str, resident_id: uuid.UUID) -> int:
        """How many residents other than `resident_id` reported positions from one device."""
        stmt = select(func.count(func.distinct(Observation.resident_id))).where(
            Observation.device == device, Observation.resident_id != resident_id
        )
        return int(self.session.scalar(stmt) or 0)

    def records_on_device(self, device: str, excluding: uuid.UUID) -> list[uuid.UUID]:
        """Every record but `excluding` with a position reported from one device, by id."""
        stmt = (
            select(Observation.participation_id)
            .where(Observation.device == device, Observation.participation_id != excluding)
            .distinct()
            .order_by(Observation.participation_id)
        )
        return list(self.session.scalars(stmt).all())

    def photo_hashes(self, participation_id: uuid.UUID) -> Sequence[PhotoHash]:
        """The stored hashes of a record's photos."""
        stmt = select(PhotoHash).where(PhotoHash.participation_id == participation_id)
        return self.session.scalars(stmt).all()

    def positions(self, participation_id: uuid.UUID) -> Sequence[Observation]:
        """The positions reported for a record, in order."""
        stmt = select(Observation).where(Observation.participation_id == participation_id)
        return self.session.scalars(stmt.order_by(Observation.at, Observation.id)).all()
