"""The admin console's staff pages: accounts and role grants, within the administrator's scope.

Thin: `identity.StaffAdmin` decides who may see, create, grant and revoke (a regional
administrator only within their region), and the request's audit hook records every write.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from civicpoints.access import Principal, Role
from civicpoints.identity import GrantCreate, StaffAdmin, StaffCreate, StaffNotFound
from civicpoints.kit.errors import DomainError, Forbidden
from civicpoints.regions import Organization, Region, RegionService
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, StaffPage

router = APIRouter(include_in_schema=False)
GRANT_FIELDS = ("role", "region_id", "organization_id")
ROLES = list(Role)


def _admin(p: Page) -> Principal:
    """The signed-in administrator (of any scope), else 403."""
    assert p.who is not None
    if not any(g.role == Role.ADMIN for g in p.who.grants):
        raise Forbidden()
    return p.who


def _places(p: Page) -> dict[str, Any]:
    """The regions and organizations the page offers: those the administrator looks after."""
    assert p.who is not None
    who = p.who
    regions = RegionService(p.db)
    tree: list[Region] = [r for r in regions.tree() if who.may(Role.ADMIN, r.path)]
    paths = {r.id: r.path for r in regions.tree()}
    orgs: list[Organization] = [
        o for o in regions.organizations() if who.may(Role.ADMIN, paths[o.region_id], o.id)
    ]
    return {"regions": sorted(tree, key=lambda r: r.path), "organizations": orgs, "roles": ROLES}


def _grant(values: dict[str, str]) -> GrantCreate:
    """The grant part of a form, through the schema."""
    return GrantCreate.model_validate({k: values[k] or None for k in GRANT_FIELDS})


@router.get("/admin/staff")
def staff_list(p: StaffPage, after: str = "") -> Response:
    """Staff accounts with their roles, as far as the reader's scope reaches."""
    assert p.who is not None
    rows = StaffAdmin(p.db, p.ctx).staff(p.who, after[:64])
    may_write = any(g.role == Role.ADMIN for g in p.who.grants)
    return p.render("admin/staff_list.html", rows=rows, may_write=may_write)


def _new_form(p: Page, status: int, values: dict[str, Any], errors: FormErrors) -> Response:
    return p.render("admin/staff_new.html", status, values=values, errors=errors, **_places(p))


@router.get("/admin/staff/new")
def new_staff_form(p: StaffPage) -> Response:
    """The form for a new staff account and its first role."""
    _admin(p)
    return _new_form(p, 200, {}, FormErrors())


@router.post("/admin/staff/new")
async def create_staff(p: StaffPage) -> Response:
    """Create the account with its first role; the password is checked like everyone's."""
    who = _admin(p)
    values = await form_data(p.request, ("username", "display_name", "password", *GRANT_FIELDS))
    try:
        data = StaffCreate.model_validate(values)
        staff = StaffAdmin(p.db, p.ctx).create(who, data, _grant(values))
    except (DomainError, ValidationError) as exc:
        values.pop("password")
        return _new_form(p, _status(exc), values, FormErrors.of(exc, p.locale))
    return p.redirect(f"/admin/staff/{staff.id}?saved=1")


def _status(exc: DomainError | ValidationError) -> int:
    """The status of a refused form: the domain's (403, 404, 409) or 422."""
    return exc.status if isinstance(exc, DomainError) else 422


def _detail(
    p: Page, staff_id: uuid.UUID, status: int, values: dict[str, Any], errors: FormErrors
) -> Response:
    assert p.who is not None
    admin = StaffAdmin(p.db, p.ctx)
    person = admin.one(p.who, staff_id)
    may_write = any(g.role == Role.ADMIN for g in p.who.grants) and person.id != p.who.id
    return p.render(
        "admin/staff_detail.html",
        status,
        person=person,
        may_write=may_write,
        values=values,
        errors=errors,
        saved=p.request.query_params.get("saved") == "1",
        **_places(p),
    )


@router.get("/admin/staff/{staff_id}")
def staff_detail(p: StaffPage, staff_id: uuid.UUID) -> Response:
    """One staff account: roles (revocable ones with a button) and a form to grant one."""
    return _detail(p, staff_id, 200, {}, FormErrors())


@router.post("/admin/staff/{staff_id}/grants")
async def grant_role(p: StaffPage, staff_id: uuid.UUID) -> Response:
    """Grant a role within the administrator's scope."""
    who = _admin(p)
    values = await form_data(p.request, GRANT_FIELDS)
    try:
        StaffAdmin(p.db, p.ctx).grant(who, staff_id, _grant(values))
    except StaffNotFound:
        raise
    except (DomainError, ValidationError) as exc:
        return _detail(p, staff_id, _status(exc), values, FormErrors.of(exc, p.locale))
    return p.redirect(f"/admin/staff/{staff_id}?saved=1")


@router.post("/admin/staff/{staff_id}/grants/{grant_id}/revoke")
async def revoke_role(p: StaffPage, staff_id: uuid.UUID, grant_id: uuid.UUID) -> Response:
    """Take a role back (within the administrator's scope, never their own)."""
    who = _admin(p)
    admin = StaffAdmin(p.db, p.ctx)
    try:
        admin.revoke(who, staff_id, grant_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _detail(p, staff_id, exc.status, {}, FormErrors.of(exc, p.locale))
    return p.redirect(f"/admin/staff/{staff_id}?saved=1")
