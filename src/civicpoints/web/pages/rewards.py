"""The rewards mall (积分商城): what you can have first, an item, a confirmation page, done.

Redeeming calls the API's own `RedemptionService.redeem`; the confirmation form carries an
idempotency key made when the page was shown, so a double submit redeems once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import APIRouter
from fastapi.responses import Response

from civicpoints.kit.clock import utcnow
from civicpoints.kit.errors import DomainError
from civicpoints.ledger import HoldService, wallet_of
from civicpoints.regions import RegionService
from civicpoints.rewards import (
    CatalogService,
    Fulfilment,
    Item,
    RedemptionService,
    Refusal,
)
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, ResidentPage

router = APIRouter(include_in_schema=False)
SHOWN = 200  # items on the mall's one page (the demo catalog has a dozen)
PERIODS = {"month": "this month", "year": "this year", "ever": "so far"}


@dataclass(frozen=True)
class Offer:
    """An item as the mall shows it: where to use it and why not, if not."""

    item: Item
    where: str
    why_not: str


def why_not(p: Page, refusal: Refusal | None) -> str:
    """A refusal in a few words: '还差 20 分', '仅限 60 岁以上' ('' when there is none)."""
    if refusal is None:
        return ""
    a = refusal.params
    texts = {
        "points": lambda: p._("%(n)s more points needed", n=a.get("short")),
        "age": lambda: _age(p, a),
        "region": lambda: p._("Only for residents of certain areas"),
        "low_income": lambda: p._("Only for certified low-income residents"),
        "limit": lambda: p._("You have had all %(n)s allowed", n=a.get("limit")),
        "stock": lambda: p._("All gone"),
        "unverified": lambda: p._("Verify your real name first"),
        "not_yet": lambda: p._("Not open yet"),
        "consent": lambda: p._("You withdrew your consent"),
    }
    return texts.get(refusal.reason, lambda: p._("Not available now"))()


def _age(p: Page, a: dict[str, object]) -> str:
    low, high = a.get("low"), a.get("high")
    if not low:
        return p._("Only for ages %(high)s and under", high=high)
    if high in (None, "—"):
        return p._("Only for ages %(low)s and over", low=low)
    return p._("Only for ages %(low)s to %(high)s", low=low, high=high)


def where(p: Page, item: Item) -> str:
    """Where a voucher is used, or who decides an application."""
    if item.fulfilment == Fulfilment.VOUCHER and item.merchant_id is not None:
        shop = CatalogService(p.db).merchant(item.merchant_id)
        name = shop.name_en if p.locale == "en" else shop.name
        return f"{name} · {shop.address}" if shop.address else name
    if item.department_id is not None:
        org = RegionService(p.db).organization(item.department_id)
        return p._("Decided by %(org)s", org=org.name)
    return ""


def offers(p: Page, items: list[Item]) -> list[Offer]:
    """Items with where and why not: what the resident may have now first, cheapest first."""
    assert p.who is not None
    refusals = RedemptionService(p.db, p.ctx).refusals(p.who.id, items, utcnow())
    rows = [Offer(i, where(p, i), why_not(p, refusals[i.id])) for i in items]
    return sorted(rows, key=lambda o: (bool(o.why_not), o.item.price_points))


def available(p: Page) -> int:
    """Points the resident can spend now (balance less what vouchers hold)."""
    assert p.who is not None
    return HoldService(p.db).available(wallet_of(p.who.id), utcnow())


@router.get("/rewards")
def mall(p: ResidentPage) -> Response:
    """The rewards mall: what you can have now first, then the rest, each saying why not."""
    assert p.who is not None
    scope = RedemptionService(p.db, p.ctx).home_regions(p.who.id)
    items = CatalogService(p.db).browse(None, None, scope, None, SHOWN, utcnow())
    rows = offers(p, items)
    return p.render(
        "resident/rewards.html",
        ready=[o for o in rows if not o.why_not],
        rest=[o for o in rows if o.why_not],
        available=available(p),
    )


def _offer(p: Page, item_id: uuid.UUID) -> Offer:
    item = CatalogService(p.db).item(item_id)
    return offers(p, [item])[0]


@router.get("/rewards/{item_id}")
def item_page(p: ResidentPage, item_id: uuid.UUID) -> Response:
    """One item: what it is, its price, where to use it, and whether you can have it."""
    return p.render("resident/reward.html", offer=_offer(p, item_id), available=available(p))


def _confirm_page(p: Page, item_id: uuid.UUID, status: int, errors: FormErrors) -> Response:
    return p.render(
        "resident/reward_confirm.html",
        status,
        offer=_offer(p, item_id),
        available=available(p),
        key=str(uuid.uuid4()),
        errors=errors,
    )


@router.get("/rewards/{item_id}/confirm")
def confirm_form(p: ResidentPage, item_id: uuid.UUID) -> Response:
    """The confirmation page: points before and after, one button to confirm."""
    return _confirm_page(p, item_id, 200, FormErrors())


@router.post("/rewards/{item_id}/confirm")
async def redeem(p: ResidentPage, item_id: uuid.UUID) -> Response:
    """Redeem one, as `POST /api/v1/redemptions` does; a resubmitted form redeems once."""
    assert p.who is not None
    values = await form_data(p.request, ("key",))
    key = f"web:{values['key'][:100] or uuid.uuid4()}"
    try:
        done = RedemptionService(p.db, p.ctx).redeem(p.who.id, item_id, 1, key)
    except DomainError as exc:
        status = 404 if exc.status == 404 else 409
        return _confirm_page(p, item_id, status, FormErrors.of(exc, p.locale))
    return p.redirect(f"/redemptions/{done.id}")


@router.get("/redemptions/{redemption_id}")
def done(p: ResidentPage, redemption_id: uuid.UUID) -> Response:
    """After redeeming: the voucher(s) to show, or the application waiting for its decision."""
    assert p.who is not None
    service = RedemptionService(p.db, p.ctx)
    redemption = service.redemption_of(p.who.id, redemption_id)
    item = CatalogService(p.db).item(redemption.item_id)
    return p.render(
        "resident/redeemed.html",
        redemption=redemption,
        item=item,
        vouchers=service.vouchers_of(redemption),
        available=available(p),
    )
