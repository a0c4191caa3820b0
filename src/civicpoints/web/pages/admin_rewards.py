"""The admin console's money half: catalog, sponsors and valuation, budget, settlement.

Thin like `rewards/router.py` and `rewards/admin_router.py`: the same services, schemas and
access rules (`require_reader` to look, `require_admin` to change), the same messages beside
the field at fault. Money is typed in yuan and handed to the schemas in fen.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import ValidationError

from civicpoints.kit.clock import BUSINESS_TZ, parse_local_datetime, utcnow
from civicpoints.kit.errors import DomainError
from civicpoints.regions import OrgKind, RegionService
from civicpoints.rewards import (
    BudgetService,
    CatalogService,
    Category,
    Fulfilment,
    ItemCreate,
    ItemUpdate,
    Period,
    SponsorCreate,
    ValuationCreate,
    require_admin,
    require_reader,
    settlement_file,
    settlement_scope,
)
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, StaffPage

router = APIRouter(include_in_schema=False)
PAGE = 200


def reader_page(p: StaffPage) -> Page:
    """A page of money figures: city-wide administrators and auditors (as the API)."""
    assert p.who is not None
    require_reader(p.who)
    return p


Reader = Annotated[Page, Depends(reader_page)]


def fen(text: str) -> int | str:
    """Yuan as typed ("12.5") in fen; anything else as typed, for the schema to refuse."""
    try:
        value = Decimal(text) * 100
    except InvalidOperation:
        return text
    if not value.is_finite():  # "Infinity", "NaN": as typed, for the schema to refuse
        return text
    return int(value) if value == value.to_integral_value() else text


def beijing(text: str) -> datetime | str:
    """A `datetime-local` value (Beijing time) in UTC; anything else as typed."""
    try:
        return parse_local_datetime(text)
    except ValueError:
        return text


# -- catalog ---------------------------------------------------------------------------------


@router.get("/admin/catalog")
def catalog(p: Reader, after: uuid.UUID | None = None) -> Response:
    """Every item with its stock, price, face value, merchant and status."""
    service = CatalogService(p.db)
    items = service.all_items(after, PAGE)
    merchants = {m.id: m for m in service.merchants()}
    return p.render(
        "admin/rewards_catalog.html",
        items=items,
        merchants=merchants,
        now=utcnow(),
        more=items[-1].id if len(items) == PAGE else None,
    )


ITEM_FIELDS = (
    "code",
    "name",
    "name_en",
    "description",
    "category",
    "fulfilment",
    "price_points",
    "face_value",
    "sponsor",
    "merchant",
    "department_id",
    "stock_total",
    "limit_per_period",
    "period",
    "valid_from",
    "valid_until",
    "voucher_days",
)


def _item_form(p: Page, status: int, values: dict[str, Any], errors: FormErrors) -> Response:
    service = CatalogService(p.db)
    departments = [o for o in RegionService(p.db).organizations() if o.kind == OrgKind.DEPARTMENT]
    return p.render(
        "admin/rewards_item_new.html",
        status,
        values=values,
        errors=errors,
        categories=list(Category),
        fulfilments=list(Fulfilment),
        periods=list(Period),
        sponsors=service.sponsors(),
        merchants=service.merchants(),
        departments=departments,
    )


@router.get("/admin/catalog/new")
def new_item_form(p: Reader) -> Response:
    """The form for a new catalog item."""
    assert p.who is not None
    require_admin(p.who)
    now = utcnow().astimezone(BUSINESS_TZ)
    values = {
        "valid_from": now.strftime("%Y-%m-%dT%H:%M"),
        "valid_until": now.replace(year=now.year + 1).strftime("%Y-%m-%dT%H:%M"),
        "limit_per_period": "1",
        "voucher_days": "30",
    }
    return _item_form(p, 200, values, FormErrors())


@router.post("/admin/catalog/new")
async def create_item(p: Reader) -> Response:
    """Add an item through the API's schema and service."""
    assert p.who is not None
    require_admin(p.who)
    values = await form_data(p.request, ITEM_FIELDS)
    data: dict[str, Any] = {k: v for k, v in values.items() if v != ""}
    data["face_value_fen"] = fen(data.pop("face_value", ""))
    for key in ("valid_from", "valid_until"):
        data[key] = beijing(data.get(key, ""))
    try:
        item = CatalogService(p.db).create_item(ItemCreate.model_validate(data))
    except (DomainError, ValidationError) as exc:
        errors = _renamed(FormErrors.of(exc, p.locale), {"face_value_fen": "face_value"})
        return _item_form(p, 422, values, errors)
    return p.redirect(f"/admin/catalog/{item.id}?saved=1")


