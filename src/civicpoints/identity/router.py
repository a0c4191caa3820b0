"""HTTP for identity: sign-in, registration, the signed-in resident, and auth dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from civicpoints.activities.records import RecordService
from civicpoints.identity.principal import Principal
from civicpoints.identity.schemas import (
    ResidentCreate,
    ResidentRead,
    TokenRead,
    TokenRequest,
    VerificationRequest,
)
from civicpoints.identity.service import IdentityService
from civicpoints.kit.errors import Forbidden, Unauthorized
from civicpoints.kit.http import Ctx, DbSession

router = APIRouter(tags=["identity 身份"])
bearer = HTTPBearer(auto_error=False)


def principal(
    request: Request,
    db: DbSession,
    ctx: Ctx,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller behind the bearer token, or 401."""
    if creds is None:
        raise Unauthorized()
    who = IdentityService(db, ctx).authenticate(creds.credentials)
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


@router.post("/auth/token", response_model=TokenRead)
def sign_in(body: TokenRequest, db: DbSession, ctx: Ctx) -> TokenRead:
    """Sign in with a staff username, or a resident's phone or platform number."""
    raw, token, who = IdentityService(db, ctx).sign_in(body.username, body.password)
    return TokenRead(
        access_token=raw,
        expires_at=token.expires_at,
        subject_kind=who.kind,
        subject_id=who.id,
        name=who.name,
        roles=who.roles,
    )


@router.post("/residents", response_model=ResidentRead, status_code=201)
def register(body: ResidentCreate, db: DbSession, ctx: Ctx) -> ResidentRead:
    """Register a resident with real name (实名注册)."""
    return ResidentRead.model_validate(IdentityService(db, ctx).register(body))


@router.get("/me", response_model=ResidentRead)
def me(who: ResidentCaller, db: DbSession, ctx: Ctx) -> ResidentRead:
    """The signed-in resident, identifiers masked."""
    return ResidentRead.model_validate(IdentityService(db, ctx).resident(who.id))


@router.post("/me/verification", response_model=ResidentRead)
def verify(body: VerificationRequest, who: ResidentCaller, db: DbSession, ctx: Ctx) -> ResidentRead:
    """Verify the signed-in resident's identity; points held for them are then credited."""
    identity = IdentityService(db, ctx)
    verified = identity.verify(identity.resident(who.id), body.evidence)
    RecordService(db, ctx).release_deferred(who.id, who.key)
    return ResidentRead.model_validate(verified)
