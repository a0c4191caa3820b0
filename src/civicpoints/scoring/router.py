"""HTTP for rule sets and a resident's points."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from civicpoints.access import Role
from civicpoints.identity import Caller, IdentityService, ResidentCaller, StaffCaller
from civicpoints.kit.clock import as_utc, local_date, month_key, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.errors import Forbidden
from civicpoints.kit.http import Ctx, DbSession
from civicpoints.ledger import LedgerService, wallet_of
from civicpoints.regions import RegionService
from civicpoints.scoring.repository import ScoringRepository
from civicpoints.scoring.schemas import RuleSetCreate, RuleSetRead, RulesOverview
from civicpoints.scoring.service import ScoringService

router = APIRouter(tags=["points 积分"])
SOON = timedelta(days=30)


class LotRead(BaseModel):
    """Points earned together that expire together."""

    amount: int
    remaining: int
    earned_at: datetime
    expires_at: datetime


class PointsRead(BaseModel):
    """A resident's points: balance, this month against the cap, lots and what expires soon."""

    balance: int
    month: str
    awarded_this_month: int
    monthly_cap: int
    expiring_within_30_days: int
    lots: list[LotRead]


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


def home_regions(db: Session, ctx: Context, resident_id: uuid.UUID) -> list[uuid.UUID]:
    """The resident's community and its ancestors, most specific first (for the cap shown)."""
    regions = RegionService(db)
    home = regions.get(IdentityService(db, ctx).resident(resident_id).community_id)
    return [r.id for r in regions.ancestry(home)]


@router.get("/me/points", response_model=PointsRead)
def my_points(who: ResidentCaller, db: DbSession, ctx: Ctx) -> PointsRead:
    """Balance, lots by expiry, what expires within 30 days, this month against the cap."""
    now, wallet = utcnow(), wallet_of(who.id)
    ledger = LedgerService(db)
    lots = [lot for lot in ledger.lots(wallet) if lot.remaining > 0]
    month = month_key(now)
    used = ScoringRepository(db).month_points(who.id, month)
    _, rules = ScoringService(db).rules_for(home_regions(db, ctx, who.id), local_date(now))
    return PointsRead(
        balance=ledger.balance(wallet),
        month=month,
        awarded_this_month=used,
        monthly_cap=rules.monthly_cap,
        expiring_within_30_days=sum(
            x.remaining for x in lots if as_utc(x.expires_at) <= now + SOON
        ),
        lots=[
            LotRead(
                amount=x.amount,
                remaining=x.remaining,
                earned_at=x.earned_at,
                expires_at=x.expires_at,
            )
            for x in lots
        ],
    )


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
    if body.region_id is None:
        allowed = who.may_citywide(Role.ADMIN)
    else:
        allowed = who.may(Role.ADMIN, RegionService(db).get(body.region_id).path)
    if not allowed:
        raise Forbidden()
    return RuleSetRead.model_validate(ScoringService(db).create_rule_set(body, who.id))