def _item_page(
    p: Page, item_id: uuid.UUID, status: int, values: dict[str, Any], errors: FormErrors
) -> Response:
    service = CatalogService(p.db)
    item = service.item(item_id)
    merchant = service.merchant(item.merchant_id) if item.merchant_id else None
    if not values:
        values = {
            "stock_total": str(item.stock_total),
            "price_points": str(item.price_points),
            "face_value_fen": f"{Decimal(item.face_value_fen) / 100:.2f}",
        }
    saved = p.request.query_params.get("saved") == "1"
    return p.render(
        "admin/rewards_item.html",
        status,
        item=item,
        merchant=merchant,
        values=values,
        errors=errors,
        saved=saved,
        now=utcnow(),
    )


@router.get("/admin/catalog/{item_id}")
def item_page(p: Reader, item_id: uuid.UUID) -> Response:
    """One item: its figures, a form to add stock and one to change it."""
    return _item_page(p, item_id, 200, {}, FormErrors())


async def _update(
    p: Page, item_id: uuid.UUID, change: dict[str, Any], values: dict[str, Any]
) -> Response:
    try:
        CatalogService(p.db).update_item(item_id, ItemUpdate.model_validate(change))
    except (DomainError, ValidationError) as exc:
        return _item_page(p, item_id, 422, values, FormErrors.of(exc, p.locale))
    return p.redirect(f"/admin/catalog/{item_id}?saved=1")


@router.post("/admin/catalog/{item_id}/stock")
async def add_stock(p: Reader, item_id: uuid.UUID) -> Response:
    """Add units to the stock: the total and what is left grow by the same number."""
    assert p.who is not None
    require_admin(p.who)
    values = await form_data(p.request, ("add",))
    item = CatalogService(p.db).item(item_id)
    try:
        added = int(values["add"])
    except ValueError:
        added = 0
    if added < 1:
        return _item_page(p, item_id, 422, values, _stock_error(p))
    return await _update(p, item_id, {"stock_total": item.stock_total + added}, values)


def _stock_error(p: Page) -> FormErrors:
    return FormErrors([("add", p._("Enter a whole number of units to add, 1 or more"))])


@router.post("/admin/catalog/{item_id}")
async def update_item(p: Reader, item_id: uuid.UUID) -> Response:
    """Change total stock, price, face value, or withdraw / reopen the item."""
    assert p.who is not None
    require_admin(p.who)
    values = await form_data(p.request, ("stock_total", "price_points", "face_value_fen", "active"))
    change: dict[str, Any] = {
        "stock_total": values["stock_total"] or None,
        "price_points": values["price_points"] or None,
        "face_value_fen": fen(values["face_value_fen"]) if values["face_value_fen"] else None,
    }
    if values["active"] in ("yes", "no"):
        change["active"] = values["active"] == "yes"
    return await _update(p, item_id, change, values)


# -- sponsors and valuation ------------------------------------------------------------------

SPONSOR_FIELDS = ("code", "name", "name_en", "kind", "budget")
VALUATION_FIELDS = ("yuan_per_point", "effective_from", "note")


