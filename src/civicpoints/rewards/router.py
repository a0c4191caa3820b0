"""HTTP for the catalog, redemptions and vouchers (thin: the services decide)."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from civicpoints.identity import Caller, ResidentCaller, StaffCaller
from civicpoints.kit.clock import utcnow
from civicpoints.kit.http import Ctx, DbSession, Idempotent
from civicpoints.kit.schemas import Decision
from civicpoints.ledger import HoldService, wallet_of
from civicpoints.regions import RegionService
from civicpoints.rewards.access import require_admin
from civicpoints.rewards.catalog import CatalogService
from civicpoints.rewards.codes import qr_png
from civicpoints.rewards.models import Category
from civicpoints.rewards.schemas import (
    CODE_PATTERN,
    ChildRedemptionCreate,
    ItemCreate,
    ItemRead,
    ItemUpdate,
    RedemptionCreate,
    RedemptionRead,
    VerifyRead,
    VoucherCode,
    VoucherRead,
)
from civicpoints.rewards.service import RedemptionService
from civicpoints.rewards.views import redemption_view, verified, voucher_view
from civicpoints.rewards.vouchers import VoucherService

# A code in a path: the same characters as in a body (anything else is a 422, not a lookup).
CodeInPath = Annotated[str, Path(min_length=1, max_length=64, pattern=CODE_PATTERN)]

router = APIRouter(tags=["rewards 积分兑换"])
Limit = Annotated[int, Query(ge=1, le=200)]
PNG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": {}}, "description": "QR code PNG"}
}


@router.get("/rewards", response_model=list[ItemRead])
def browse(
    who: Caller,
    db: DbSession,
    ctx: Ctx,
    category: Category | None = None,
    affordable: bool = Query(False, description="residents: only what their points can buy"),
    region_id: uuid.UUID | None = Query(None, description="only items open to this region"),
    limit: Limit = 50,
    cursor: uuid.UUID | None = Query(None, description="the last item id of the previous page"),
) -> list[ItemRead]:
    """The catalog (积分商城): open items by category, affordability and region."""
    regions = RegionService(db)
    scope: set[str] | None = None
    if region_id is not None:
        scope = {str(r.id) for r in regions.ancestry(regions.get(region_id))}
    elif who.kind == "resident":
        scope = RedemptionService(db, ctx).home_regions(who.id)
    max_price = None
    if affordable and who.kind == "resident":
        max_price = HoldService(db).available(wallet_of(who.id))
    items = CatalogService(db).browse(category, max_price, scope, cursor, limit, utcnow())
    return [ItemRead.model_validate(i) for i in items]


@router.get("/rewards/{item_id}", response_model=ItemRead)
def get_item(item_id: uuid.UUID, who: Caller, db: DbSession) -> ItemRead:
    """One catalog item."""
    return ItemRead.model_validate(CatalogService(db).item(item_id))


@router.post("/rewards", response_model=ItemRead, status_code=201)
def create_item(body: ItemCreate, who: StaffCaller, db: DbSession) -> ItemRead:
    """Add a catalog item (administrators)."""
    require_admin(who)
    return ItemRead.model_validate(CatalogService(db).create_item(body))


@router.patch("/rewards/{item_id}", response_model=ItemRead)
def update_item(item_id: uuid.UUID, body: ItemUpdate, who: StaffCaller, db: DbSession) -> ItemRead:
    """Change a catalog item; `active: false` withdraws it (administrators)."""
    require_admin(who)
    return ItemRead.model_validate(CatalogService(db).update_item(item_id, body))


@router.delete("/rewards/{item_id}", response_model=ItemRead)
def withdraw_item(item_id: uuid.UUID, who: StaffCaller, db: DbSession) -> ItemRead:
    """Withdraw an item from the catalog (kept for history; issued vouchers stay valid)."""
    require_admin(who)
    return ItemRead.model_validate(
        CatalogService(db).update_item(item_id, ItemUpdate(active=False))
    )


@router.post("/redemptions", response_model=RedemptionRead, status_code=201)
def redeem(
    body: RedemptionCreate,
    who: ResidentCaller,
    db: DbSession,
    ctx: Ctx,
    once: Idempotent,
) -> RedemptionRead:
    """Redeem an item: points are held, vouchers issued (or an application filed)."""

    def run() -> RedemptionRead:
        service = RedemptionService(db, ctx)
        row = service.redeem(who.id, body.item_id, body.quantity, once.key or str(uuid.uuid4()))
        return redemption_view(db, row)

    return once(who.key, body, run, 201)


@router.post("/me/children/{child_id}/redemptions", response_model=RedemptionRead, status_code=201)
def redeem_for_child(
    child_id: uuid.UUID,
    body: ChildRedemptionCreate,
    who: ResidentCaller,
    db: DbSession,
    ctx: Ctx,
    once: Idempotent,
) -> RedemptionRead:
    """Apply for an education entitlement on a confirmed child's behalf, paid from the child's
    education points (教育积分); anything but an education entitlement is refused."""

    def run() -> RedemptionRead:
        service = RedemptionService(db, ctx)
        key = once.key or str(uuid.uuid4())
        row = service.redeem(who.id, body.item_id, body.quantity, key, child_id=child_id)
        return redemption_view(db, row)

    return once(who.key, {"child_id": str(child_id), **body.model_dump(mode="json")}, run, 201)


@router.get("/education/applications", response_model=list[RedemptionRead])
def education_applications(
    who: StaffCaller,
    db: DbSession,
    ctx: Ctx,
    limit: Limit = 50,
    cursor: uuid.UUID | None = Query(None, description="the last id of the previous page"),
) -> list[RedemptionRead]:
    """Applications paid from children's education points whose guardians live in the
    caller's regions (education staff), newest first."""
    rows = RedemptionService(db, ctx).education_applications(who, cursor, limit)
    return [redemption_view(db, r) for r in rows]


