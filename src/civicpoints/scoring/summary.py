"""A resident's points at a glance: balance, this month against the cap, what expires soon.

One function for the API (`GET /me/points`) and the resident's home page.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy.orm import Session

from civicpoints.identity import IdentityService
from civicpoints.kit.clock import as_utc, local_date, month_key
from civicpoints.kit.context import Context
from civicpoints.ledger import LedgerService, wallet_of
from civicpoints.regions import RegionService
from civicpoints.scoring.repository import ScoringRepository
from civicpoints.scoring.service import ScoringService

SOON = timedelta(days=30)


class LotRead(BaseModel):
    """Points earned together that expire together."""

    amount: int
    remaining: int
    earned_at: datetime
    expires_at: datetime


class PointsRead(BaseModel):
    """A resident's points: balance, this month against the cap, lots and what expires soon;
    `owed`: points still owed after a clawback, which the next awards repay first."""

    balance: int
    owed: int = 0
    month: str
    awarded_this_month: int
    monthly_cap: int
    expiring_within_30_days: int
    lots: list[LotRead]


def home_regions(db: Session, ctx: Context, resident_id: uuid.UUID) -> list[uuid.UUID]:
    """The resident's community and its ancestors, most specific first (for the cap shown)."""
    regions = RegionService(db)
    home = regions.get(IdentityService(db, ctx).resident(resident_id).community_id)
    return [r.id for r in regions.ancestry(home)]


def points_summary(db: Session, ctx: Context, resident_id: uuid.UUID, now: datetime) -> PointsRead:
    """Balance, points owed, lots by expiry, what expires within 30 days, this month against
    the cap."""
    wallet = wallet_of(resident_id)
    ledger = LedgerService(db)
    lots = [lot for lot in ledger.lots(wallet) if lot.remaining > 0]
    month = month_key(now)
    used = ScoringRepository(db).month_points(resident_id, month)
    _, rules = ScoringService(db).rules_for(home_regions(db, ctx, resident_id), local_date(now))
    return PointsRead(
        balance=ledger.balance(wallet),
        owed=ledger.debt(wallet),
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
