"""Photo evidence: inspect, store content-addressed, flag doubtful photos. Never commits."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpoints.activities import geo
from civicpoints.activities.errors import ParticipationNotFound, RecordDecided
from civicpoints.activities.evidence import PhotoFacts, inspect_photo
from civicpoints.activities.models import Activity, Evidence, RecordStatus
from civicpoints.activities.records import RecordService
from civicpoints.activities.storage import store_blob
from civicpoints.kit.clock import as_utc
from civicpoints.kit.context import Context

# How far a photo's own GPS may lie from the area, and its time from the session, before a
# reviewer looks at it (李先生's photos taken elsewhere, or re-used from another day).
PHOTO_DISTANCE_M = 500.0
PHOTO_TIME_SLACK = timedelta(hours=6)
DECIDED = {
    RecordStatus.APPROVED: ("审核通过", "approved"),
    RecordStatus.REJECTED: ("被驳回", "rejected"),
}


class PhotoService:
    """Uploads of photo evidence for participation records."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.session, self.ctx = session, ctx
        self.records = RecordService(session, ctx)

    def upload(
        self, participation_id: uuid.UUID, resident_id: uuid.UUID, data: bytes, actor: str
    ) -> Evidence:
        """Accept a photo for the resident's own record; may complete the record."""
        record = self.records.get(participation_id, lock=True)
        if record.resident_id != resident_id:
            raise ParticipationNotFound(field="participation_id")
        if record.status in DECIDED:  # a decision is final: evidence cannot change it now
            zh, en = DECIDED[RecordStatus(record.status)]
            raise RecordDecided("participation_id", status_zh=zh, status_en=en)
        facts = inspect_photo(data, self.ctx.settings.upload_max_bytes)  # before any write
        activity = self.records.activities.get(record.activity_id)
        path = store_blob(self.ctx.settings.uploads_dir, data, facts.sha256, facts.extension)
        evidence = self._row(record.id, facts, path, activity)
        if flags := self._doubts(facts, evidence, activity):
            record.flags = sorted({*record.flags, *flags})
            self.records.rescore(record, activity)
        if record.status == RecordStatus.AWAITING_EVIDENCE:
            self.records.settle(record, activity, actor)
        return evidence

    def _row(
        self, participation_id: uuid.UUID, facts: PhotoFacts, path: str, activity: Activity
    ) -> Evidence:
        """Store the evidence row with what the photo says of where it was taken."""
        inside = None
        if facts.gps is not None:
            fence = geo.geofence_from_dict(activity.geofence)
            inside = geo.contains(fence, facts.gps[0], facts.gps[1], PHOTO_DISTANCE_M)
        evidence = Evidence(
            participation_id=participation_id,
            sha256=facts.sha256,
            path=path,
            mime=facts.mime,
            size=facts.size,
            width=facts.width,
            height=facts.height,
            taken_at=facts.taken_at,
            gps_lat=facts.gps[0] if facts.gps else None,
            gps_lon=facts.gps[1] if facts.gps else None,
            gps_inside=inside,
        )
        self.session.add(evidence)
        self.session.flush()
        return evidence

    def _doubts(self, facts: PhotoFacts, evidence: Evidence, activity: Activity) -> list[str]:
        """Signals that send the record to a reviewer instead of straight to points."""
        flags = []
        if evidence.gps_inside is False:
            flags.append("photo_far_from_site")
        if facts.taken_at and not _near(facts.taken_at, activity):
            flags.append("photo_time_mismatch")
        if self._reused(facts.sha256, evidence.participation_id):
            flags.append("photo_reused")
        return flags

    def _reused(self, sha256: str, participation_id: uuid.UUID) -> bool:
        """The same photo already backs another record."""
        stmt = select(Evidence.id).where(
            Evidence.sha256 == sha256, Evidence.participation_id != participation_id
        )
        return self.session.scalars(stmt.limit(1)).first() is not None


def _near(taken_at: datetime, activity: Activity) -> bool:
    """Whether a photo's EXIF time falls within the session (with slack for clocks)."""
    starts, ends = as_utc(activity.starts_at), as_utc(activity.ends_at)
    return starts - PHOTO_TIME_SLACK <= taken_at <= ends + PHOTO_TIME_SLACK
