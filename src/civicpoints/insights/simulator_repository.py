"""The policy simulator's SQL: reads only, each limited in SQL to the simulated region.

The awards read are those of the months asked whose cap key (the resident, or the team of a
team challenge) earned anything in the region: decisions elsewhere come along only because
they share a month's cap with one inside.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicpoints.activities import Activity, Evidence, Participation
from civicpoints.community import HazardReport
from civicpoints.identity import Resident
from civicpoints.regions import Region
from civicpoints.rewards import Redemption, RedemptionStatus
from civicpoints.scoring import AwardRow

# Redemptions that took (or hold) a resident's points.
SPENT = (
    RedemptionStatus.ISSUED,
    RedemptionStatus.PENDING,
    RedemptionStatus.APPROVED,
    RedemptionStatus.COMPLETED,
)
CAP_KEY = func.coalesce(AwardRow.team_id, AwardRow.resident_id)
CHUNK = 1_000  # cap keys per IN list


class SimulatorRepository:
    """Reads for the simulator; never writes."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def _inside(region: Region) -> Any:
        """Ids of the region and every region below it."""
        return select(Region.id).where(Region.path.startswith(region.path, autoescape=True))

    def _joined(self, stmt: Any) -> Any:
        return (
            stmt.outerjoin(Participation, Participation.id == AwardRow.participation_id)
            .outerjoin(Activity, Activity.id == Participation.activity_id)
            .outerjoin(HazardReport, HazardReport.id == AwardRow.participation_id)
        )

    def awards(self, region: Region, first: str, last: str) -> list[Any]:
        """Awards of months first..last ('YYYY-MM') of every cap key that earned in the
        region then, with the record and activity (or hazard report) they were decided on and
        whether a photo was uploaded. The keys are read first, then their awards by the
        resident and team indexes (a join on the computed key would compare every pair)."""
        in_months = AwardRow.month.between(first, last)
        photo = (
            select(Evidence.id).where(Evidence.participation_id == AwardRow.participation_id)
        ).exists()
        stmt = self._joined(
            select(
                AwardRow.id,
                AwardRow.resident_id,
                AwardRow.team_id,
                AwardRow.month,
                AwardRow.rule_set_id,
                AwardRow.category,
                AwardRow.awarded,
                AwardRow.refusal,
                AwardRow.created_at,
                Participation,
                Activity,
                HazardReport.community_id,
                HazardReport.photo_lat,
                photo,
            ).select_from(AwardRow)
        ).where(in_months)
        if region.parent_id is None:  # the whole city: every award is in the scope
            return list(self.session.execute(stmt).all())
        inside = self._inside(region)
        keys = self._joined(select(CAP_KEY).select_from(AwardRow).distinct()).where(
            in_months,
            (Activity.region_id.in_(inside)) | (HazardReport.community_id.in_(inside)),
        )
        found = sorted(self.session.scalars(keys).all())
        rows: list[Any] = []
        for i in range(0, len(found), CHUNK):
            part = found[i : i + CHUNK]
            mine = AwardRow.team_id.in_(part) | (
                AwardRow.team_id.is_(None) & AwardRow.resident_id.in_(part)
            )
            rows.extend(self.session.execute(stmt.where(mine)).all())
        return rows

    def city_issued(self, first: str, last: str) -> int:
        """Points awarded in the whole city in months first..last."""
        stmt = select(func.coalesce(func.sum(AwardRow.awarded), 0)).where(
            AwardRow.month.between(first, last)
        )
        return int(self.session.scalar(stmt) or 0)

    def redeemed(self, region: Region, since: datetime, until: datetime) -> list[Any]:
        """Per reward item: units and points redeemed in [since, until) by residents of the
        region (most units first)."""
        units = func.sum(Redemption.quantity)
        stmt = (
            select(Redemption.item_id, units, func.sum(Redemption.points))
            .join(Resident, Resident.id == Redemption.resident_id)
            .where(
                Resident.community_id.in_(self._inside(region)),
                Redemption.status.in_([s.value for s in SPENT]),
                Redemption.created_at >= since,
                Redemption.created_at < until,
            )
            .group_by(Redemption.item_id)
            .order_by(units.desc(), Redemption.item_id)
        )
        return list(self.session.execute(stmt).all())

    def regions_below(self, region: Region) -> Sequence[Region]:
        """The region's direct children (the rows of the weights on the form)."""
        stmt = select(Region).where(Region.parent_id == region.id).order_by(Region.path)
        return self.session.scalars(stmt).all()

    def region_ids(self, region: Region, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Which of `ids` are the region or below it."""
        if not ids:
            return set()
        stmt = select(Region.id).where(
            Region.id.in_(list(ids)), Region.path.startswith(region.path, autoescape=True)
        )
        return set(self.session.scalars(stmt).all())
