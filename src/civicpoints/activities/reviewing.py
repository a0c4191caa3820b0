"""What a reviewer (or the slip's organizer) sees of one record: its evidence side by side,
each photo's look-alikes from other records, and a resident's records by platform number.

Scoped like `OfflineService.decide`, but a record out of the caller's scope reads as not found,
so changing an id in a URL tells nobody that it exists. A look-alike from a record out of scope
is told in words only (how near, which activity, when): no photo, nobody named. Never commits.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.activities import geo
from civicpoints.activities.errors import ParticipationNotFound
from civicpoints.activities.models import Activity, Evidence, Participation
from civicpoints.activities.records import RecordService
from civicpoints.activities.storage import blob_path
from civicpoints.fraud import CaseService, CaseView, Match, RiskService
from civicpoints.identity import IdentityService
from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.errors import InvalidInput
from civicpoints.kit.ids import is_platform_number
from civicpoints.regions import RegionService

READ = (Role.REVIEWER,)
MAX_RECORDS = 50


@dataclass(frozen=True)
class PhotoView:
    """One photo with how far its own GPS lies outside the area (None: no GPS in it)."""

    evidence: Evidence
    outside_m: int | None


@dataclass(frozen=True)
class ReviewItem:
    """A record, its activity, photos and positions measured against the activity."""

    record: Participation
    activity: Activity
    photos: list[PhotoView]
    checkin_outside_m: int | None
    checkout_outside_m: int | None
    checkin_opens: datetime
    checkout_closes: datetime


@dataclass(frozen=True)
class LookAlike:
    """Another record's photo that looks like one of this record's: how many bits apart,
    whether the same resident took part, at which activity and when. `evidence` and `record`
    only when the caller may open that record too; else None (no photo, nobody named)."""

    bits: int
    same_resident: bool
    activity_title: str
    uploaded_at: datetime
    evidence: Evidence | None
    record: Participation | None


class ReviewDesk:
    """Reading records for review and for printing their slips."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.session, self.ctx = session, ctx
        self.records = RecordService(session, ctx)

    def scoped(
        self, participation_id: uuid.UUID, by: Principal, roles: tuple[str, ...]
    ) -> tuple[Participation, Activity]:
        """A record and its activity, if `by` holds one of `roles` over it; else not found."""
        record = self.records.repo.participation(participation_id)
        activity = self.records.repo.activity(record.activity_id) if record else None
        if record is None or activity is None or not self.holds(activity, by, roles):
            raise ParticipationNotFound(field="participation_id")
        return record, activity

    def holds(self, activity: Activity, by: Principal, roles: tuple[str, ...]) -> bool:
        """Whether `by` holds one of `roles` over the activity's region or organization."""
        path = RegionService(self.session).get(activity.region_id).path
        return any(by.may(role, path, activity.organization_id) for role in roles)

    def item(
        self, participation_id: uuid.UUID, by: Principal, roles: tuple[str, ...] = READ
    ) -> ReviewItem:
        """The evidence of a record `by` may read (by default: decide), measured against its
        activity."""
        record, activity = self.scoped(participation_id, by, roles)
        fence = geo.geofence_from_dict(activity.geofence)
        photos = [
            PhotoView(e, _outside(fence, e.gps_lat, e.gps_lon))
            for e in self.records.repo.evidence(record.id)
        ]
        starts, ends = as_utc(activity.starts_at), as_utc(activity.ends_at)
        return ReviewItem(
            record=record,
            activity=activity,
            photos=photos,
            checkin_outside_m=_outside(fence, record.checkin_lat, record.checkin_lon),
            checkout_outside_m=_outside(fence, record.checkout_lat, record.checkout_lon),
            checkin_opens=starts - timedelta(minutes=activity.checkin_opens_min),
            checkout_closes=ends + timedelta(minutes=activity.checkout_closes_min),
        )

    def look_alikes(
        self, item: ReviewItem, by: Principal, roles: tuple[str, ...] = READ
    ) -> dict[uuid.UUID, list[LookAlike]]:
        """For each photo of the record, other records' photos within the policy's
        `photo_near_bits`; each told in full only when `by` holds one of `roles` over it."""
        near = self.records.policy(item.activity).photo_near_bits
        found = RiskService(self.session, self.ctx).look_alikes(item.record.id, near)
        return {
            evidence_id: [told for m in matches if (told := self._told(item, m, by, roles))]
            for evidence_id, matches in found.items()
        }

    def _told(
        self, item: ReviewItem, match: Match, by: Principal, roles: tuple[str, ...]
    ) -> LookAlike | None:
        """What the caller may be told of one look-alike (None: its record is gone)."""
        repo = self.records.repo
        record = repo.participation(match.participation_id)
        evidence = repo.one_evidence(match.evidence_id)
        activity = repo.activity(record.activity_id) if record else None
        if record is None or evidence is None or activity is None:
            return None
        shown = self.holds(activity, by, roles)
        return LookAlike(
            bits=match.bits,
            same_resident=match.resident_id == item.record.resident_id,
            activity_title=activity.title,
            uploaded_at=evidence.uploaded_at,
            evidence=evidence if shown else None,
            record=record if shown else None,
        )

    def case(self, item: ReviewItem) -> CaseView | None:
        """The case the record was found false in (refused as fraud or taken back), if any."""
        return CaseService(self.session).of_record(item.record.id, utcnow())

    def records_of(
        self, number: str, by: Principal, roles: tuple[str, ...] = READ
    ) -> list[tuple[Participation, Activity]]:
        """A resident's records, by platform number, at activities where `by` holds one of
        `roles`, newest first (an unknown number and one out of scope both find nothing)."""
        # NFKC: the full-width letters and digits a Chinese input method types
        typed = "".join(unicodedata.normalize("NFKC", number).split()).replace("-", "").upper()
        if not is_platform_number(typed):
            raise InvalidInput(
                "number",
                field_zh="平台编号",
                field_en="platform number",
                reason_zh="应为 CP 加 10 位数字",
                reason_en="CP and 10 digits",
            )
        resident = IdentityService(self.session, self.ctx).find_resident(typed)
        if resident is None:
            return []
        repo = self.records.repo
        return list(repo.resident_records_for(resident.id, by, roles, MAX_RECORDS))

    def photo(
        self,
        participation_id: uuid.UUID,
        evidence_id: uuid.UUID,
        by: Principal,
        roles: tuple[str, ...] = READ,
    ) -> tuple[Path, str]:
        """The stored file and type of one photo of a record `by` may read."""
        record, _ = self.scoped(participation_id, by, roles)
        evidence = self.records.repo.one_evidence(evidence_id)
        if evidence is None or evidence.participation_id != record.id:
            raise ParticipationNotFound(field="evidence_id")
        return blob_path(self.ctx.settings.uploads_dir, evidence.path), evidence.mime


def _outside(fence: geo.Geofence, lat: float | None, lon: float | None) -> int | None:
    """Whole metres outside the fence, or None when there is no position."""
    if lat is None or lon is None:
        return None
    return round(geo.distance_outside_m(fence, lat, lon))
