"""Versions of the donation and points-bank settings (`community_donation_setting`): which
one is in force where (the most specific region first, then the latest start; else the
defaults), and new versions by the region's administrators. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.community import donation_rules as rules
from civicpoints.community.donation_errors import InvalidDonationSetting
from civicpoints.community.donation_models import DonationSettingRow
from civicpoints.community.donation_repository import DonationRepository
from civicpoints.community.donation_schemas import DonationSettingCreate
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.versions import in_force, start_refusal
from civicpoints.regions import RegionService


def as_settings(row: DonationSettingRow | None) -> rules.DonationSettings:
    """The settings a row sets (the defaults where none)."""
    if row is None:
        return rules.DEFAULT_SETTINGS
    return rules.DonationSettings(row.monthly_donation_limit, row.savings_months, row.savings_cap)


class DonationSettingService:
    """The settings versions of donations and the points bank."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repo = DonationRepository(session)
        self.regions = RegionService(session)

    def chain(self, region_id: uuid.UUID | None) -> list[uuid.UUID]:
        """A region and its ancestors, most specific first (city-wide: none)."""
        if region_id is None:
            return []
        return [r.id for r in self.regions.ancestry(self.regions.get(region_id))]

    def current(self, region_id: uuid.UUID | None, on: date) -> DonationSettingRow | None:
        """The stored version in force on `on` in a region (its own or an ancestor's)."""
        chain = self.chain(region_id)
        return in_force(self.repo.settings_for(chain, on), chain, on)

    def in_force(self, region_id: uuid.UUID | None, on: date) -> rules.DonationSettings:
        """The settings in force on `on` in a region (the defaults where no version is)."""
        return as_settings(self.current(region_id, on))

    def versions(self) -> Sequence[DonationSettingRow]:
        """Every stored version, newest first."""
        return self.repo.setting_versions()

    def check_may_set(self, who: Principal, region_id: uuid.UUID | None) -> None:
        """Refuse (403) anyone but an administrator of the region (city-wide: of the city).

        The scope is checked before the region's existence: an unknown region is 403 for a
        regional administrator (only a city-wide one learns that it does not exist, 404)."""
        self.regions.require_role_over(who, Role.ADMIN, region_id)

    def add(
        self, data: DonationSettingCreate, by: Principal, today: date | None = None
    ) -> DonationSettingRow:
        """Store a new version: scope first, then a start from today to two years ahead
        (never back-dated: a month's limit already used stays the limit it was)."""
        self.check_may_set(by, data.region_id)
        today = today or local_date(utcnow())
        refusal = start_refusal(data.effective_from, today)
        if refusal is not None:
            raise InvalidDonationSetting(
                "effective_from", reason_zh=refusal[0], reason_en=refusal[1]
            )
        row = DonationSettingRow(
            region_id=data.region_id,
            effective_from=data.effective_from,
            monthly_donation_limit=data.monthly_donation_limit,
            savings_months=data.savings_months,
            savings_cap=data.savings_cap,
            note=data.note,
            created_by=by.id,
        )
        self.repo.add(row)
        return row
