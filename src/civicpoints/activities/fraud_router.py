"""HTTP for confirmed false records: a resident's cases and appeals, reviewers' decisions."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from civicpoints.activities.fraud_desk import FraudDesk
from civicpoints.fraud import (
    AppealCreate,
    AppealDecisionRead,
    AppealRead,
    CaseRead,
    CaseService,
    ClawbackAsk,
    OpenAppealRead,
    PolicyPreview,
    PolicyPreviewAsk,
)
from civicpoints.identity import ResidentCaller, StaffCaller
from civicpoints.kit import months
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.http import Ctx, DbSession
from civicpoints.kit.schemas import Decision

router = APIRouter(tags=["fraud 风控"])


@router.get("/me/cases", response_model=list[CaseRead])
def my_cases(who: ResidentCaller, db: DbSession) -> list[CaseRead]:
    """My records found false, what they brought, and my appeals."""
    return [CaseRead.of(v) for v in CaseService(db).cases_of(who.id, utcnow())]


@router.post("/me/cases/{case_id}/appeal", response_model=CaseRead, status_code=201)
def appeal(
    case_id: uuid.UUID, body: AppealCreate, who: ResidentCaller, db: DbSession, ctx: Ctx
) -> CaseRead:
    """Appeal one of my cases (once, within the policy's days); another reviewer decides."""
    FraudDesk(db, ctx).file_appeal(case_id, who.id, body.reason, None)
    views = CaseService(db).cases_of(who.id, utcnow())
    return CaseRead.of(next(v for v in views if v.case.id == case_id))


@router.get("/appeals", response_model=list[OpenAppealRead])
def open_appeals(who: StaffCaller, db: DbSession) -> list[OpenAppealRead]:
    """Appeals waiting for me: in my scope, never against a case I decided."""
    return [
        OpenAppealRead(
            appeal=AppealRead(
                id=a.id,
                case_id=a.case_id,
                reason=a.reason,
                has_photo=a.evidence_path is not None,
                filed_at=a.filed_at,
            ),
            case_id=c.id,
            participation_id=c.participation_id,
            case_reason=c.reason,
            sanction=c.sanction,
            decided_at=c.decided_at,
        )
        for a, c in CaseService(db).open_appeals(who)
    ]


@router.post("/appeals/{appeal_id}/decision", response_model=AppealDecisionRead)
def decide_appeal(
    appeal_id: uuid.UUID, body: Decision, who: StaffCaller, db: DbSession, ctx: Ctx
) -> AppealDecisionRead:
    """Uphold an appeal (the case is withdrawn, the record paid or restored) or refuse it."""
    decision = FraudDesk(db, ctx).decide_appeal(appeal_id, body.approve, body.reason, who)
    return AppealDecisionRead.model_validate(decision)


@router.post("/fraud/policies/preview", response_model=PolicyPreview)
def preview_policy(
    body: PolicyPreviewAsk, who: StaffCaller, db: DbSession, ctx: Ctx
) -> PolicyPreview:
    """How many of a past month's records (default: last month) the policy in force and the
    proposed one would approve, send to review and refuse (administrators of the region)."""
    desk = FraudDesk(db, ctx)
    desk.cases.policies.check_may_set(who, body.region_id)
    today = local_date(utcnow())
    first = months.first_of(body.month) if body.month else months.last_full_month(today)
    return desk.preview(body.region_id, body.settings, first)


@router.post("/participations/{participation_id}/clawback", response_model=CaseRead)
def claw_back(
    participation_id: uuid.UUID, body: ClawbackAsk, who: StaffCaller, db: DbSession, ctx: Ctx
) -> CaseRead:
    """Take back an approved record found false (reviewers and auditors over it): points
    (their own lots first; what was spent becomes debt), hours, and a step on the ladder."""
    case = FraudDesk(db, ctx).claw_back(participation_id, body.reason, who)
    views = CaseService(db).cases_of(case.resident_id, utcnow())
    return CaseRead.of(next(v for v in views if v.case.id == case.id))
