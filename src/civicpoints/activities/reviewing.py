"""What a reviewer (or the slip's organizer) sees of one record: its evidence side by side.

Scoped like `OfflineService.decide`, but a record out of the caller's scope reads as not found,
so changing an id in a URL tells nobody that it exists. Never commits.
"""

from __future__ import annotations

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
from civicpoints.kit.clock import as_utc
from civicpoints.kit.context import Context
from civicpoints.regions import RegionService


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
        if record is None or activity is None:
            raise ParticipationNotFound(field="participation_id")
        path = RegionService(self.session).get(activity.region_id).path
        if not any(by.may(role, path, activity.organization_id) for role in roles):
            raise ParticipationNotFound(field="participation_id")
        return record, activity

    def item(self, participation_id: uuid.UUID, by: Principal) -> ReviewItem:
        """The evidence of a record the reviewer may decide, measured against its activity."""
        record, activity = self.scoped(participation_id, by, (Role.REVIEWER,))
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

    def photo(
        self, participation_id: uuid.UUID, evidence_id: uuid.UUID, by: Principal
    ) -> tuple[Path, str]:
        """The stored file and type of one photo of a record the reviewer may decide."""
        record, _ = self.scoped(participation_id, by, (Role.REVIEWER,))
        evidence = self.records.repo.one_evidence(evidence_id)
        if evidence is None or evidence.participation_id != record.id:
            raise ParticipationNotFound(field="evidence_id")
        return blob_path(self.ctx.settings.uploads_dir, evidence.path), evidence.mime


def _outside(fence: geo.Geofence, lat: float | None, lon: float | None) -> int | None:
    """Whole metres outside the fence, or None when there is no position."""
    if lat is None or lon is None:
        return None
    return round(geo.distance_outside_m(fence, lat, lon))
