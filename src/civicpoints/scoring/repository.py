"""All SQL of scoring."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from civicpoints.scoring.models import AwardRow, MonthUsage, RuleSetRow


class ScoringRepository:
    """Rule sets, monthly usage and awards; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        """Stage and flush a row."""
        self.session.add(row)
        self.session.flush()

    def rule_sets_for(self, region_ids: Sequence[uuid.UUID], on: date) -> Sequence[RuleSetRow]:
        """Rule sets in force on `on` for any of `region_ids` or city-wide."""
        stmt = select(RuleSetRow).where(
            RuleSetRow.effective_from <= on,
            or_(RuleSetRow.region_id.in_(region_ids), RuleSetRow.region_id.is_(None)),
        )
        return self.session.scalars(stmt).all()

    def rule_sets(self) -> Sequence[RuleSetRow]:
        """Every rule set, newest first."""
        stmt = select(RuleSetRow).order_by(RuleSetRow.effective_from.desc(), RuleSetRow.id)
        return self.session.scalars(stmt).all()

    def rule_set(self, rule_set_id: uuid.UUID) -> RuleSetRow | None:
        """One rule set."""
        return self.session.get(RuleSetRow, rule_set_id)

    def lock_month(self, resident_id: uuid.UUID, month: str) -> MonthUsage:
        """The month's usage row, created if missing, locked until the transaction ends."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(MonthUsage).values(resident_id=resident_id, month=month, points=0)
        self.session.execute(stmt.on_conflict_do_nothing())
        query = (
            select(MonthUsage)
            .where(MonthUsage.resident_id == resident_id, MonthUsage.month == month)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return self.session.scalars(query).one()

    def month_points(self, resident_id: uuid.UUID, month: str) -> int:
        """Points awarded in a month, read without locking (for display)."""
        row = self.session.get(MonthUsage, (resident_id, month))
        return row.points if row else 0

    def award_for(self, participation_id: uuid.UUID) -> AwardRow | None:
        """The award decided for a participation."""
        stmt = select(AwardRow).where(AwardRow.participation_id == participation_id)
        return self.session.scalars(stmt).one_or_none()

    def awards_for(self, participation_ids: Sequence[uuid.UUID]) -> Sequence[AwardRow]:
        """Awards of several participations."""
        stmt = select(AwardRow).where(AwardRow.participation_id.in_(participation_ids))
        return self.session.scalars(stmt).all()
