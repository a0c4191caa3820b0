"""Offline records (线下积分点): staff entry from paper slips, CSV import, the review queue.

Never commits; the import isolates each row in a savepoint so a bad row is never half-applied.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.activities.csvrows import RecordRow, parse_records_csv
from civicpoints.activities.errors import (
    ActivityNotFound,
    AlreadyRecorded,
    ImportRejected,
    NotLowRisk,
    ReviewState,
)
from civicpoints.activities.events import Joining, joining
from civicpoints.activities.fraud_desk import FraudDesk
from civicpoints.activities.models import Activity, Participation, RecordStatus, Source
from civicpoints.activities.records import RecordService
from civicpoints.activities.repository import ActivityRepository
from civicpoints.activities.risk import RecordRisk
from civicpoints.activities.schemas import ImportReport, ImportRowRead, OfflineRecordCreate
from civicpoints.activities.spans import check_offline_span
from civicpoints.identity import IdentityService, ResidentNotFound
from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.errors import DomainError, Forbidden
from civicpoints.regions import RegionService


class OfflineService:
    """Records made by staff on behalf of residents, and their review."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.session, self.ctx = session, ctx
        self.records = RecordService(session, ctx)
        self.repo = ActivityRepository(session)

    def record(
        self, data: OfflineRecordCreate, by: Principal, source: str = Source.OFFLINE
    ) -> Participation:
        """Enter one paper slip; it waits in the review queue before any points."""
        return self._enter(self._organized(data.activity_id, by), data, by, source)

    def import_csv(
        self, data: bytes, by: Principal, partial: bool = False, dry_run: bool = False
    ) -> ImportReport:
        """Import paper slips from CSV: a report per row; re-importing the same file is harmless.

        By default a file with any bad row writes nothing (422 with every row's errors), so
        staff fix the file and upload it again; `partial` keeps the good rows instead.
        `dry_run` runs every check, reports what would happen per row, and writes nothing.
        """
        parsed = parse_records_csv(data)  # a whole-file problem raises before any write
        savepoint = self.session.begin_nested()
        rows = [self._import_row(r.line, r.row, r.errors, by) for r in parsed]
        bad = [r for r in rows if r.status == "error"]
        if dry_run:
            savepoint.rollback()
            rows = [r.model_copy(update={"participation_id": None}) for r in rows]
        elif bad and not partial:
            savepoint.rollback()
            raise _rejected(bad)
        else:
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

    def queue(self, by: Principal, limit: int, after: uuid.UUID | None) -> list[Participation]:
        """Records waiting for review that the reviewer may decide, newest first."""
        return list(self.repo.pending_review(limit, after, by))

    def backlog(self) -> tuple[int, datetime | None]:
        """City-wide count of records waiting for review and the oldest one's creation time,
        for the operators' metrics (figures only: no record, no resident)."""
        count, oldest = self.repo.review_backlog()
        return count, as_utc(oldest) if oldest is not None else None

    def overdue(self, now: datetime, by: Principal | None = None) -> list[Participation]:
        """Records waiting longer than their region's policy allows (in `by`'s scope), oldest
        first: each raises an alert (the `activities.review_alerts` job, the staff console)."""
        shortest = timedelta(days=1)  # no policy alerts sooner (review_alert_days >= 1)
        late, days = [], {}
        for record, activity in self.repo.waiting_since(now - shortest, by):
            if activity.region_id not in days:
                days[activity.region_id] = self.records.policy(activity).review_alert_days
            if as_utc(record.created_at) < now - timedelta(days=days[activity.region_id]):
                late.append(record)
        return late

    def decide(
        self,
        participation_id: uuid.UUID,
        approve: bool,
        reason: str,
        by: Principal,
        fraud: bool = False,
    ) -> Participation:
        """Approve (hours, then points) or reject a record, with the reason kept; a rejection
        as fraud also confirms a case and its step of the sanction ladder."""
        record = self.records.get(participation_id, lock=True)
        activity = self.records.activities.get(record.activity_id)
        if not self._covers(by, Role.REVIEWER, activity):
            raise Forbidden()
        if record.status != RecordStatus.PENDING_REVIEW:
            raise ReviewState(status=record.status)
        if approve:
            _recheck(record, activity)
        record.reviewed_by, record.reviewed_at, record.review_reason = by.id, utcnow(), reason
        if not approve:
            record.status = RecordStatus.REJECTED
            if fraud:
                FraudDesk(self.session, self.ctx).confirm_rejection(record, activity, reason, by)
            return record
        self.records.approve(record, activity, by.key)
        return record

    def approve_low_risk(
        self, participation_ids: list[uuid.UUID], reason: str, by: Principal
    ) -> list[Participation]:
        """Approve several waiting records at once, all or none: each must be in `by`'s
        review scope and score below its region's bulk-approval line."""
        chosen = [(self.records.get(i, lock=True), i) for i in sorted(set(participation_ids))]
        refused = []
        for record, record_id in chosen:
            activity = self.records.activities.get(record.activity_id)
            if not self._covers(by, Role.REVIEWER, activity):
                raise Forbidden()
            line = self.records.policy(activity).bulk_approve_below
            if record.status != RecordStatus.PENDING_REVIEW or record.risk >= line:
                refused.append(str(record_id))
        if refused:
            raise NotLowRisk("participation_ids", ids=", ".join(refused))
        return [self.decide(r.id, True, reason, by) for r, _ in chosen]

    def _organized(self, activity_id: uuid.UUID, by: Principal) -> Activity:
        """The activity, once `by` is known to organize it: scope before any slip lookup."""
        activity = self.records.activities.get(activity_id)
        if not self._covers(by, Role.ORGANIZER, activity):
            raise Forbidden()
        return activity

    def _enter(
        self, activity: Activity, data: OfflineRecordCreate, by: Principal, source: str
    ) -> Participation:
        """The new record of a slip, its number unused in the activity's organization."""
        if self.repo.by_slip(activity.organization_id, data.slip_no) is not None:
            raise AlreadyRecorded(
                field="slip_no",
                what_zh=f"单据号 {data.slip_no} 已录入",
                what_en=f"slip {data.slip_no} was already entered",
            )
        check_offline_span(data.started_at, data.ended_at, _session(activity), utcnow())
        resident = IdentityService(self.session, self.ctx).find_resident(data.resident)
        if resident is None:
            raise ResidentNotFound(field="resident")
        if activity.team_id is not None:  # a team challenge: members only (community decides)
            joining.ask(self.session, Joining(activity.id, activity.team_id, resident.id))
        if self.repo.participation_of(activity.id, resident.id) is not None:
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
            organization_id=activity.organization_id,
            slip_no=data.slip_no,
            note=data.note,
            recorded_by=by.id,
            flags=[],
        )
        self.records.note_presence(record, activity)
        # One resident in two places at once, on paper or in the app (issue 10): the same
        # pattern check an app record gets when it settles.
        RecordRisk(self.session, self.ctx).patterns(record, activity, self.records.policy(activity))
        self.records.rescore(record, activity)
        self.repo.add(record)
        return record

    def _import_row(
        self, line: int, row: RecordRow | None, errors: list, by: Principal
    ) -> ImportRowRead:
        """One row in its own savepoint: all of it or none of it."""
        if row is None:
            return ImportRowRead(line=line, status="error", errors=[vars(e) for e in errors])
        try:
            with self.session.begin_nested():
                activity = self._organized(_uuid(row.activity_id), by)
                existing = self.repo.by_slip(activity.organization_id, row.slip_no)
                if existing is not None and existing.activity_id == activity.id:
                    return ImportRowRead(
                        line=line, status="duplicate", participation_id=existing.id
                    )
                record = self._enter(activity, _as_create(row), by, Source.IMPORT)
        except DomainError as exc:
            err = {
                "field": exc.field,
                "message_zh": exc.message("zh-CN"),
                "message_en": exc.message("en"),
            }
            return ImportRowRead(line=line, status="error", errors=[err])
        return ImportRowRead(line=line, status="created", participation_id=record.id)

    def _covers(self, by: Principal, role: str, activity: Activity) -> bool:
        """Whether `by` holds `role` over the activity's region or organization."""
        region = RegionService(self.session).get(activity.region_id)
        return by.may(role, region.path, activity.organization_id)


def _recheck(record: Participation, activity: Activity) -> None:
    """A slip entered before the span check existed is checked before it pays."""
    if record.source == Source.APP or record.started_at is None or record.ended_at is None:
        return
    started, ended = as_utc(record.started_at), as_utc(record.ended_at)
    check_offline_span(started, ended, _session(activity), utcnow())


def _session(activity: Activity) -> tuple[datetime, datetime]:
    """When the activity runs, in UTC."""
    return as_utc(activity.starts_at), as_utc(activity.ends_at)


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
