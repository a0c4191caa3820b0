"""积分捐赠 pages: the resident's donation page (works without JavaScript), the thank-you with
the ledger receipt, and the civil-affairs staff's pool page (what expires first, allocate,
low-income status). The same services and errors as the API's /api/v1 routes."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from fastapi import APIRouter, Query
from fastapi.responses import Response

from civicpoints.community import (
    SEARCH_MAX,
    SEARCH_PAGES,
    DonationService,
    PoolView,
    SavingsService,
)
from civicpoints.identity import IdentityService, ResidentLookup
from civicpoints.kit.clock import as_utc, local_date, utcnow
from civicpoints.kit.errors import DomainError, Forbidden
from civicpoints.ledger import HoldService, Lot, wallet_of
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, ResidentPage, StaffPage

router = APIRouter(include_in_schema=False)
SOON = timedelta(days=30)


def _donate_page(p: Page, status: int, errors: FormErrors, values: dict[str, str]) -> Response:
    """The donation page: points, what may still be given this month, the form, the 爱心榜."""
    assert p.who is not None
    service = DonationService(p.db)
    me = IdentityService(p.db, p.ctx).resident(p.who.id)
    room, limit = service.room(me)
    return p.render(
        "resident/donate.html",
        status,
        available=HoldService(p.db).available(wallet_of(p.who.id)),
        room=room,
        limit=limit,
        board=service.board(me.community_id),
        shown=service.board_shown(me.id),
        mine=service.my_donations(me.id, 10),
        key=str(uuid.uuid4()),
        errors=errors,
        values=values,
    )


@router.get("/donate")
def donate_form(p: ResidentPage) -> Response:
    """Give points to the community's 爱心积分池."""
    return _donate_page(p, 200, FormErrors(), {})


@router.post("/donate")
async def donate(p: ResidentPage) -> Response:
    """Donate as `POST /api/v1/me/donations` does; a resubmitted form gives once."""
    assert p.who is not None
    values = await form_data(p.request, ("amount", "key", "board"))
    key = f"web:{values['key'][:100] or uuid.uuid4()}"
    service = DonationService(p.db)
    me = IdentityService(p.db, p.ctx).resident(p.who.id)
    if not values["amount"].isdigit() or not 0 < int(values["amount"]) <= 1_000_000:
        message = p._("Enter a whole number of points, at least 1")
        return _donate_page(p, 422, FormErrors([("amount", message)]), values)
    try:
        row = service.donate(me, me.community_id, int(values["amount"]), key)
    except DomainError as exc:
        return _donate_page(p, exc.status, FormErrors.of(exc, p.locale), values)
    service.set_board(me.id, values["board"] == "yes")
    return p.redirect(f"/donate/{row.id}")


@router.get("/donate/{donation_id}")
def thanks(p: ResidentPage, donation_id: uuid.UUID) -> Response:
    """The thank-you: what was given, where it went, the ledger receipt."""
    assert p.who is not None
    row = DonationService(p.db).donation_of(p.who.id, donation_id)
    return p.render("resident/donated.html", donation=row)


# -- civil-affairs staff ---------------------------------------------------------------------


def _community(p: Page, community: uuid.UUID | None) -> uuid.UUID:
    """The community asked for, else the first whose pool the staff member manages."""
    assert p.who is not None
    if community is not None:
        return community
    mine = DonationService(p.db).communities_of(p.who)
    if not mine:
        raise Forbidden()
    return mine[0]


def _pool_page(
    p: Page,
    community: uuid.UUID,
    status: int = 200,
    errors: FormErrors | None = None,
    q: str = "",
    page: int = 0,
) -> Response:
    """The pool page: what expires within 30 days first, the lots, the allocate form with a
    search of the community's low-income residents (by name or platform number, a page of
    them at a time)."""
    assert p.who is not None
    donations = DonationService(p.db)
    view: PoolView = donations.pool(p.who, community)
    families, more = donations.find_low_income(p.who, community, q, page)
    people = ResidentLookup(p.db).by_ids([a.resident_id for a in view.allocations])
    soon = utcnow() + SOON
    return p.render(
        "staff/pool.html",
        status,
        view=view,
        soon=_by_day([x for x in view.lots if as_utc(x.expires_at) <= soon]),
        later=_by_day([x for x in view.lots if as_utc(x.expires_at) > soon]),
        families=families,
        marked=len(view.low_income),
        q=" ".join(q.split())[:SEARCH_MAX],
        at_page=page,
        more=more,
        names={rid: r.name for rid, r in people.items()},
        key=str(uuid.uuid4()),
        errors=errors or FormErrors(),
    )


def _by_day(lots: list[Lot]) -> list[tuple[int, datetime]]:
    """(points, the earliest expiry of that Beijing day) per day, earliest first."""
    days: dict[date, tuple[int, datetime]] = {}
    for lot in lots:
        when = as_utc(lot.expires_at)
        points, first = days.get(local_date(when), (0, when))
        days[local_date(when)] = (points + lot.remaining, min(first, when))
    return [days[d] for d in sorted(days)]


