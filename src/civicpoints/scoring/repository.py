"""All SQL of scoring."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from civicpoints.kit.dbapi import Raw, values_list
from civicpoints.scoring.models import AwardRow, MonthUsage, RuleSetRow

# Creates the month's usage row if missing and locks it, in one statement (see lock_months).
_LOCK_MONTHS = (
    "INSERT INTO scoring_month_usage (resident_id, month, points) VALUES {values} "
    "ON CONFLICT (resident_id, month) DO UPDATE SET points = scoring_month_usage.points "
    "RETURNING resident_id, month, points"
)
_AWARD_COLS = (
    "id, participation_id, resident_id, rule_set_id, month, category, credited_minutes, base, "
    "awarded, cut, refusal, explanation, expires_at, transfer_id, created_at"
)


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

    # -- the award hot path: set-based statements on the DBAPI cursor (kit/dbapi.py) --------

    def decided(self, participation_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Which of `participation_ids` already have an award."""
        raw = Raw(self.session)
        marks = ", ".join(["?"] * len(participation_ids))
        sql = f"SELECT participation_id FROM scoring_award WHERE participation_id IN ({marks})"
        return {raw.to_uuid(r[0]) for r in raw.rows(sql, [raw.uuid(p) for p in participation_ids])}

    def rule_set_version(self) -> tuple[int, str | None]:
        """Changes whenever a rule set is added (rule sets are never edited or deleted)."""
        raw = Raw(self.session)
        count, last = raw.rows("SELECT count(*), max(CAST(id AS TEXT)) FROM scoring_rule_set")[0]
        return int(count), last

    def lock_months(
        self, keys: Sequence[tuple[uuid.UUID, str]]
    ) -> dict[tuple[uuid.UUID, str], int]:
        """Lock each (resident, month) usage row, creating missing ones, in key order; points."""
        raw = Raw(self.session)
        ordered = sorted(set(keys))
        params = [x for rid, month in ordered for x in (raw.uuid(rid), month, 0)]
        sql = _LOCK_MONTHS.format(values=values_list(3, len(ordered)))
        return {(raw.to_uuid(r), m): p for r, m, p in raw.rows(sql, params)}

    def save_awards(
        self, awards: Sequence[AwardRow], months: dict[tuple[uuid.UUID, str], int]
    ) -> None:
        """Insert the award rows and set the months' new usage (rows locked by lock_months)."""
        raw = Raw(self.session)
        u, ts = raw.uuid, raw.ts
        rows = [
            (
                u(a.id),
                u(a.participation_id),
                u(a.resident_id),
                u(a.rule_set_id) if a.rule_set_id else None,
                a.month,
                a.category,
                a.credited_minutes,
                a.base,
                a.awarded,
                a.cut,
                a.refusal,
                raw.json(a.explanation),
                ts(a.expires_at) if a.expires_at else None,
                u(a.transfer_id) if a.transfer_id else None,
                ts(a.created_at),
            )
            for a in awards
        ]
        usage = [(points, u(rid), month) for (rid, month), points in months.items()]
        if raw.postgres and rows and usage:  # one statement, one round trip
            sql = (
                f"WITH a AS (INSERT INTO scoring_award ({_AWARD_COLS}) "
                f"VALUES {values_list(15, len(rows))}) "
                "UPDATE scoring_month_usage AS m SET points = v.points FROM (VALUES "
                f"{values_list(3, len(usage), ('int', 'uuid', 'text'))}) AS v (points, rid, month) "
                "WHERE m.resident_id = v.rid AND m.month = v.month"
            )
            raw.run(sql, [x for r in (*rows, *usage) for x in r])
        else:
            raw.many(
                f"INSERT INTO scoring_award ({_AWARD_COLS}) VALUES {values_list(15, 1)}", rows
            )
            raw.many(
                "UPDATE scoring_month_usage SET points = ? WHERE resident_id = ? AND month = ?",
                usage,
            )
        for rid, month in months:
            obj = self.session.identity_map.get(identity_key(MonthUsage, (rid, month)))
            if obj is not None:
                self.session.expire(obj)
