"""Use cases of 隐患随手拍: report, follow, and the department's decision. Never commits.

The photo goes through activities' pipeline (content sniffed, EXIF read, stored by hash);
points through scoring and the ledger exactly as an activity's award, keyed by the report's
id, so a repeated confirmation cannot pay twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from civicpoints.access import Principal
from civicpoints.activities import blob_path, inspect_photo, store_blob
from civicpoints.community import hazards
from civicpoints.community.hazard_errors import (
    AlreadyConfirmed,
    HazardDecided,
    HazardNotFound,
    HazardPhotoFar,
    HazardPhotoMissing,
    NoDepartment,
    NotADuplicate,
)
from civicpoints.community.hazard_models import HazardReport
from civicpoints.community.hazard_repository import HazardRepository
from civicpoints.community.hazard_schemas import HazardDecision, HazardReportCreate
from civicpoints.community.hazards import HazardStatus, Sighting
from civicpoints.fraud import CaseService, readings
from civicpoints.identity import IdentityService, may_process
from civicpoints.kit.context import Context
from civicpoints.ledger import wallet_of
from civicpoints.regions import RegionService
from civicpoints.scoring import AwardRequest, Category, Facts, ScoringService

WINDOW = timedelta(hours=hazards.DUPLICATE_HOURS)
STATUS_WORDS = {
    HazardStatus.CONFIRMED: ("已确认", "confirmed"),
    HazardStatus.MERGED: ("已合并", "merged"),
    HazardStatus.REJECTED: ("已驳回", "rejected"),
}
_MIME = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


@dataclass(frozen=True)
class Candidate:
    """Another report of the same hazard, how far, and whether this one may merge into it."""

    report: HazardReport
    metres: int
    mergeable: bool


def sighting(r: HazardReport) -> Sighting:
    """What duplicate matching knows of a report."""
    where = (r.lat, r.lon) if r.lat is not None and r.lon is not None else None
    return Sighting(r.id, r.category, r.reported_at, where, r.community_id, r.address)


class HazardService:
    """Hazard reports from residents to the responsible department."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.session, self.ctx = session, ctx
        self.repo = HazardRepository(session)
        self.regions = RegionService(session)

    # -- residents ------------------------------------------------------------------------

    def report(
        self, resident_id: uuid.UUID, data: HazardReportCreate, photo: bytes | None, now: datetime
    ) -> HazardReport:
        """File a report; refused (nothing written) without a photo or when the photo was
        taken far from the claimed place."""
        if not photo:
            raise HazardPhotoMissing("photo")
        facts = inspect_photo(photo, self.ctx.settings.upload_max_bytes)  # before any write
        claimed = (data.lat, data.lon) if data.lat is not None and data.lon is not None else None
        seen = list(readings(*facts.gps)) if facts.gps else []
        metres = hazards.photo_distance(claimed, seen)
        if hazards.photo_far(claimed, seen):
            raise HazardPhotoFar("photo", metres=round(metres or 0), limit=int(hazards.PHOTO_FAR_M))
        community = self.regions.community(data.community_id)
        org = self._route(data.category, community.id)
        path = store_blob(self.ctx.settings.uploads_dir, photo, facts.sha256, facts.extension)
        where = claimed or facts.gps  # no browser position: the photo's, if it has one
        report = HazardReport(
            resident_id=resident_id,
            category=data.category,
            community_id=community.id,
            organization_id=org,
            address=data.address,
            description=data.description,
            lat=where[0] if where else None,
            lon=where[1] if where else None,
            photo_sha256=facts.sha256,
            photo_path=path,
            photo_mime=facts.mime,
            photo_taken_at=facts.taken_at,
            photo_lat=facts.gps[0] if facts.gps else None,
            photo_lon=facts.gps[1] if facts.gps else None,
            status=HazardStatus.OPEN,
            reported_at=now,
        )
        self.repo.add(report)
        return report

    def _route(self, category: hazards.HazardCategory, community_id: uuid.UUID) -> uuid.UUID:
        ancestry = [r.id for r in self.regions.ancestry(self.regions.get(community_id))]
        offices = [
            hazards.Office(o.id, o.department, o.region_id) for o in self.regions.organizations()
        ]
        org = hazards.route(category, ancestry, offices)
        if org is None:
            raise NoDepartment("category")
        return org

    def mine(self, resident_id: uuid.UUID, limit: int = 50) -> list[HazardReport]:
        """The resident's reports, newest first."""
        return list(self.repo.of_resident(resident_id, limit))

    # -- the department -------------------------------------------------------------------

    def queue(self, who: Principal, limit: int = 100) -> list[HazardReport]:
        """Open reports routed to the caller's department, oldest first."""
        return list(self.repo.queue(who, [HazardStatus.OPEN], limit))

    def decided(self, who: Principal, limit: int = 20) -> list[HazardReport]:
        """The department's latest decisions."""
        return list(self.repo.decided(who, limit))

    def scoped(self, report_id: uuid.UUID, who: Principal, lock: bool = False) -> HazardReport:
        """A report of the caller's department; anything else reads as not found."""
        report = self.repo.scoped(report_id, who, lock)
        if report is None:
            raise HazardNotFound("report_id")
        return report

    def candidates(self, report: HazardReport, lock: bool = False) -> list[Candidate]:
        """Open or confirmed reports of the same hazard (100 m, 48 h), nearest first."""
        at = report.reported_at
        around = self.repo.around(report.category, at - WINDOW, at + WINDOW, lock)
        found = hazards.duplicates(sighting(report), [sighting(r) for r in around])
        rows = {r.id: r for r in around}
        return [Candidate(rows[s.id], round(m), _mergeable(report, rows[s.id])) for s, m in found]

    def photo(self, report_id: uuid.UUID, who: Principal) -> tuple[Path, str]:
        """The stored photo of a report of the caller's department, and its type."""
        report = self.scoped(report_id, who)
        if not report.photo_path:  # erased at the reporter's request (PIPL)
            raise HazardNotFound("report_id")
        path = blob_path(self.ctx.settings.uploads_dir, report.photo_path)
        return path, _MIME.get(path.suffix, report.photo_mime)

    def decide(
        self, report_id: uuid.UUID, body: HazardDecision, who: Principal, now: datetime
    ) -> HazardReport:
        """Confirm (a first report earns points), merge into the first report, or reject."""
        report = self.scoped(report_id, who)
        # The report and every report of its window are locked together, in id order, so two
        # decisions on reports of one hazard queue (never deadlock) and the second sees the first.
        others = self.candidates(report, lock=True)
        self.session.refresh(report)
        if report.status != HazardStatus.OPEN:
            zh, en = STATUS_WORDS[HazardStatus(report.status)]
            raise HazardDecided("report_id", status_zh=zh, status_en=en)
        if body.decision == "confirm":
            if any(c.report.status == HazardStatus.CONFIRMED for c in others):
                raise AlreadyConfirmed("decision")
            report.status = HazardStatus.CONFIRMED
            report.points = self._award(report, who, now)
        elif body.decision == "merge":
            target = next((c for c in others if c.report.id == body.duplicate_of), None)
            if target is None or not target.mergeable:
                raise NotADuplicate("duplicate_of")
            report.status, report.duplicate_of = HazardStatus.MERGED, target.report.id
        else:
            report.status = HazardStatus.REJECTED
        report.reason = body.reason
        report.decided_by = who.id
        report.decided_at = now
        self.session.flush()
        return report

    def _award(self, report: HazardReport, who: Principal, now: datetime) -> int:
        """The points of a confirmed first report, through scoring and the ledger (once)."""
        resident = IdentityService(self.session, self.ctx).resident(report.resident_id)
        if not may_process(resident):
            return 0  # not verified or consent withdrawn: no points (said on the page)
        suspended = CaseService(self.session).suspended_until(report.resident_id, now)
        ancestry = self.regions.ancestry(self.regions.get(report.community_id))
        facts = Facts(
            Category.PUBLIC_SUPERVISION,
            0,
            photo=True,
            gps_verified=report.photo_lat is not None,
            suspended=suspended is not None,
            report=True,
        )
        award = ScoringService(self.session).award(
            AwardRequest(
                participation_id=report.id,
                resident_id=report.resident_id,
                wallet=wallet_of(report.resident_id),
                region_ids=[r.id for r in ancestry],
                facts=facts,
                occurred_at=now,
                actor=who.key,
                ref_kind="hazard_report",
            )
        )
        return award.awarded

    def award_of(self, report: HazardReport) -> dict[str, str] | None:
        """The explanation of a confirmed report's points, if decided."""
        row = ScoringService(self.session).award_of(report.id)
        return row.explanation if row else None


def _mergeable(report: HazardReport, other: HazardReport) -> bool:
    """A report merges into a confirmed one, or into an earlier open one."""
    if other.status == HazardStatus.CONFIRMED:
        return True
    return other.status == HazardStatus.OPEN and (other.reported_at, str(other.id)) < (
        report.reported_at,
        str(report.id),
    )
