"""HTTP for donations, the 爱心积分池, allocations and low-income status (thin)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from civicpoints.community.donation_models import Donation
from civicpoints.community.donation_schemas import (
    AllocationCreate,
    AllocationRead,
    BoardLine,
    DonationCreate,
    DonationRead,
    DonationSettingCreate,
    DonationSettingRead,
    LowIncomeRead,
    LowIncomeSet,
    PoolLotRead,
    PoolRead,
    SavedLotRead,
    SavingsMove,
    SavingsRead,
)
from civicpoints.community.donation_settings import DonationSettingService
from civicpoints.community.donations import EXPIRING_DAYS, DonationService
from civicpoints.community.savings import SavingsService
from civicpoints.identity import IdentityService, ResidentCaller, StaffCaller
from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.kit.http import Ctx, DbSession, Idempotent, ReadSession

router = APIRouter(tags=["community 积分捐赠"])
Limit = Annotated[int, Query(ge=1, le=100)]

THANKS = "感谢您的爱心捐赠！积分已进入社区爱心积分池，由民政工作人员分配给困难家庭。"


def donation_read(row: Donation) -> DonationRead:
    """A donation as the API shows it, with its receipt address and the thank-you."""
    out = DonationRead.model_validate(row)
    out.receipt_url = f"/api/v1/me/ledger/{row.receipt_entry_id}/receipt"
    out.thanks = THANKS
    return out


@router.post("/me/donations", response_model=DonationRead, status_code=201)
def donate(
    body: DonationCreate, who: ResidentCaller, db: DbSession, ctx: Ctx, once: Idempotent
) -> DonationRead:
    """Give points to your community's 爱心积分池; they keep their expiry (Idempotency-Key)."""

    def run() -> DonationRead:
        service = DonationService(db)
        resident = IdentityService(db, ctx).resident(who.id)
        key = once.key or str(uuid.uuid4())
        row = service.donate(resident, body.community_id, body.amount, key)
        if body.show_on_board is not None:
            service.set_board(who.id, body.show_on_board)
        return donation_read(row)

    return once(who.key, body, run, 201)


@router.get("/me/donations", response_model=list[DonationRead])
def my_donations(who: ResidentCaller, db: ReadSession, limit: Limit = 20) -> list[DonationRead]:
    """Your donations, newest first, each with its ledger receipt."""
    return [donation_read(r) for r in DonationService(db).my_donations(who.id, limit)]


@router.get("/communities/{community_id}/board", response_model=list[BoardLine])
def board(community_id: uuid.UUID, who: ResidentCaller, db: ReadSession) -> list[BoardLine]:
    """The 爱心榜: donors who opted in, masked name and total; recipients never appear."""
    lines = DonationService(db).board(community_id)
    return [BoardLine(name=n, total=t) for n, t in lines]


@router.get("/communities/{community_id}/pool", response_model=PoolRead)
def pool(community_id: uuid.UUID, who: StaffCaller, db: ReadSession) -> PoolRead:
    """The pool (civil-affairs staff of the community): earliest expiry first."""
    view = DonationService(db).pool(who, community_id)
    soon = utcnow().timestamp() + EXPIRING_DAYS * 86400
    lots = [
        PoolLotRead(
            points=x.remaining,
            expires_at=as_utc(x.expires_at),
            within_30_days=as_utc(x.expires_at).timestamp() <= soon,
        )
        for x in view.lots
    ]
    return PoolRead(
        community_id=community_id,
        balance=view.balance,
        expiring_within_30_days=view.expiring_soon,
        lots=lots,
        low_income_residents=view.low_income,
    )


@router.post(
    "/communities/{community_id}/pool/allocations", response_model=AllocationRead, status_code=201
)
def allocate(
    community_id: uuid.UUID,
    body: AllocationCreate,
    who: StaffCaller,
    db: DbSession,
    ctx: Ctx,
    once: Idempotent,
) -> AllocationRead:
    """Give pool points to a low-income resident of the community (earliest expiry first)."""

    def run() -> AllocationRead:
        service = DonationService(db)
        service.check_staff(who, community_id)
        resident = IdentityService(db, ctx).resident(body.resident_id)
        key = once.key or str(uuid.uuid4())
        row = service.allocate(who, community_id, resident, body.amount, body.reason, key)
        return AllocationRead.model_validate(row)

    return once(who.key, {"community_id": str(community_id), **body.model_dump(mode="json")},
                run, 201)  # fmt: skip


@router.put("/residents/{resident_id}/low-income", response_model=LowIncomeRead)
def set_low_income(
    resident_id: uuid.UUID, body: LowIncomeSet, who: StaffCaller, db: DbSession, ctx: Ctx
) -> LowIncomeRead:
    """Set or clear a resident's low-income status (civil-affairs staff of their community)."""
    resident = IdentityService(db, ctx).resident(resident_id)
    row = DonationService(db).set_low_income(who, resident, body.active, body.reason)
    return LowIncomeRead.model_validate(row)


def _savings_read(db: DbSession, ctx: Ctx, resident_id: uuid.UUID) -> SavingsRead:
    """The resident's savings as the API shows them."""
    view = SavingsService(db).view(IdentityService(db, ctx).resident(resident_id))
    lots = [SavedLotRead(points=x.remaining, expires_at=as_utc(x.expires_at)) for x in view.lots]
    return SavingsRead(balance=view.balance, cap=view.cap, months=view.months, lots=lots)


@router.get("/me/savings", response_model=SavingsRead)
def my_savings(who: ResidentCaller, db: DbSession, ctx: Ctx) -> SavingsRead:
    """Your 积分银行: saved points, the cap, how long saved points last, by expiry."""
    return _savings_read(db, ctx, who.id)


@router.post("/me/savings", response_model=SavingsRead, status_code=201)
def save(body: SavingsMove, who: ResidentCaller, db: DbSession, ctx: Ctx, once: Idempotent) -> Any:
    """Move points into savings: valid 24 months from earning (region setting), up to the cap."""

    def run() -> SavingsRead:
        resident = IdentityService(db, ctx).resident(who.id)
        SavingsService(db).save(resident, body.amount, once.key or str(uuid.uuid4()))
        return _savings_read(db, ctx, who.id)

    return once(who.key, body, run, 201)


@router.post("/me/savings/withdrawals", response_model=SavingsRead, status_code=201)
def withdraw(
    body: SavingsMove, who: ResidentCaller, db: DbSession, ctx: Ctx, once: Idempotent
) -> Any:
    """Take saved points back to the wallet; they keep their longer date."""

    def run() -> SavingsRead:
        resident = IdentityService(db, ctx).resident(who.id)
        SavingsService(db).withdraw(resident, body.amount, once.key or str(uuid.uuid4()))
        return _savings_read(db, ctx, who.id)

    return once(who.key, body, run, 201)


@router.get("/community/donation-settings", response_model=list[DonationSettingRead])
def list_donation_settings(who: StaffCaller, db: ReadSession) -> list[DonationSettingRead]:
    """Every version of the donation and points-bank settings, newest first (defaults where
    none applies: 500 points a month, savings last 24 months, at most 5,000 saved)."""
    return [DonationSettingRead.model_validate(r) for r in DonationSettingService(db).versions()]


@router.post("/community/donation-settings", response_model=DonationSettingRead, status_code=201)
def create_donation_setting(
    body: DonationSettingCreate, who: StaffCaller, db: DbSession
) -> DonationSettingRead:
    """Add a version of the donation and points-bank settings for a region or city-wide
    (administrators of it; from today at the earliest). Audited as every staff write."""
    return DonationSettingRead.model_validate(DonationSettingService(db).add(body, who))
