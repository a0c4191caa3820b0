"""All SQL of outcome indicators. Region scope is applied in the query (the subtree's path
prefix), so a scoped list is complete before its LIMIT."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicpoints.insights.outcome_models import Indicator, OutcomeRevision, OutcomeValue, RegionJoin
from civicpoints.regions import Organization, Region


class OutcomeRepository:
    """Indicators, values, revisions and join dates; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def indicator(self, code: str) -> Indicator | None:
        """The indicator with this code."""
        return self.session.scalars(select(Indicator).where(Indicator.code == code)).one_or_none()

    def indicators(self) -> Sequence[Indicator]:
        """Every indicator, by code (a short catalog)."""
        return self.session.scalars(select(Indicator).order_by(Indicator.code).limit(200)).all()

    def add(self, row: Indicator | OutcomeValue | OutcomeRevision | RegionJoin) -> None:
        """Stage a new row."""
        self.session.add(row)
        self.session.flush()

    def add_cell(self, row: OutcomeValue) -> bool:
        """Stage a new cell in a savepoint; False when another transaction just wrote it."""
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return False
        return True

    def department_paths(self, org_ids: Iterable[uuid.UUID], department: str) -> list[str]:
        """Region paths of the given organizations that belong to `department`."""
        stmt = (
            select(Region.path)
            .join(Organization, Organization.region_id == Region.id)
            .where(Organization.id.in_(list(org_ids)), Organization.department == department)
        )
        return list(self.session.scalars(stmt).all())

    def cell(
        self, indicator_id: uuid.UUID, region_id: uuid.UUID, month: str, lock: bool = False
    ) -> OutcomeValue | None:
        """The current value of a cell (locked for a correction)."""
        stmt = select(OutcomeValue).where(
            OutcomeValue.indicator_id == indicator_id,
            OutcomeValue.region_id == region_id,
            OutcomeValue.month == month,
        )
        return self.session.scalars(stmt.with_for_update() if lock else stmt).one_or_none()

    def values(
        self, path: str, first: str, last: str, indicator_id: uuid.UUID | None, limit: int
    ) -> Sequence[tuple[OutcomeValue, Indicator, Region]]:
        """Values in the subtree of `path`, months first..last, at most `limit`."""
        stmt = (
            select(OutcomeValue, Indicator, Region)
            .join(Indicator, Indicator.id == OutcomeValue.indicator_id)
            .join(Region, Region.id == OutcomeValue.region_id)
            .where(
                Region.path.startswith(path, autoescape=True),
                OutcomeValue.month >= first,
                OutcomeValue.month <= last,
            )
            .order_by(OutcomeValue.month, Region.path, Indicator.code)
            .limit(limit)
        )
        if indicator_id is not None:
            stmt = stmt.where(OutcomeValue.indicator_id == indicator_id)
        return [(v, i, r) for v, i, r in self.session.execute(stmt).all()]

    def history(self, value_ids: Sequence[uuid.UUID]) -> Sequence[OutcomeRevision]:
        """The replaced values of these cells, oldest first."""
        if not value_ids:
            return []
        stmt = select(OutcomeRevision).where(OutcomeRevision.value_id.in_(value_ids))
        return self.session.scalars(stmt.order_by(OutcomeRevision.revision)).all()

    def monthly(
        self, indicator_id: uuid.UUID, region_id: uuid.UUID, first: str, last: str
    ) -> dict[str, int]:
        """A region's own values of an indicator by month, first..last."""
        stmt = select(OutcomeValue.month, OutcomeValue.milli).where(
            OutcomeValue.indicator_id == indicator_id,
            OutcomeValue.region_id == region_id,
            OutcomeValue.month >= first,
            OutcomeValue.month <= last,
        )
        return {m: v for m, v in self.session.execute(stmt).all()}

    def joined(self, region_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, date]:
        """Join days entered for these regions."""
        stmt = select(RegionJoin.region_id, RegionJoin.joined_on).where(
            RegionJoin.region_id.in_(region_ids)
        )
        return {r: d for r, d in self.session.execute(stmt).all()}

    def join_row(self, region_id: uuid.UUID) -> RegionJoin | None:
        """The join row of a region (to change it)."""
        return self.session.get(RegionJoin, region_id)
