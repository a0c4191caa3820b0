"""Star-level thresholds: a versioned region setting, chosen like scoring's rule sets (the
most specific region first, then the latest start; else the seed default). Never commits."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.hours.models import StarPolicyRow
from civicpoints.hours.repository import HoursRepository
from civicpoints.hours.service import HoursService
from civicpoints.hours.stars import DEFAULT_STARS, StarLevel, StarThresholds, star_level
from civicpoints.kit.errors import Forbidden
from civicpoints.kit.versions import in_force
from civicpoints.regions import RegionService


class StarPolicyService:
    """Which thresholds are in force where, and new versions of them."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repo = HoursRepository(session)

    def in_force(self, region_ids: list[uuid.UUID], on: date) -> StarThresholds:
        """The thresholds on `on` for the most specific of `region_ids` (else the default)."""
        chosen = in_force(self.repo.star_policies_for(region_ids, on), region_ids, on)
        if chosen is None:
            return DEFAULT_STARS
        return StarThresholds(hours=chosen.thresholds)

    def for_region(self, region_id: uuid.UUID, on: date) -> StarThresholds:
        """The thresholds in force on `on` in a region (its own or an ancestor's)."""
        regions = RegionService(self.session)
        return self.in_force([r.id for r in regions.ancestry(regions.get(region_id))], on)

    def levels(self, homes: dict[uuid.UUID, uuid.UUID], on: date) -> dict[uuid.UUID, StarLevel]:
        """The star level of each resident (resident → home community), e.g. for a staff list."""
        minutes = HoursService(self.session).totals(list(homes))
        by_region: dict[uuid.UUID, StarThresholds] = {}
        out: dict[uuid.UUID, StarLevel] = {}
        for rid, home in homes.items():
            if home not in by_region:
                by_region[home] = self.for_region(home, on)
            out[rid] = star_level(minutes[rid], by_region[home])
        return out

    def level_of(self, resident_id: uuid.UUID, home: uuid.UUID, on: date) -> StarLevel:
        """One resident's star level in their home community."""
        return self.levels({resident_id: home}, on)[resident_id]

    def create(
        self,
        region_id: uuid.UUID | None,
        effective_from: date,
        thresholds: StarThresholds,
        by: Principal,
        note: str = "",
    ) -> StarPolicyRow:
        """Store a new version (administrators of the region; city-wide: of the city)."""
        if region_id is None:
            allowed = by.may_citywide(Role.ADMIN)
        else:
            allowed = by.may(Role.ADMIN, RegionService(self.session).get(region_id).path)
        if not allowed:
            raise Forbidden()
        row = StarPolicyRow(
            region_id=region_id,
            effective_from=effective_from,
            thresholds=list(thresholds.hours),
            note=note,
            created_by=by.id,
        )
        self.repo.add(row)
        return row
