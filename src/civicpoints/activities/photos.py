"""Photo evidence: inspect, store content-addressed, flag doubtful photos. Never commits."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpoints.activities import geo
from civicpoints.activities.errors import ParticipationNotFound, RecordDecided
from civicpoints.activities.evidence import PhotoFacts, inspect_photo
from civicpoints.activities.models import Activity, Evidence, RecordStatus
from civicpoints.activities.records import RecordService
from civicpoints.activities.risk import note
from civicpoints.activities.storage import store_blob
from civicpoints.fraud import (
    PolicySettings,
    RiskService,
    Signal,
    edited_signal,
    photo_place_signal,
    photo_time_signal,
    readings,
)
from civicpoints.kit.clock import as_utc
from civicpoints.kit.context import Context

# The very same file already backs another record (the photo's SHA-256).
REUSED = Signal(
    "photo_reused",
    "同一张照片已用于另一条服务记录",
    "the very same photo was already used for another record",
)
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
        policy = self.records.policy(activity)
        path = store_blob(self.ctx.settings.uploads_dir, data, facts.sha256, facts.extension)
        evidence = self._row(record.id, facts, path, activity, policy)
        signals = self._doubts(facts, evidence, activity, policy)
        signals += RiskService(self.session, self.ctx).photo(
            evidence.id, record.id, record.resident_id, data, policy
        )
        if signals:
            note(record, signals)
            self.records.rescore(record, activity)
        if record.status == RecordStatus.AWAITING_EVIDENCE:
            self.records.settle(record, activity, actor)
        return evidence

    def _row(
        self,
        participation_id: uuid.UUID,
        facts: PhotoFacts,
        path: str,
        activity: Activity,
        policy: PolicySettings,
    ) -> Evidence:
        """Store the evidence row with what the photo says of where it was taken."""
        outside = _outside(facts, activity)
        inside = None if outside is None else outside <= policy.photo_far_m
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

    def _doubts(
        self, facts: PhotoFacts, evidence: Evidence, activity: Activity, policy: PolicySettings
    ) -> list[Signal]:
        """What the photo's own facts say: far away, another time, edited, or re-used."""
        slack = timedelta(minutes=policy.photo_time_slack_min)
        starts, ends = as_utc(activity.starts_at), as_utc(activity.ends_at)
        found = [
            photo_place_signal(_outside(facts, activity), policy),
            photo_time_signal(facts.taken_at, starts, ends, slack),
            edited_signal(facts.software),
        ]
        if self._reused(facts.sha256, evidence.participation_id):
            found.append(REUSED)
        return [s for s in found if s is not None]

    def _reused(self, sha256: str, participation_id: uuid.UUID) -> bool:
        """The same photo already backs another record."""
        stmt = select(Evidence.id).where(
            Evidence.sha256 == sha256, Evidence.participation_id != participation_id
        )
        return self.session.scalars(stmt.limit(1)).first() is not None


def _outside(facts: PhotoFacts, activity: Activity) -> float | None:
    """How far the photo's EXIF place lies outside the area, read as WGS-84 or as GCJ-02
    (whichever is nearer: some phones write GCJ-02); None without EXIF GPS."""
    if facts.gps is None:
        return None
    fence = geo.geofence_from_dict(activity.geofence)
    return min(geo.distance_outside_m(fence, y, x) for y, x in readings(*facts.gps))
