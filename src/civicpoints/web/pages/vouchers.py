"""My vouchers: the list, the page shown at the counter (QR code), and cancelling.

Voucher pages are addressed by the voucher's id, never its code (codes stay out of URLs and
access logs); another resident's id is a 404 like the API's. Cancelling calls the API's
`RedemptionService.cancel`.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from civicpoints.kit.errors import DomainError
from civicpoints.kit.qr import qr_svg
from civicpoints.rewards import CatalogService, RedemptionService, Voucher, VoucherService
from civicpoints.web.pages.forms import FormErrors
from civicpoints.web.pages.kit import Page, ResidentPage

router = APIRouter(include_in_schema=False)
SHOWN = 100
GROUPS = ("issued", "used", "expired", "cancelled")


def _voucher(p: Page, voucher_id: uuid.UUID) -> Voucher:
    assert p.who is not None
    return VoucherService(p.db, p.ctx).owned_by_id(p.who.id, voucher_id)


def _named(p: Page, voucher: Voucher) -> dict[str, Any]:
    """What a voucher page shows besides the voucher: its item and merchant."""
    catalog = CatalogService(p.db)
    shop = catalog.merchant(voucher.merchant_id) if voucher.merchant_id else None
    used_at = catalog.merchant(voucher.used_merchant_id) if voucher.used_merchant_id else None
    return {
        "item": catalog.item(voucher.item_id),
        "shop": shop,
        "used_at_shop": used_at,
        "last_day": last_day(voucher),
    }


def last_day(voucher: Voucher) -> datetime:
    """The last moment a voucher works (valid through the Beijing day before `valid_until`)."""
    return voucher.valid_until - timedelta(seconds=1)


@router.get("/vouchers")
def my_vouchers(p: ResidentPage) -> Response:
    """My vouchers by state (ready to use first), and my applications."""
    assert p.who is not None
    catalog = CatalogService(p.db)
    rows = catalog.vouchers_of(p.who.id, SHOWN)
    items = {i: catalog.item(i) for i in {v.item_id for v in rows}}
    groups = [(g, [v for v in rows if v.status == g]) for g in GROUPS]
    applications = [
        (r, catalog.item(r.item_id))
        for r in catalog.redemptions_of(p.who.id, SHOWN)
        if catalog.item(r.item_id).fulfilment != "voucher"
    ]
    return p.render(
        "resident/vouchers.html",
        groups=groups,
        items=items,
        applications=applications,
        last_day=last_day,
    )


@router.get("/vouchers/{voucher_id}")
def voucher_page(p: ResidentPage, voucher_id: uuid.UUID) -> Response:
    """The voucher to show at the counter: QR code, the code in groups of four, the facts."""
    voucher = _voucher(p, voucher_id)
    label = p._("QR code of voucher %(code)s", code=voucher.code.replace("-", " "))
    qr = qr_svg(voucher.code, label) if voucher.status == "issued" else ""
    return p.render("resident/voucher.html", voucher=voucher, qr=qr, **_named(p, voucher))


def _cancel_page(p: Page, voucher: Voucher, status: int, errors: FormErrors) -> Response:
    others = [
        v
        for v in CatalogService(p.db).vouchers_of_redemption(voucher.redemption_id)
        if v.status == "issued" and v.id != voucher.id
    ]
    return p.render(
        "resident/voucher_cancel.html",
        status,
        voucher=voucher,
        others=others,
        errors=errors,
        **_named(p, voucher),
    )


@router.get("/vouchers/{voucher_id}/cancel")
def cancel_form(p: ResidentPage, voucher_id: uuid.UUID) -> Response:
    """Cancel: what happens (points back, the voucher no longer works), then confirm."""
    return _cancel_page(p, _voucher(p, voucher_id), 200, FormErrors())


@router.post("/vouchers/{voucher_id}/cancel")
def cancel(p: ResidentPage, voucher_id: uuid.UUID) -> Response:
    """Cancel the voucher's redemption, as `POST /api/v1/redemptions/{id}/cancel` does."""
    assert p.who is not None
    voucher = _voucher(p, voucher_id)
    try:
        RedemptionService(p.db, p.ctx).cancel(p.who.id, voucher.redemption_id)
    except DomainError as exc:
        return _cancel_page(p, voucher, 409, FormErrors.of(exc, p.locale))
    return p.redirect(f"/vouchers/{voucher.id}")