@router.get("/me/redemptions", response_model=list[RedemptionRead])
def my_redemptions(who: ResidentCaller, db: DbSession, limit: Limit = 50) -> list[RedemptionRead]:
    """The resident's redemptions, newest first."""
    rows = CatalogService(db).redemptions_of(who.id, limit)
    return [redemption_view(db, r) for r in rows]


@router.get("/redemptions/{redemption_id}", response_model=RedemptionRead)
def get_redemption(
    redemption_id: uuid.UUID, who: ResidentCaller, db: DbSession, ctx: Ctx
) -> RedemptionRead:
    """One of the resident's redemptions."""
    return redemption_view(db, RedemptionService(db, ctx).redemption_of(who.id, redemption_id))


@router.post("/redemptions/{redemption_id}/cancel", response_model=RedemptionRead)
def cancel(
    redemption_id: uuid.UUID,
    who: ResidentCaller,
    db: DbSession,
    ctx: Ctx,
    once: Idempotent,
) -> RedemptionRead:
    """Cancel unused vouchers or a pending application: points back with their expiry."""

    def run() -> RedemptionRead:
        return redemption_view(db, RedemptionService(db, ctx).cancel(who.id, redemption_id))

    return once(who.key, None, run)


@router.post("/redemptions/{redemption_id}/decision", response_model=RedemptionRead)
def decide(
    redemption_id: uuid.UUID,
    body: Decision,
    who: StaffCaller,
    db: DbSession,
    ctx: Ctx,
    once: Idempotent,
) -> RedemptionRead:
    """The owning department approves or denies an entitlement application, with a reason."""
    service = RedemptionService(db, ctx)

    def run() -> RedemptionRead:
        row = service.decide(redemption_id, body.approve, body.reason, who)
        return redemption_view(db, row)

    return once(who.key, body, run)


@router.get("/applications", response_model=list[RedemptionRead])
def applications(
    who: StaffCaller,
    db: DbSession,
    ctx: Ctx,
    limit: Limit = 50,
    cursor: uuid.UUID | None = Query(None, description="the last id of the previous page"),
) -> list[RedemptionRead]:
    """Entitlement applications waiting for a department the caller decides for, newest
    first (paginated with `cursor`)."""
    rows = RedemptionService(db, ctx).applications(who, cursor, limit)
    return [redemption_view(db, r) for r in rows]


@router.get("/me/vouchers", response_model=list[VoucherRead])
def my_vouchers(who: ResidentCaller, db: DbSession, limit: Limit = 50) -> list[VoucherRead]:
    """The resident's vouchers, newest first."""
    rows = CatalogService(db).vouchers_of(who.id, limit)
    catalog = CatalogService(db)
    return [voucher_view(catalog, v) for v in rows]


@router.get("/vouchers/{code}", response_model=VoucherRead)
def get_voucher(code: CodeInPath, who: Caller, db: DbSession, ctx: Ctx) -> VoucherRead:
    """One voucher: its owner's, or for a clerk of its merchant to check before verifying."""
    voucher = VoucherService(db, ctx).seen_by(who.kind, who.id, code)
    return voucher_view(CatalogService(db), voucher)


@router.get("/vouchers/{code}/qr.png", response_class=Response, responses=PNG)
def voucher_qr(code: CodeInPath, who: ResidentCaller, db: DbSession, ctx: Ctx) -> Response:
    """The QR code a resident shows at the shop."""
    voucher = VoucherService(db, ctx).owned(who.id, code)
    return Response(qr_png(voucher.code), media_type="image/png")


@router.post("/vouchers/{code}/verify", response_model=VerifyRead)
def verify_voucher(
    code: CodeInPath,
    who: StaffCaller,
    db: DbSession,
    ctx: Ctx,
    once: Idempotent,
) -> VerifyRead:
    """A merchant clerk uses a voucher (核销), once; a second try says when and where.
    Prefer `POST /voucher-verifications`: a code in a URL lands in access and proxy logs."""
    run = partial(verified, db, ctx, code, who.id)
    return once(who.key, None, run)


@router.post("/voucher-checks", response_model=VoucherRead)
def check_voucher(body: VoucherCode, who: Caller, db: DbSession, ctx: Ctx) -> VoucherRead:
    """`GET /vouchers/{code}` with the code in the body: a clerk checks before verifying."""
    voucher = VoucherService(db, ctx).seen_by(who.kind, who.id, body.code)
    return voucher_view(CatalogService(db), voucher)


@router.post("/voucher-verifications", response_model=VerifyRead)
def verify_voucher_by_body(
    body: VoucherCode,
    who: StaffCaller,
    db: DbSession,
    ctx: Ctx,
    once: Idempotent,
) -> VerifyRead:
    """A merchant clerk uses a voucher (核销), the code in the body (kept out of URLs)."""
    run = partial(verified, db, ctx, body.code, who.id)
    return once(who.key, body, run)
