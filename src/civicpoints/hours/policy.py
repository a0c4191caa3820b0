"""Star-level thresholds: a versioned region setting, chosen like scoring's rule sets (the
most specific region first, then the latest start; else the seed default). Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.hours.errors import InvalidStarPolicy
from civicpoints.hours.models import StarPolicyRow
from civicpoints.hours.repository import HoursRepository
from civicpoints.hours.schemas import StarPolicyCreate
from civicpoints.hours.service import HoursService
from civicpoints.hours.stars import DEFAULT_STARS, StarLevel, StarThresholds, star_level
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.versions import in_force, start_refusal
from civicpoints.regions import RegionService


class StarPolicyService:
    """Which thresholds are in force where, and new versions of them."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repo = HoursRepository(session)

    def in_force(self, region_ids: list[uuid.UUID], on: date) -> StarThresholds:
        """The thresholds on `on` for the most specific of `region_ids` (else the default)."""
        chosen = self.current(region_ids, on)
        if chosen is None:
            return DEFAULT_STARS
        return StarThresholds(hours=chosen.thresholds)

    def current(self, region_ids: list[uuid.UUID], on: date) -> StarPolicyRow | None:
        """The stored version in force on `on` for the most specific of `region_ids`, if any."""
        return in_force(self.repo.star_policies_for(region_ids, on), region_ids, on)

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

    def check_may_set(self, who: Principal, region_id: uuid.UUID | None) -> None:
        """Refuse (403) anyone but an administrator of the region (city-wide: of the city).

        The scope is checked before the region's existence: an unknown region is 403 for a
        regional administrator (only a city-wide one learns that it does not exist, 404)."""
        RegionService(self.session).require_role_over(who, Role.ADMIN, region_id)

    def add(
        self, data: StarPolicyCreate, by: Principal, today: date | None = None
    ) -> StarPolicyRow:
        """A new version as the API asks for it: scope first, then today at the earliest and
        no more than two years ahead (a version is never back-dated: levels already shown stay
        true)."""
        self.check_may_set(by, data.region_id)
        today = today or local_date(utcnow())
        refusal = start_refusal(data.effective_from, today)
        if refusal is not None:
            raise InvalidStarPolicy("effective_from", reason_zh=refusal[0], reason_en=refusal[1])
        return self.create(
            data.region_id,
            data.effective_from,
            StarThresholds(hours=list(data.thresholds)),
            by,
            data.note,
        )

    def versions(self) -> Sequence[StarPolicyRow]:
        """Every stored version, newest first."""
        return self.repo.star_policies()

    def create(
        self,
        region_id: uuid.UUID | None,
        effective_from: date,
        thresholds: StarThresholds,
        by: Principal,
        note: str = "",
    ) -> StarPolicyRow:
        """Store a new version (administrators of the region; city-wide: of the city)."""
        self.check_may_set(by, region_id)
        row = StarPolicyRow(
            region_id=region_id,
            effective_from=effective_from,
            thresholds=list(thresholds.hours),
            note=note,
            created_by=by.id,
        )
        self.repo.add(row)
        return row
