"""HTTP for what administrators and auditors run: sponsors, merchants, budget, settlement."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from civicpoints.identity import StaffCaller
from civicpoints.kit.http import DbSession
from civicpoints.rewards.access import require_admin, require_reader, settlement_scope
from civicpoints.rewards.budget import MONTH, XLSX, BudgetService, settlement_file
from civicpoints.rewards.catalog import CatalogService
from civicpoints.rewards.schemas import (
    BudgetRead,
    ClerkCreate,
    LowIncomeCreate,
    MerchantCreate,
    MerchantRead,
    SettlementRead,
    SponsorCreate,
    SponsorRead,
    ValuationCreate,
    ValuationRead,
)

router = APIRouter(tags=["budget and merchants 预算与商户"])
Month = Query(pattern=MONTH.pattern, description="Beijing calendar month, YYYY-MM")
FILES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, XLSX: {}}, "description": "CSV or XLSX file"}
}


def merchant_read(catalog: CatalogService, merchant_id: uuid.UUID) -> MerchantRead:
    """A merchant with its clerks."""
    merchant = catalog.merchant(merchant_id)
    read = MerchantRead.model_validate(merchant)
    read.clerk_ids = catalog.clerk_ids(merchant.id)
    return read


@router.get("/sponsors", response_model=list[SponsorRead])
def sponsors(who: StaffCaller, db: DbSession) -> list[SponsorRead]:
    """Funding sources (government budget, enterprise sponsorships)."""
    require_reader(who)
    return [SponsorRead.model_validate(s) for s in CatalogService(db).sponsors()]


@router.post("/sponsors", response_model=SponsorRead, status_code=201)
def add_sponsor(body: SponsorCreate, who: StaffCaller, db: DbSession) -> SponsorRead:
    """Add a funding source (administrators)."""
    require_admin(who)
    return SponsorRead.model_validate(CatalogService(db).add_sponsor(body))


@router.get("/merchants", response_model=list[MerchantRead])
def merchants(who: StaffCaller, db: DbSession) -> list[MerchantRead]:
    """Merchants and their clerks."""
    require_reader(who)
    catalog = CatalogService(db)
    return [merchant_read(catalog, m.id) for m in catalog.merchants()]


@router.post("/merchants", response_model=MerchantRead, status_code=201)
def add_merchant(body: MerchantCreate, who: StaffCaller, db: DbSession) -> MerchantRead:
    """Add a merchant (administrators)."""
    require_admin(who)
    catalog = CatalogService(db)
    return merchant_read(catalog, catalog.add_merchant(body).id)


@router.post("/merchants/{merchant_id}/clerks", response_model=MerchantRead, status_code=201)
def add_clerk(
    merchant_id: uuid.UUID, body: ClerkCreate, who: StaffCaller, db: DbSession
) -> MerchantRead:
    """Make a staff member a clerk of the merchant (administrators)."""
    require_admin(who)
    catalog = CatalogService(db)
    catalog.add_clerk(catalog.merchant(merchant_id), body.staff_id)
    return merchant_read(catalog, merchant_id)


@router.get("/valuations", response_model=list[ValuationRead])
def valuations(who: StaffCaller, db: DbSession) -> list[ValuationRead]:
    """Valuation versions (fen per point), newest first."""
    require_reader(who)
    return [ValuationRead.model_validate(v) for v in CatalogService(db).valuations()]


@router.post("/valuations", response_model=ValuationRead, status_code=201)
def add_valuation(body: ValuationCreate, who: StaffCaller, db: DbSession) -> ValuationRead:
    """Set what a point is worth from a date on (administrators)."""
    require_admin(who)
    return ValuationRead.model_validate(CatalogService(db).add_valuation(body))


@router.post("/low-income", response_model=LowIncomeCreate, status_code=201)
def certify(body: LowIncomeCreate, who: StaffCaller, db: DbSession) -> LowIncomeCreate:
    """Certify a resident as low-income for eligibility (administrators)."""
    require_admin(who)
    CatalogService(db).certify_low_income(body.resident_id, who.id, body.note)
    return body


@router.get("/budget", response_model=BudgetRead)
def budget(who: StaffCaller, db: DbSession) -> BudgetRead:
    """Liability, budget per sponsor, value redeemed, and the alert when liability exceeds it."""
    require_reader(who)
    return BudgetService(db).figures()


@router.get("/settlements", response_model=SettlementRead)
def settlement(who: StaffCaller, db: DbSession, month: str = Month) -> SettlementRead:
    """A month's settlement per merchant and sponsor, each line traceable to the ledger."""
    return BudgetService(db).settlement(month, settlement_scope(who, db))


@router.get("/settlements/export", response_class=Response, responses=FILES)
def export(
    who: StaffCaller,
    db: DbSession,
    month: str = Month,
    format: str = Query("csv", pattern="^(csv|xlsx)$"),
) -> Response:
    """The settlement as CSV or XLSX."""
    report = BudgetService(db).settlement(month, settlement_scope(who, db))
    body, media_type, name = settlement_file(report, format)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media_type, headers=headers)
