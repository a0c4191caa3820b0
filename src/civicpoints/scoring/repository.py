"""All SQL of scoring."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from civicpoints.kit import dbapi
from civicpoints.kit.dbapi import Columns
from civicpoints.scoring.models import AwardRow, MonthUsage, RuleSetRow

# Creates the month's usage row if missing and locks it, in one statement (see lock_months).
_LOCK_MONTHS = (
    "INSERT INTO scoring_month_usage (resident_id, month, points) {values} "
    "ON CONFLICT (resident_id, month) DO UPDATE SET points = scoring_month_usage.points "
    "RETURNING resident_id, month, points"
)
AWARD = Columns(AwardRow)  # the award columns, from the model


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

    def team_awards(self, team_id: uuid.UUID) -> dict[uuid.UUID, tuple[int, int]]:
        """A team's awards by member: (points, participations that earned any)."""
        stmt = (
            select(AwardRow.resident_id, func.sum(AwardRow.awarded), func.count())
            .where(AwardRow.team_id == team_id, AwardRow.awarded > 0)
            .group_by(AwardRow.resident_id)
        )
        return {r: (int(p or 0), int(n)) for r, p, n in self.session.execute(stmt).all()}

    # -- the award hot path: set-based statements on the DBAPI cursor (kit/dbapi.py) --------

    def decided(
        self, participation_ids: Sequence[uuid.UUID]
    ) -> tuple[set[uuid.UUID], tuple[int, str | None]]:
        """Which of `participation_ids` already have an award, and the rule sets' version
        (which changes whenever a rule set is added: they are never edited or deleted)."""
        raw = dbapi.raw(self.session)
        among, params = raw.any_of([raw.uuid(p) for p in participation_ids])
        sql = (
            "SELECT 'v', count(*), max(CAST(id AS TEXT)), NULL FROM scoring_rule_set UNION ALL "
            "SELECT 'd', 0, NULL, participation_id FROM scoring_award "
            f"WHERE participation_id {among}"
        )
        rows = raw.rows(sql, params)
        version = next((int(n), last) for tag, n, last, _ in rows if tag == "v")
        return {raw.to_uuid(pid) for tag, _, _, pid in rows if tag == "d"}, version

    def lock_months(
        self, keys: Sequence[tuple[uuid.UUID, str]]
    ) -> dict[tuple[uuid.UUID, str], int]:
        """Lock each (resident, month) usage row, creating missing ones, in key order; points."""
        raw = dbapi.raw(self.session)
        ordered = sorted(set(keys))
        rows = [(raw.uuid(rid), month, 0) for rid, month in ordered]
        values, params = raw.rowset("scoring_month_usage", "resident_id, month, points", rows)
        sql = _LOCK_MONTHS.format(values=values)
        return {(raw.to_uuid(r), m): p for r, m, p in raw.rows(sql, params)}

    def save_awards(
        self, awards: Sequence[AwardRow], months: dict[tuple[uuid.UUID, str], int]
    ) -> None:
        """Insert the award rows and set the months' new usage (rows locked by lock_months)."""
        raw = dbapi.raw(self.session)
        usage = [(points, raw.uuid(rid), month) for (rid, month), points in months.items()]
        if raw.postgres:  # one statement, one JSON parameter (see ledger/bulk.py)
            sql = (
                "WITH d AS (SELECT CAST(? AS jsonb) AS j), "
                f"a AS (INSERT INTO scoring_award ({AWARD.text}) SELECT {AWARD.text} FROM "
                "jsonb_populate_recordset(NULL::scoring_award, (SELECT j->'a' FROM d))) "
                # The rows exist and are locked (lock_months); an upsert on the primary key
                # always finds them by its index, where an UPDATE … FROM the JSON rows can be
                # planned as a hash join over a sequential scan of the whole table.
                "INSERT INTO scoring_month_usage (resident_id, month, points) "
                "SELECT resident_id, month, points FROM "
                "jsonb_populate_recordset(NULL::scoring_month_usage, (SELECT j->'m' FROM d)) "
                "ON CONFLICT (resident_id, month) DO UPDATE SET points = EXCLUDED.points"
            )
            doc = {
                "a": [AWARD.record(raw, a) for a in awards],
                "m": [{"points": p, "resident_id": r, "month": m} for p, r, m in usage],
            }
            raw.run(sql, [json.dumps(doc, default=str, ensure_ascii=False)])
        else:
            raw.many(AWARD.insert(), [AWARD.row(raw, a) for a in awards])
            raw.many(
                "UPDATE scoring_month_usage SET points = ? WHERE resident_id = ? AND month = ?",
                usage,
            )
        for rid, month in months:
            obj = self.session.identity_map.get(identity_key(MonthUsage, (rid, month)))
            if obj is not None:
                self.session.expire(obj)
