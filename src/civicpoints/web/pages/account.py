"""Sign in, register, sign out, language and 长辈模式: the pages everybody passes through.

Thin like the API's routers: each handler reads the form into the API's own schema, calls the
same service, and renders the same domain errors beside the field at fault.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from civicpoints.access import Role
from civicpoints.identity import (
    IdentityService,
    ResidentCreate,
    SignInGuard,
    TokenRequest,
    sign_in_guard,
)
from civicpoints.kit.errors import DomainError
from civicpoints.regions import Level, RegionService
from civicpoints.web import i18n
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import ELDER, LANG, AnyPage, Page, local_path

router = APIRouter(include_in_schema=False)
Guard = Annotated[SignInGuard, Depends(sign_in_guard)]
HOME = {"resident": "/", "staff": "/staff"}


def _home_of(p: Page) -> str:
    """Where a signed-in person starts: residents the app, staff their console
    (administrators and auditors the admin console)."""
    if p.who is None:
        return "/login"
    roles = set(p.who.roles)
    if p.who.kind == "staff" and (p.who.may_citywide(Role.ADMIN) or Role.AUDITOR in roles):
        return "/admin"
    if p.who.kind == "staff" and Role.ADMIN in roles:
        return "/admin/rules"  # a district or street administrator: their region's rules
    if p.who.kind == "staff" and roles == {"merchant_clerk"}:
        return "/merchant"  # a shop clerk has nothing else to do here
    return HOME.get(p.who.kind, "/")


@router.get("/login")
def login_form(p: AnyPage, next: str = "") -> Response:
    """The sign-in page (a signed-in browser goes straight on)."""
    if p.who is not None:
        return p.redirect(local_path(next, _home_of(p)))
    return p.render("account/login.html", next=local_path(next, ""), errors=FormErrors(), values={})


@router.post("/login")
async def login(p: AnyPage, guard: Guard) -> Response:
    """Check the password, keep the session in a cookie, and go where the person was going."""
    values = await form_data(p.request, ("username", "password", "next"))
    address = p.request.client.host if p.request.client else "unknown"
    try:
        body = TokenRequest(username=values["username"], password=values["password"])
        raw, _token, who = IdentityService(p.db, p.ctx).sign_in(
            body.username, body.password, guard, address
        )
    except (DomainError, ValidationError) as exc:
        labels = {"username": p._("Phone number or platform number"), "password": p._("Password")}
        errors = FormErrors.of(exc, p.locale, labels)
        values.pop("password", None)
        return p.render(
            "account/login.html", 422, next=values["next"], errors=errors, values=values
        )
    p.sign_in(raw)
    p.who = who
    return p.redirect(local_path(values["next"], _home_of(p)))


@router.post("/logout")
def logout(p: AnyPage) -> Response:
    """Revoke the session's token and forget the cookie."""
    token = p.request.cookies.get("cp_session")
    if p.who is not None and token:
        IdentityService(p.db, p.ctx).sign_out(token)
    p.sign_out()
    return p.redirect("/login")


def _communities(p: Page) -> list[tuple[str, list[tuple[str, str]]]]:
    """Communities grouped by street, for the registration form's list."""
    regions = RegionService(p.db).tree()
    names = {r.id: (r.name_en or r.name) if p.locale == "en" else r.name for r in regions}
    streets: dict[str, list[tuple[str, str]]] = {}
    for r in regions:
        if r.level == Level.COMMUNITY and r.parent_id is not None:
            streets.setdefault(names[r.parent_id], []).append((str(r.id), names[r.id]))
    return sorted(streets.items())


REGISTER_FIELDS = ("name", "id_number", "phone", "password", "community_id", "consent")


def register_labels(p: Page) -> dict[str, str]:
    """The registration form's labels, for messages that name their field."""
    return {
        "name": p._("Full name (as on your ID card)"),
        "id_number": p._("ID card number"),
        "phone": p._("Mobile phone number"),
        "password": p._("Password"),
        "community_id": p._("Your community"),
    }


def _register_page(p: Page, status: int, values: dict[str, Any], errors: FormErrors) -> Response:
    values.pop("password", None)
    return p.render(
        "account/register.html",
        status,
        values=values,
        errors=errors,
        communities=_communities(p),
    )


@router.get("/register")
def register_form(p: AnyPage) -> Response:
    """The registration page: real name, ID number, phone, password, community, consent."""
    return _register_page(p, 200, {}, FormErrors())


@router.post("/register")
async def register(p: AnyPage, guard: Guard) -> Response:
    """Register with the API's checks and messages, then sign in."""
    values = await form_data(p.request, REGISTER_FIELDS)
    identity = IdentityService(p.db, p.ctx)
    try:
        data = ResidentCreate.model_validate({**values, "consent": values["consent"] == "yes"})
        resident = identity.register(data)
    except (DomainError, ValidationError) as exc:
        return _register_page(p, 422, values, FormErrors.of(exc, p.locale, register_labels(p)))
    address = p.request.client.host if p.request.client else "unknown"
    raw, _token, p.who = identity.sign_in(resident.public_no, data.password, guard, address)
    p.sign_in(raw)
    return p.redirect("/")


@router.get("/lang/{code}")
def language(p: AnyPage, code: str, next: str = "/") -> Response:
    """Switch the pages' language (remembered) and come back."""
    p.remember(LANG, i18n.pick(code))
    return p.redirect(local_path(next))


@router.post("/elder")
async def elder_mode(p: AnyPage) -> Response:
    """Turn 长辈模式 on or off (remembered on this browser) and come back."""
    values = await form_data(p.request, ("on", "next"))
    p.remember(ELDER, "1" if values["on"] == "1" else "0")
    return p.redirect(local_path(values["next"]))
