"""The shop counter (核销): type or scan a code, check it, verify it once.

The code travels in form bodies only (never a URL). Checking and verifying call the API's
own `VoucherService.seen_by` and `VoucherService.verify` (`/voucher-checks`,
`/voucher-verifications`): a clerk never sees or uses another merchant's voucher.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from civicpoints.kit.clock import utcnow
from civicpoints.kit.errors import DomainError
from civicpoints.rewards import CatalogService, Voucher, VoucherCode, VoucherService
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, StaffPage

router = APIRouter(include_in_schema=False)


def _counter(p: Page, status: int = 200, **data: object) -> Response:
    """The counter page: the code form, today's verifications, the month's total."""
    assert p.who is not None
    day = VoucherService(p.db, p.ctx).counter_day(p.who.id, utcnow())
    catalog = CatalogService(p.db)
    items = {v.item_id: catalog.item(v.item_id) for v in day.today}
    data.setdefault("errors", FormErrors())
    data.setdefault("values", {})
    return p.render("merchant/counter.html", status, counter=day, items=items, **data)


def _shown(p: Page, voucher: Voucher) -> dict[str, Any]:
    """What the clerk sees of a voucher: item, value, the owner masked."""
    service = VoucherService(p.db, p.ctx)
    name, phone = service.holder(voucher)
    return {
        "voucher": voucher,
        "item": CatalogService(p.db).item(voucher.item_id),
        "owner": name,
        "phone": phone,
    }


def _refused(p: Page, exc: DomainError | ValidationError, code: str) -> Response:
    """The counter again with a big refusal (not this shop's, unknown, used…)."""
    status = 422 if isinstance(exc, ValidationError) else exc.status
    title = exc.title_in(p.locale) if isinstance(exc, DomainError) else ""
    errors = FormErrors.of(exc, p.locale)
    return _counter(p, status, errors=errors, values={"code": code}, refusal=title)


@router.get("/merchant")
def counter(p: StaffPage) -> Response:
    """The counter page for a merchant's clerk."""
    return _counter(p)


@router.post("/merchant/check")
async def check(p: StaffPage) -> Response:
    """Look a typed or scanned code up before using it (spaces and lower case are fine)."""
    assert p.who is not None
    code = (await form_data(p.request, ("code",)))["code"]
    service = VoucherService(p.db, p.ctx)
    try:
        voucher = service.seen_by("staff", p.who.id, VoucherCode(code=code).code)
    except (DomainError, ValidationError) as exc:
        return _refused(p, exc, code)
    refusal = service.refusal(voucher, service.merchant_of(p.who.id))
    if refusal is not None:
        return _refused(p, refusal, code)
    return p.render("merchant/check.html", **_shown(p, voucher))


@router.post("/merchant/verify")
async def verify(p: StaffPage) -> Response:
    """Use the voucher once, as `POST /api/v1/voucher-verifications` does."""
    assert p.who is not None
    code = (await form_data(p.request, ("code",)))["code"]
    try:
        voucher, _shop = VoucherService(p.db, p.ctx).verify(VoucherCode(code=code).code, p.who.id)
    except (DomainError, ValidationError) as exc:
        return _refused(p, exc, code)
    return p.redirect(f"/merchant/verified/{voucher.id}")


@router.get("/merchant/verified/{voucher_id}")
def verified_page(p: StaffPage, voucher_id: uuid.UUID) -> Response:
    """核销成功: what was used, when; only for the merchant where it was used."""
    assert p.who is not None
    voucher = VoucherService(p.db, p.ctx).verified_here(p.who.id, voucher_id)
    return p.render("merchant/verified.html", **_shown(p, voucher))
