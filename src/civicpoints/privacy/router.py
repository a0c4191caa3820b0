"""HTTP for a resident's PIPL rights and the administrators who carry out deletions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from civicpoints.audit import request_facts
from civicpoints.identity import ResidentCaller, ResidentRead, StaffCaller
from civicpoints.kit.http import Ctx, DbSession
from civicpoints.privacy.export import to_html
from civicpoints.privacy.service import PrivacyService

router = APIRouter(tags=["privacy 个人信息"])
PRIVATE = {"Cache-Control": "no-store"}


class ConsentGive(BaseModel):
    """Consent given again, to a version of the privacy notice."""

    model_config = ConfigDict(extra="forbid")

    consent: Literal[True] = Field(description="同意《个人信息保护声明》 / accepts the notice")
    consent_version: str = Field(default="2026-01", min_length=1, max_length=16)


class DeletionRead(BaseModel):
    """A deletion request and when it is carried out."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    resident_id: uuid.UUID
    status: str
    requested_at: datetime
    due_at: datetime
    done_at: datetime | None


@router.get("/me/data", response_model=None)
def my_data(
    who: ResidentCaller,
    db: DbSession,
    ctx: Ctx,
    request: Request,
    format: Annotated[Literal["json", "html"], Query()] = "json",
) -> Any:
    """Everything held about you (个人信息副本): JSON, or one HTML file to open and keep."""
    facts = request_facts(request, who, 200, action="export_personal_data", subject=who.id)
    data = PrivacyService(db, ctx).export_seen(who.id, facts)
    if format == "html":
        disposition = 'attachment; filename="my-civicpoints-data.html"'
        headers = {**PRIVATE, "Content-Disposition": disposition}
        return HTMLResponse(to_html(data), headers=headers)
    return JSONResponse(data, headers=PRIVATE)


@router.post("/me/consent/withdraw", response_model=ResidentRead)
def withdraw_consent(who: ResidentCaller, db: DbSession, ctx: Ctx) -> ResidentRead:
    """Withdraw consent: no more earning or redeeming; open redemptions are cancelled."""
    return ResidentRead.model_validate(PrivacyService(db, ctx).withdraw(who.id))


@router.post("/me/consent", response_model=ResidentRead)
def give_consent(body: ConsentGive, who: ResidentCaller, db: DbSession, ctx: Ctx) -> ResidentRead:
    """Give consent again; points of records approved meanwhile are then decided."""
    return ResidentRead.model_validate(PrivacyService(db, ctx).give(who.id, body.consent_version))


@router.post("/me/deletion", response_model=DeletionRead, status_code=201)
def request_deletion(who: ResidentCaller, db: DbSession, ctx: Ctx) -> DeletionRead:
    """Ask for your personal data to be erased; points stop now, erasure follows."""
    return DeletionRead.model_validate(PrivacyService(db, ctx).request_deletion(who.id))


@router.get("/deletions", response_model=list[DeletionRead])
def pending_deletions(
    who: StaffCaller, db: DbSession, ctx: Ctx, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[DeletionRead]:
    """Deletion requests waiting, oldest first (city-wide administrators)."""
    return [DeletionRead.model_validate(r) for r in PrivacyService(db, ctx).pending(who, limit)]


@router.post("/deletions/{request_id}/erase", response_model=DeletionRead)
def erase(
    request_id: uuid.UUID, who: StaffCaller, db: DbSession, ctx: Ctx, request: Request
) -> DeletionRead:
    """Carry out a deletion request now (city-wide administrators)."""
    done = PrivacyService(db, ctx).carry_out(request_id, who)
    request.state.audit_subject = done.resident_id  # the audit row names whose data went
    return DeletionRead.model_validate(done)
