"""Records found false: refused as fraud, or taken back after approval; appeals against
either. The fraud domain keeps the cases and the ladder; this module says which record,
checks the caller's scope over it, and moves the record's state. Never commits."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.activities.evidence import inspect_photo
from civicpoints.activities.models import Activity, Participation, RecordStatus
from civicpoints.activities.records import RecordService
from civicpoints.activities.reviewing import ReviewDesk
from civicpoints.activities.storage import blob_path, store_blob
from civicpoints.fraud import (
    AppealDecision,
    Case,
    CaseKind,
    CaseNotFound,
    CaseService,
    Clawbacks,
    Finding,
    NotClawable,
    PolicyPreview,
    PolicySettings,
    TallyRead,
    tally,
)
from civicpoints.kit import months
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.regions import RegionService

_MIME = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


class FraudDesk:
    """Confirming fraud on records, and appeals."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.session, self.ctx = session, ctx
        self.records = RecordService(session, ctx)
        self.cases = CaseService(session)

    def finding(self, record: Participation, activity: Activity, reason: str) -> Finding:
        """What the fraud domain needs to know of a record found false."""
        return Finding(
            resident_id=record.resident_id,
            participation_id=record.id,
            region_ids=self.records.ancestry(activity),
            organization_id=activity.organization_id,
            reason=reason,
            signals=list(record.flags or []),
        )

    def confirm_rejection(
        self, record: Participation, activity: Activity, reason: str, by: Principal
    ) -> Case:
        """A record just refused by a reviewer as fraud: the case and its step of the ladder."""
        return self.cases.confirm(
            self.finding(record, activity, reason), CaseKind.REJECTION, by, utcnow()
        )

    def claw_back(self, participation_id: uuid.UUID, reason: str, by: Principal) -> Case:
        """An approved record found false by a reviewer or auditor over it: its points and
        hours taken back, the case on the ladder, the record revoked (the resident is told
        why on the record and in their notices)."""
        record, activity = ReviewDesk(self.session, self.ctx).scoped(
            participation_id, by, (Role.REVIEWER, Role.AUDITOR)
        )
        record = self.records.get(record.id, lock=True)
        if record.status != RecordStatus.APPROVED:
            raise NotClawable(
                "participation_id",
                why_zh="只有已通过的记录才能追回",
                why_en="only an approved record can be taken back",
            )
        case = Clawbacks(self.session).claw_back(
            self.finding(record, activity, reason), by, utcnow()
        )
        record.status, record.review_reason = RecordStatus.REVOKED, reason
        return case

    def file_appeal(
        self, case_id: uuid.UUID, resident_id: uuid.UUID, reason: str, photo: bytes | None
    ) -> Case:
        """The resident appeals one of their own cases, with an optional photo."""
        case = self.cases.own(case_id, resident_id)
        evidence = None
        if photo is not None:  # a chosen but empty file is refused by the check, not dropped
            facts = inspect_photo(photo, self.ctx.settings.upload_max_bytes)  # before any write
            root = self.ctx.settings.uploads_dir
            evidence = (facts.sha256, store_blob(root, photo, facts.sha256, facts.extension))
        self.cases.file_appeal(case, reason, utcnow(), evidence)
        return case

    def appeal_photo(self, appeal_id: uuid.UUID, by: Principal) -> tuple[Path, str]:
        """The stored file and type of an appeal's photo, for a reviewer of the case's region
        (anyone else, and an appeal without a photo, read as not found)."""
        appeal, _ = self.cases.scoped_appeal(appeal_id, by, lock=False)
        if appeal.evidence_path is None:
            raise CaseNotFound("appeal_id")
        path = blob_path(self.ctx.settings.uploads_dir, appeal.evidence_path)
        return path, _MIME.get(path.suffix, "application/octet-stream")

    def decide_appeal(
        self, appeal_id: uuid.UUID, upheld: bool, reason: str, by: Principal
    ) -> AppealDecision:
        """Decide an appeal; an upheld one withdraws the case and gives the record back."""
        case, decision = self.cases.decide_appeal(appeal_id, upheld, reason, by, utcnow())
        if upheld:
            record = self.records.get(case.participation_id, lock=True)
            activity = self.records.activities.get(record.activity_id)
            record.review_reason = reason
            if record.status == RecordStatus.REJECTED:
                self.records.approve(record, activity, by.key)
            elif record.status == RecordStatus.REVOKED:
                Clawbacks(self.session).restore(case, by)
                record.status = RecordStatus.APPROVED
        return decision

    def preview(
        self, region_id: uuid.UUID | None, proposal: PolicySettings, first: date
    ) -> PolicyPreview:
        """What the policy in force and a proposed one would have decided for the records
        assessed in the Beijing month starting `first`, in the region's subtree."""
        regions = RegionService(self.session)
        region = regions.get(region_id) if region_id else None
        ancestry = [r.id for r in regions.ancestry(region)] if region else []
        current = self.cases.policies.in_force(ancestry, local_date(utcnow()))[1]
        since, until = months.bounds(first)
        past = self.records.repo.assessed_between(since, until, region.path if region else None)
        return PolicyPreview(
            month=f"{first.year:04d}-{first.month:02d}",
            records=len(past),
            current=TallyRead.of(tally(past, current)),
            proposed=TallyRead.of(tally(past, proposal)),
        )
