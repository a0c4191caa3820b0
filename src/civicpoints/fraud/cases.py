"""Confirmed fraud: cases with the sanction ladder, suspensions, and appeals. Never commits.

Activities (above this domain) says which record, in which region, and why; this domain
decides the step of the ladder, keeps the append-only rows and answers whether a resident
may earn. Taking points back and giving them back is `clawback.py`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.fraud import ladder
from civicpoints.fraud.case_repository import CaseRepository
from civicpoints.fraud.errors import AppealRefused, CaseNotFound, EarningSuspended, NotClawable
from civicpoints.fraud.models import Appeal, AppealDecision, Case, CaseKind
from civicpoints.fraud.policies import PolicyService
from civicpoints.fraud.schemas import PolicySettings
from civicpoints.kit.clock import BUSINESS_TZ, local_date
from civicpoints.regions import RegionService


@dataclass(frozen=True)
class Finding:
    """A record found false: whose, where (for scope and policy) and why."""

    resident_id: uuid.UUID
    participation_id: uuid.UUID
    region_ids: list[uuid.UUID]  # the activity's region first, then its ancestors
    organization_id: uuid.UUID
    reason: str
    signals: list[str]


@dataclass(frozen=True)
class CaseView:
    """A case as its resident sees it: the appeal filed, its decision, the deadline."""

    case: Case
    appeal: Appeal | None
    decision: AppealDecision | None
    appeal_closes: datetime

    @property
    def withdrawn(self) -> bool:
        """Whether an upheld appeal withdrew the case."""
        return self.decision is not None and self.decision.upheld


class CaseService:
    """Cases, the ladder and suspensions."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repo = CaseRepository(session)
        self.policies = PolicyService(session)

    def confirm(
        self, finding: Finding, kind: CaseKind, by: Principal, now: datetime, **taken: object
    ) -> Case:
        """Record a confirmed fraud and the step of the ladder it brings (once per record).

        `taken` carries what a clawback took: points_taken, debt, minutes_removed and the
        ledger's clawback_id."""
        if self.repo.case_of(finding.participation_id) is not None:
            raise NotClawable(
                "participation_id",
                why_zh="该记录已作为虚假记录处理过",
                why_en="this record was already dealt with as false",
            )
        policy = self.policy(finding.region_ids, now)
        earlier = self.repo.standing_since(finding.resident_id, ladder.window_start(now, policy))
        step = ladder.step(earlier, now, policy)
        case = Case(
            resident_id=finding.resident_id,
            participation_id=finding.participation_id,
            region_id=finding.region_ids[0],
            organization_id=finding.organization_id,
            kind=kind,
            reason=finding.reason,
            signals=sorted(set(finding.signals)),
            sanction=step.sanction,
            suspended_until=step.suspended_until,
            credit_record=step.credit_record,
            decided_by=by.id,
            decided_at=now,
            **taken,
        )
        self.repo.add(case)
        return case

    def policy(self, region_ids: list[uuid.UUID], now: datetime) -> PolicySettings:
        """The risk policy in force on `now`'s Beijing date for the region."""
        return self.policies.in_force(region_ids, local_date(now))[1]

    def require_may_earn(self, resident_id: uuid.UUID, now: datetime) -> None:
        """Refuse (403) a resident whose earning is suspended, saying until when."""
        suspended = self.repo.suspensions(resident_id, now)
        if not suspended or suspended[0].suspended_until is None:
            return
        until = suspended[0].suspended_until.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")
        count = len(self.repo.of_resident(resident_id))
        # `ends` (not in the messages): the moment, for pages that write it in their own words
        raise EarningSuspended(
            "resident", count=count, until=until, ends=suspended[0].suspended_until
        )

    def suspended_until(self, resident_id: uuid.UUID, now: datetime) -> datetime | None:
        """When the resident's suspension ends (None: they may earn)."""
        suspended = self.repo.suspensions(resident_id, now)
        return suspended[0].suspended_until if suspended else None

    def of_record(self, participation_id: uuid.UUID, now: datetime) -> CaseView | None:
        """The case a record was found false in (once per record) with its appeal, if any."""
        case = self.repo.case_of(participation_id)
        return self._view(case, now) if case else None

    def cases_of(self, resident_id: uuid.UUID, now: datetime) -> list[CaseView]:
        """The resident's cases with their appeals, newest first."""
        return [self._view(case, now) for case in self.repo.of_resident(resident_id)]

    def _view(self, case: Case, now: datetime) -> CaseView:
        appeal = self.repo.appeal_of(case.id)
        decision = self.repo.decision(appeal.id) if appeal else None
        closes = ladder.appeal_closes(case.decided_at, self.policy([case.region_id], now))
        return CaseView(case, appeal, decision, closes)

    def own(self, case_id: uuid.UUID, resident_id: uuid.UUID) -> Case:
        """One of the resident's own cases; anyone else's reads as not found."""
        case = self.repo.case(case_id)
        if case is None or case.resident_id != resident_id:
            raise CaseNotFound("case_id")
        return case

    def file_appeal(
        self,
        case: Case,
        reason: str,
        now: datetime,
        evidence: tuple[str, str] | None = None,
    ) -> Appeal:
        """File the one appeal a case allows, within the policy's days; `evidence` is a
        stored photo's (sha256, path)."""
        if self.repo.appeal_of(case.id) is not None:
            raise AppealRefused("case_id", why_zh="此处理已申诉过", why_en="already appealed")
        policy = self.policy([case.region_id], now)
        if not ladder.appeal_open(case.decided_at, now, policy):
            raise AppealRefused(
                "case_id",
                why_zh=f"申诉期（{policy.appeal_days} 天）已过",
                why_en=f"the {policy.appeal_days} days to appeal have passed",
            )
        appeal = Appeal(
            case_id=case.id,
            resident_id=case.resident_id,
            reason=reason,
            evidence_sha256=evidence[0] if evidence else None,
            evidence_path=evidence[1] if evidence else None,
            filed_at=now,
        )
        self.repo.add(appeal)
        return appeal

    def scoped_appeal(
        self, appeal_id: uuid.UUID, by: Principal, lock: bool = True
    ) -> tuple[Appeal, Case]:
        """An appeal and its case, if `by` reviews the case's region; else not found (locked
        to be decided once; `lock=False` to read it, e.g. its photo)."""
        appeal = self.repo.appeal(appeal_id, lock=lock)
        case = self.repo.case(appeal.case_id) if appeal else None
        if appeal is None or case is None:
            raise CaseNotFound("appeal_id")
        path = RegionService(self.session).get(case.region_id).path
        if not by.may(Role.REVIEWER, path, case.organization_id):
            raise CaseNotFound("appeal_id")
        return appeal, case

    def decide_appeal(
        self, appeal_id: uuid.UUID, upheld: bool, reason: str, by: Principal, now: datetime
    ) -> tuple[Case, AppealDecision]:
        """Decide an appeal once, by a reviewer other than the one who decided the case."""
        appeal, case = self.scoped_appeal(appeal_id, by)
        if case.decided_by == by.id:
            raise AppealRefused(
                "appeal_id",
                why_zh="申诉须由另一位审核员处理",
                why_en="an appeal must be decided by another reviewer",
            )
        if self.repo.decision(appeal.id) is not None:
            raise AppealRefused("appeal_id", why_zh="此申诉已处理", why_en="already decided")
        decision = AppealDecision(
            appeal_id=appeal.id, upheld=upheld, reason=reason, decided_by=by.id, decided_at=now
        )
        self.repo.add(decision)
        return case, decision

    def open_appeals(self, by: Principal, limit: int = 100) -> list[tuple[Appeal, Case]]:
        """Undecided appeals `by` may decide, oldest first."""
        return list(self.repo.open_appeals(by, limit))
