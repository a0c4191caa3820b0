"""HTTP for rule sets and a resident's points."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel

from civicpoints.identity import Caller, ResidentCaller, StaffCaller
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.http import Ctx, DbSession
from civicpoints.ledger import LedgerService, wallet_of
from civicpoints.scoring.schemas import RuleSetCreate, RuleSetRead, RulesOverview
from civicpoints.scoring.service import ScoringService
from civicpoints.scoring.summary import PointsRead, points_summary

router = APIRouter(tags=["points 积分"])


class EntryRead(BaseModel):
    """One line of a resident's points journal."""

    model_config = {"from_attributes": True}

    id: str
    seq: int
    kind: str
    amount: int
    balance_after: int
    ref: str
    reason: str
    occurred_at: datetime
    entry_hash: str


@router.get("/me/points", response_model=PointsRead)
def my_points(who: ResidentCaller, db: DbSession, ctx: Ctx) -> PointsRead:
    """Balance, lots by expiry, what expires within 30 days, this month against the cap."""
    return points_summary(db, ctx, who.id, utcnow())


@router.get("/me/ledger", response_model=list[EntryRead])
def my_ledger(
    who: ResidentCaller,
    db: DbSession,
    limit: int = Query(50, ge=1, le=200),
    before_seq: int | None = Query(None, ge=1, le=2**62),
) -> list[EntryRead]:
    """The resident's points journal, newest first (page with `before_seq`)."""
    rows = LedgerService(db).entries(wallet_of(who.id), limit, before_seq)
    return [
        EntryRead(
            id=str(e.id),
            seq=e.seq,
            kind=e.kind,
            amount=e.amount,
            balance_after=e.balance_after,
            ref=e.ref,
            reason=e.reason,
            occurred_at=e.occurred_at,
            entry_hash=e.entry_hash,
        )
        for e in rows
    ]


@router.get("/rules", response_model=RulesOverview)
def list_rules(who: Caller, db: DbSession) -> RulesOverview:
    """The rules in force today (Beijing) per region, the seed defaults marked, and every
    stored version."""
    return ScoringService(db).overview(local_date(utcnow()))


@router.post("/rules", response_model=RuleSetRead, status_code=201)
def create_rules(body: RuleSetCreate, who: StaffCaller, db: DbSession) -> RuleSetRead:
    """Add a rule set version (administrators)."""
    scoring = ScoringService(db)
    scoring.check_may_set(who, body.region_id)
    return RuleSetRead.model_validate(scoring.create_rule_set(body, who.id))