def _sponsors_page(p: Page, status: int, values: dict[str, Any], errors: FormErrors) -> Response:
    service = CatalogService(p.db)
    return p.render(
        "admin/rewards_sponsors.html",
        status,
        sponsors=service.sponsors(),
        valuations=service.valuations(),
        current=service.fen_per_point(utcnow()),
        now=utcnow(),
        values=values,
        errors=errors,
    )


@router.get("/admin/sponsors")
def sponsors(p: Reader) -> Response:
    """Funding sources with their budgets, and the valuation versions."""
    now = utcnow().astimezone(BUSINESS_TZ)
    return _sponsors_page(p, 200, {"effective_from": now.strftime("%Y-%m-%dT%H:%M")}, FormErrors())


@router.post("/admin/sponsors")
async def add_sponsor(p: Reader) -> Response:
    """Add a funding source (administrators)."""
    assert p.who is not None
    require_admin(p.who)
    values = await form_data(p.request, SPONSOR_FIELDS)
    data = {**values, "budget_fen": fen(values["budget"])}
    try:
        CatalogService(p.db).add_sponsor(SponsorCreate.model_validate(data))
    except (DomainError, ValidationError) as exc:
        errors = FormErrors.of(exc, p.locale)
        return _sponsors_page(p, 422, values, _renamed(errors, {"budget_fen": "budget"}))
    return p.redirect("/admin/sponsors?saved=1")


@router.post("/admin/valuations")
async def add_valuation(p: Reader) -> Response:
    """A new valuation version from a date on; earlier ones stay (administrators)."""
    assert p.who is not None
    require_admin(p.who)
    values = await form_data(p.request, VALUATION_FIELDS)
    data = {
        "fen_per_point": fen(values["yuan_per_point"]),
        "effective_from": beijing(values["effective_from"]),
        "note": values["note"],
    }
    try:
        CatalogService(p.db).add_valuation(ValuationCreate.model_validate(data))
    except (DomainError, ValidationError) as exc:
        errors = _renamed(FormErrors.of(exc, p.locale), {"fen_per_point": "yuan_per_point"})
        return _sponsors_page(p, 422, values, errors)
    return p.redirect("/admin/sponsors?saved=1")


def _renamed(errors: FormErrors, names: dict[str, str]) -> FormErrors:
    """Errors of schema fields shown beside the page's field of another name (yuan, not fen)."""
    return FormErrors([(names.get(f or "", f), m) for f, m in errors.items])


# -- budget and settlement -------------------------------------------------------------------


@router.get("/admin/budget")
def budget(p: Reader) -> Response:
    """Liability against the budget, the alert first when it is raised."""
    return p.render("admin/rewards_budget.html", figures=BudgetService(p.db).figures())


def this_month() -> str:
    """The current Beijing calendar month, YYYY-MM."""
    return utcnow().astimezone(BUSINESS_TZ).strftime("%Y-%m")


@router.get("/admin/settlement")
def settlement(p: Reader, month: str = Query("", max_length=7)) -> Response:
    """A month's settlement per merchant and sponsor, with downloads."""
    assert p.who is not None
    month = month or this_month()
    try:
        report = BudgetService(p.db).settlement(month, settlement_scope(p.who, p.db))
    except DomainError as exc:
        errors = FormErrors.of(exc, p.locale)
        return p.render(
            "admin/rewards_settlement.html", 422, report=None, month=month, errors=errors
        )
    return p.render(
        "admin/rewards_settlement.html", report=report, month=month, errors=FormErrors()
    )


@router.get("/admin/settlement.{format}")
def settlement_download(p: Reader, format: str, month: str = Query(max_length=7)) -> Response:
    """The settlement as CSV or XLSX: the API's export, byte for byte."""
    assert p.who is not None
    if format not in ("csv", "xlsx"):
        return p.render("error.html", 404, title=p._("Not found"), message=p._("Not found"))
    report = BudgetService(p.db).settlement(month, settlement_scope(p.who, p.db))
    body, media_type, name = settlement_file(report, format)
    response = Response(body, media_type=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return p.finish(response)
