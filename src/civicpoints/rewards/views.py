"""Redemptions and vouchers as the API and the pages show them (names, merchants, results)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from civicpoints.kit.context import Context
from civicpoints.rewards.catalog import CatalogService
from civicpoints.rewards.models import Redemption, Voucher
from civicpoints.rewards.schemas import RedemptionRead, VerifyRead, VoucherRead
from civicpoints.rewards.vouchers import VoucherService


def redemption_view(db: Session, redemption: Redemption) -> RedemptionRead:
    """A redemption with its item's names and its vouchers."""
    catalog = CatalogService(db)
    item = catalog.item(redemption.item_id)
    return RedemptionRead(
        id=redemption.id,
        item_id=item.id,
        item_name=item.name,
        item_name_en=item.name_en,
        quantity=redemption.quantity,
        points=redemption.points,
        status=redemption.status,
        decision_reason=redemption.decision_reason,
        decided_at=redemption.decided_at,
        created_at=redemption.created_at,
        vouchers=[voucher_view(catalog, v) for v in catalog.vouchers_of_redemption(redemption.id)],
        child_id=redemption.child_id,
    )


def voucher_view(catalog: CatalogService, voucher: Voucher) -> VoucherRead:
    """A voucher with what it is for and where it can be used, in both languages."""
    read = VoucherRead.model_validate(voucher)
    item = catalog.item(voucher.item_id)
    read.item_name, read.item_name_en = item.name, item.name_en
    if voucher.merchant_id is not None:
        shop = catalog.merchant(voucher.merchant_id)
        read.merchant, read.merchant_en = shop.name, shop.name_en
    return read


def verified(db: Session, ctx: Context, code: str, staff_id: uuid.UUID) -> VerifyRead:
    """Verify a voucher at the clerk's merchant and say what was used where."""
    voucher, merchant = VoucherService(db, ctx).verify(code, staff_id)
    item = CatalogService(db).item(voucher.item_id)
    assert voucher.used_at is not None
    return VerifyRead(
        code=voucher.code,
        status=voucher.status,
        used_at=voucher.used_at,
        merchant=merchant.name,
        item_name=item.name,
        face_value_fen=voucher.face_value_fen,
    )
