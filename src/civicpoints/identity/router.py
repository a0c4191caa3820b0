"""HTTP for identity: sign-in, registration, the signed-in resident, and auth dependencies."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from civicpoints.access import Principal
from civicpoints.identity.education_schemas import (
    ChildLinkCreate,
    ChildLinkRead,
    StaffLinkRead,
)
from civicpoints.identity.education_views import child_link_view, staff_link_view
from civicpoints.identity.guardians import GuardianService
from civicpoints.identity.ratelimit import SignInGuard
from civicpoints.identity.schemas import (
    InPersonVerificationCreate,
    ResidentCreate,
    ResidentRead,
    StaffRead,
    TokenRead,
    TokenRequest,
    VerificationRequest,
)
from civicpoints.identity.service import IdentityService
from civicpoints.kit.errors import Forbidden, Unauthorized
from civicpoints.kit.http import Ctx, DbSession
from civicpoints.kit.schemas import Decision

router = APIRouter(tags=["identity 身份"])
bearer = HTTPBearer(auto_error=False)


def bearer_token(
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    """The raw bearer token of the request, or 401."""
    if creds is None:
        raise Unauthorized()
    return creds.credentials


def principal(
    request: Request,
    db: DbSession,
    ctx: Ctx,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller behind the bearer token, or 401."""
    who = IdentityService(db, ctx).authenticate(bearer_token(creds))
    request.state.principal = who  # the audit hook names the actor from it
    return who


def resident(who: Annotated[Principal, Depends(principal)]) -> Principal:
    """A signed-in resident, or 403."""
    if who.kind != "resident":
        raise Forbidden()
    return who


def staff(who: Annotated[Principal, Depends(principal)]) -> Principal:
    """A signed-in staff member, or 403."""
    if who.kind != "staff":
        raise Forbidden()
    return who


Caller = Annotated[Principal, Depends(principal)]
ResidentCaller = Annotated[Principal, Depends(resident)]
StaffCaller = Annotated[Principal, Depends(staff)]


def sign_in_guard(request: Request, ctx: Ctx) -> SignInGuard:
    """The app's sign-in throttle, made once per app from its settings."""
    state = request.app.state
    if not hasattr(state, "sign_in_guard"):
        s = ctx.settings
        state.sign_in_guard = SignInGuard(
            s.signin_free_failures,
            s.signin_delay_cap_s,
            s.signin_address_failures,
            s.signin_address_window_s,
        )
    guard: SignInGuard = state.sign_in_guard
    return guard


@router.post("/auth/token", response_model=TokenRead)
def sign_in(
    body: TokenRequest,
    request: Request,
    db: DbSession,
    ctx: Ctx,
    guard: Annotated[SignInGuard, Depends(sign_in_guard)],
) -> TokenRead:
    """Sign in with a staff username, or a resident's phone, ID or platform number."""
    # Behind a reverse proxy, run uvicorn with --proxy-headers so this is the client's address.
    address = request.client.host if request.client else "unknown"
    raw, token, who = IdentityService(db, ctx).sign_in(body.username, body.password, guard, address)
    return TokenRead(
        access_token=raw,
        expires_at=token.expires_at,
        subject_kind=who.kind,
        subject_id=who.id,
        name=who.name,
        roles=who.roles,
    )


@router.post("/auth/logout", status_code=204)
def sign_out(db: DbSession, ctx: Ctx, token: Annotated[str, Depends(bearer_token)]) -> Response:
    """Revoke the bearer token used for this request; it then gets 401 everywhere."""
    IdentityService(db, ctx).sign_out(token)
    return Response(status_code=204)


@router.post("/residents", response_model=ResidentRead, status_code=201)
def register(body: ResidentCreate, db: DbSession, ctx: Ctx) -> ResidentRead:
    """Register a resident with real name (实名注册)."""
    return ResidentRead.model_validate(IdentityService(db, ctx).register(body))


@router.get("/me", response_model=ResidentRead | StaffRead)
def me(who: Caller, db: DbSession, ctx: Ctx) -> ResidentRead | StaffRead:
    """The signed-in resident (identifiers masked) or staff member (roles and scopes)."""
    identity = IdentityService(db, ctx)
    if who.kind == "staff":
        return identity.staff_profile(who.id)
    return ResidentRead.model_validate(identity.resident(who.id))


@router.post("/me/verification", response_model=ResidentRead)
def verify(body: VerificationRequest, who: ResidentCaller, db: DbSession, ctx: Ctx) -> ResidentRead:
    """Verify the signed-in resident's identity; points held for them are then credited."""
    identity = IdentityService(db, ctx)
    verified = identity.verify(identity.resident(who.id), body.evidence, who.key)
    return ResidentRead.model_validate(verified)


@router.post("/residents/{resident_id}/verification", response_model=ResidentRead)
def verify_in_person(
    resident_id: uuid.UUID,
    body: InPersonVerificationCreate,
    who: StaffCaller,
    db: DbSession,
    ctx: Ctx,
) -> ResidentRead:
    """A verifier records seeing the resident's ID card in person (记录核验人员)."""
    verified = IdentityService(db, ctx).verify_in_person(resident_id, body, who)
    return ResidentRead.model_validate(verified)


# -- 教育积分: children, links, the education department's decisions ------------------------


@router.post("/me/children", response_model=ChildLinkRead, status_code=201)
def link_child(
    body: ChildLinkCreate, who: ResidentCaller, db: DbSession, ctx: Ctx
) -> ChildLinkRead:
    """Ask to link a child by name and ID number; the education department confirms."""
    guardians = GuardianService(db, ctx)
    guardian = IdentityService(db, ctx).resident(who.id)
    link = guardians.link(guardian, body.name, body.id_number, body.relation)
    return child_link_view(db, link, guardians.child(link.child_id))


@router.get("/me/children", response_model=list[ChildLinkRead])
def my_children(who: ResidentCaller, db: DbSession, ctx: Ctx) -> list[ChildLinkRead]:
    """The signed-in guardian's children: link status, education points and their expiry."""
    return [child_link_view(db, lk, c) for lk, c in GuardianService(db, ctx).children_of(who.id)]


@router.get("/education/links", response_model=list[StaffLinkRead])
def education_links(
    who: StaffCaller,
    db: DbSession,
    ctx: Ctx,
    status: Literal["pending", "confirmed", "rejected"] | None = "pending",
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> list[StaffLinkRead]:
    """Links in the caller's regions (education staff), oldest first."""
    rows = GuardianService(db, ctx).queue(who, status, limit)
    return [staff_link_view(db, lk, c) for lk, c in rows]


@router.post("/education/links/{link_id}/decision", response_model=StaffLinkRead)
def decide_link(
    link_id: uuid.UUID, body: Decision, who: StaffCaller, db: DbSession, ctx: Ctx
) -> StaffLinkRead:
    """Confirm or reject a pending link (education staff of the guardian's region)."""
    guardians = GuardianService(db, ctx)
    link = guardians.decide(link_id, body.approve, body.reason, who)
    return staff_link_view(db, link, guardians.child(link.child_id))
