"""Risk policies: versioned region settings, chosen like scoring's rule sets. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.fraud.errors import InvalidPolicy
from civicpoints.fraud.models import PolicyRow
from civicpoints.fraud.repository import FraudRepository
from civicpoints.fraud.schemas import DEFAULT_POLICY, PolicyCreate, PolicySettings
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.errors import Forbidden
from civicpoints.kit.versions import in_force
from civicpoints.regions import RegionService
from civicpoints.scoring import backdated


class PolicyService:
    """Which risk policy is in force where, and new versions of it."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repo = FraudRepository(session)

    def in_force(
        self, region_ids: list[uuid.UUID], on: date
    ) -> tuple[uuid.UUID | None, PolicySettings]:
        """The policy on `on` for the most specific of `region_ids` (else the seed default)."""
        row = in_force(self.repo.policies_for(region_ids, on), region_ids, on)
        if row is None:
            return None, DEFAULT_POLICY
        return row.id, PolicySettings.model_validate(row.settings)

    def for_region(self, region_id: uuid.UUID, on: date) -> PolicySettings:
        """The policy in force on `on` in a region (its own or an ancestor's)."""
        regions = RegionService(self.session)
        ancestry = [r.id for r in regions.ancestry(regions.get(region_id))]
        return self.in_force(ancestry, on)[1]

    def create(self, data: PolicyCreate, by: Principal, today: date | None = None) -> PolicyRow:
        """Store a new version (administrators of the region; city-wide: of the city)."""
        self.check_may_set(by, data.region_id)
        if backdated(data.effective_from, today or local_date(utcnow())):
            raise InvalidPolicy(
                "effective_from",
                reason_zh="生效日期不能早于昨天（追溯生效会改变已审核的记录）",
                reason_en="it cannot start before yesterday "
                "(a retroactive policy would change records already decided)",
            )
        row = PolicyRow(
            region_id=data.region_id,
            effective_from=data.effective_from,
            settings=data.settings.model_dump(mode="json"),
            note=data.note,
            created_by=by.id,
        )
        self.repo.add(row)
        return row

    def check_may_set(self, who: Principal, region_id: uuid.UUID | None) -> None:
        """Refuse (403) anyone but an administrator of the region (city-wide: of the city)."""
        if region_id is None:
            allowed = who.may_citywide(Role.ADMIN)
        else:
            allowed = who.may(Role.ADMIN, RegionService(self.session).get(region_id).path)
        if not allowed:
            raise Forbidden()

    def versions(self) -> Sequence[PolicyRow]:
        """Every stored version, newest first."""
        return self.repo.policies()