@router.get("/staff/pool")
def pool(
    p: StaffPage,
    community: uuid.UUID | None = Query(None),
    q: str = Query("", max_length=200),
    page: int = Query(0, ge=0, lt=SEARCH_PAGES),
) -> Response:
    """The community's 爱心积分池 (civil-affairs staff of the community); `q` searches the
    low-income residents offered on the allocate form (a GET form: no script needed)."""
    return _pool_page(p, _community(p, community), q=q, page=page)


@router.post("/staff/pool/{community_id}/allocate")
async def allocate(p: StaffPage, community_id: uuid.UUID) -> Response:
    """Give pool points to a low-income resident, as the API does."""
    assert p.who is not None
    values = await form_data(p.request, ("resident_id", "amount", "reason", "key", "q"))
    try:
        resident_id = uuid.UUID(values["resident_id"])
    except ValueError:
        errors = FormErrors([("resident_id", p._("Choose a family"))])
        return _pool_page(p, community_id, 422, errors, q=values["q"])
    if not values["amount"].isdigit() or int(values["amount"]) <= 0:
        message = p._("Enter a whole number of points, at least 1")
        return _pool_page(p, community_id, 422, FormErrors([("amount", message)]), q=values["q"])
    if not values["reason"]:
        errors = FormErrors([("reason", p._("Enter a reason"))])
        return _pool_page(p, community_id, 422, errors, q=values["q"])
    try:
        resident = IdentityService(p.db, p.ctx).resident(resident_id)
        amount, reason = int(values["amount"]), values["reason"][:200]
        key = f"web:{values['key'][:100]}"
        DonationService(p.db).allocate(p.who, community_id, resident, amount, reason, key)
    except DomainError as exc:
        errors = FormErrors.of(exc, p.locale)
        return _pool_page(p, community_id, exc.status, errors, q=values["q"])
    return p.redirect(f"/staff/pool?community={community_id}")


@router.post("/staff/pool/{community_id}/low-income")
async def low_income(p: StaffPage, community_id: uuid.UUID) -> Response:
    """Mark (or clear) a resident's low-income status by their platform number or phone."""
    assert p.who is not None
    values = await form_data(p.request, ("handle", "active", "lreason"))
    resident = IdentityService(p.db, p.ctx).find_resident(values["handle"])
    if resident is None or resident.community_id != community_id:
        message = p._("No resident of this community has that number")
        return _pool_page(p, community_id, 422, FormErrors([("handle", message)]))
    if not values["lreason"]:
        return _pool_page(p, community_id, 422, FormErrors([("lreason", p._("Enter a reason"))]))
    try:
        DonationService(p.db).set_low_income(
            p.who, resident, values["active"] == "yes", values["lreason"][:200]
        )
    except DomainError as exc:
        return _pool_page(p, community_id, exc.status, FormErrors.of(exc, p.locale))
    return p.redirect(f"/staff/pool?community={community_id}")


# -- the points bank (积分银行) ---------------------------------------------------------------


def _savings_page(p: Page, status: int, errors: FormErrors, values: dict[str, str]) -> Response:
    """Savings: what is saved, until when, the cap; save and take back."""
    assert p.who is not None
    me = IdentityService(p.db, p.ctx).resident(p.who.id)
    return p.render(
        "resident/savings.html",
        status,
        view=SavingsService(p.db).view(me),
        available=HoldService(p.db).available(wallet_of(p.who.id)),
        key=str(uuid.uuid4()),
        errors=errors,
        values=values,
    )


@router.get("/savings")
def savings(p: ResidentPage) -> Response:
    """The 积分银行: saved points last longer (24 months from earning), up to a cap."""
    return _savings_page(p, 200, FormErrors(), {})


@router.post("/savings/{direction}")
async def move_savings(p: ResidentPage, direction: str) -> Response:
    """Save (`in`) or take back (`out`), as the API does; a resubmitted form moves once."""
    assert p.who is not None
    field = "save" if direction == "in" else "take"
    values = await form_data(p.request, (field, "key"))
    if direction not in ("in", "out"):
        return _savings_page(p, 404, FormErrors(), values)
    if not values[field].isdigit() or not 0 < int(values[field]) <= 1_000_000:
        message = p._("Enter a whole number of points, at least 1")
        return _savings_page(p, 422, FormErrors([(field, message)]), values)
    me = IdentityService(p.db, p.ctx).resident(p.who.id)
    service, key = SavingsService(p.db), f"web:{values['key'][:100]}"
    try:
        if direction == "in":
            service.save(me, int(values[field]), key)
        else:
            service.withdraw(me, int(values[field]), key)
    except DomainError as exc:
        errors = FormErrors.of(exc, p.locale)
        errors.items = [(field if f == "amount" else f, m) for f, m in errors.items]
        return _savings_page(p, exc.status, errors, values)
    return p.redirect("/savings")
