"""Offline records (线下积分点): staff entry from paper slips, CSV import, the review queue.

Never commits; the import isolates each row in a savepoint so a bad row is never half-applied.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.activities.csvrows import RecordRow, parse_records_csv
from civicpoints.activities.errors import (
    ActivityNotFound,
    AlreadyRecorded,
    ImportRejected,
    InvalidSchedule,
    ReviewState,
)
from civicpoints.activities.models import Participation, RecordStatus, Source
from civicpoints.activities.records import RecordService
from civicpoints.activities.schemas import ImportReport, ImportRowRead, OfflineRecordCreate
from civicpoints.identity.service import IdentityService, ResidentNotFound
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.errors import DomainError, Forbidden
from civicpoints.regions.service import RegionService


class OfflineService:
    """Records made by staff on behalf of residents, and their review."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.session, self.ctx = session, ctx
        self.records = RecordService(session, ctx)

    def record(
        self, data: OfflineRecordCreate, by: Principal, source: str = Source.OFFLINE
    ) -> Participation:
        """Enter one paper slip; it waits in the review queue before any points."""
        existing = self.records.repo.by_slip(data.slip_no)
        if existing is not None:
            raise AlreadyRecorded(
                field="slip_no",
                what_zh=f"单据号 {data.slip_no} 已录入",
                what_en=f"slip {data.slip_no} was already entered",
            )
        activity = self.records.activities.get(data.activity_id)
        self._require(by, Role.ORGANIZER, activity.region_id, activity.organization_id)
        resident = IdentityService(self.session, self.ctx).find_resident(data.resident)
        if resident is None:
            raise ResidentNotFound(field="resident")
        if data.ended_at <= data.started_at:
            raise InvalidSchedule(field="ended_at")
        if self.records.repo.participation_of(activity.id, resident.id) is not None:
            raise AlreadyRecorded(
                field="resident",
                what_zh="该居民在此活动已有服务记录",
                what_en="this resident already has a record for this activity",
            )
        record = Participation(
            activity_id=activity.id,
            resident_id=resident.id,
            source=source,
            status=RecordStatus.PENDING_REVIEW,
            started_at=data.started_at,
            ended_at=data.ended_at,
            slip_no=data.slip_no,
            note=data.note,
            recorded_by=by.id,
            flags=[],
        )
        self.records.note_presence(record, activity)
        self.records.repo.add(record)
        return record

    def import_csv(self, data: bytes, by: Principal, partial: bool = False) -> ImportReport:
        """Import paper slips from CSV: a report per row; re-importing the same file is harmless.

        By default a file with any bad row writes nothing (422 with every row's errors), so
        staff fix the file and upload it again; `partial` keeps the good rows instead.
        """
        savepoint = self.session.begin_nested()
        rows = [self._import_row(r.line, r.row, r.errors, by) for r in parse_records_csv(data)]
        bad = [r for r in rows if r.status == "error"]
        if bad and not partial:
            savepoint.rollback()
            raise _rejected(bad)
        savepoint.commit()
        count = {
            s: sum(1 for r in rows if r.status == s) for s in ("created", "duplicate", "error")
        }
        return ImportReport(
            created=count["created"],
            duplicates=count["duplicate"],
            errors=count["error"],
            rows=rows,
        )

    def _import_row(
        self, line: int, row: RecordRow | None, errors: list, by: Principal
    ) -> ImportRowRead:
        """One row in its own savepoint: all of it or none of it."""
        if row is None:
            return ImportRowRead(line=line, status="error", errors=[vars(e) for e in errors])
        if (existing := self.records.repo.by_slip(row.slip_no)) is not None:
            return ImportRowRead(line=line, status="duplicate", participation_id=existing.id)
        try:
            with self.session.begin_nested():
                record = self.record(_as_create(row), by, Source.IMPORT)
        except DomainError as exc:
            err = {
                "field": exc.field,
                "message_zh": exc.message("zh-CN"),
                "message_en": exc.message("en"),
            }
            return ImportRowRead(line=line, status="error", errors=[err])
        return ImportRowRead(line=line, status="created", participation_id=record.id)

    def queue(self, by: Principal, limit: int, after: uuid.UUID | None) -> list[Participation]:
        """Records waiting for review that the reviewer may decide."""
        rows = self.records.repo.pending_review(limit * 4, after)
        return [r for r in rows if self._may_review(by, r)][:limit]

    def decide(
        self, participation_id: uuid.UUID, approve: bool, reason: str, by: Principal
    ) -> Participation:
        """Approve (hours, then points) or reject a record, with the reason kept."""
        record = self.records.get(participation_id, lock=True)
        if not self._may_review(by, record):
            raise Forbidden()
        if record.status != RecordStatus.PENDING_REVIEW:
            raise ReviewState(status=record.status)
        record.reviewed_by, record.reviewed_at, record.review_reason = by.id, utcnow(), reason
        if not approve:
            record.status = RecordStatus.REJECTED
            return record
        activity = self.records.activities.get(record.activity_id)
        self.records.approve(record, activity, by.key)
        return record

    def _may_review(self, by: Principal, record: Participation) -> bool:
        """A reviewer covering the activity's region or organization."""
        activity = self.records.activities.get(record.activity_id)
        region = RegionService(self.session).get(activity.region_id)
        return by.may(Role.REVIEWER, region.path, activity.organization_id)

    def _require(self, by: Principal, role: str, region_id: uuid.UUID, org: uuid.UUID) -> None:
        """Refuse staff outside the activity's region and organization."""
        region = RegionService(self.session).get(region_id)
        if not by.may(role, region.path, org):
            raise Forbidden()


def _rejected(bad: list[ImportRowRead]) -> ImportRejected:
    """The whole-file refusal, naming the first bad row's field and listing every bad row."""
    first = bad[0]
    field = first.errors[0].get("field") if first.errors else None
    where = f"line {first.line}: {field}" if field else f"line {first.line}"
    error = ImportRejected(field=where, rows=len(bad), line=first.line)
    error.errors = [{"line": r.line, **e} for r in bad for e in r.errors]
    return error


def _as_create(row: RecordRow) -> OfflineRecordCreate:
    """A parsed CSV row as an offline-record request (activity ids are checked here)."""
    return OfflineRecordCreate(
        resident=row.resident,
        activity_id=_uuid(row.activity_id),
        started_at=row.started_at,
        ended_at=row.ended_at,
        slip_no=row.slip_no,
        note=row.note,
    )


def _uuid(text: str) -> uuid.UUID:
    """An activity id from a CSV cell, or the activity-not-found error for that field."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ActivityNotFound(field="activity_id") from None
