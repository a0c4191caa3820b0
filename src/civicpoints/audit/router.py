"""HTTP for the audit log: read it, filtered and paged (auditors and administrators)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from civicpoints.audit.repository import AuditQuery
from civicpoints.audit.schemas import AuditPage, AuditRead
from civicpoints.audit.service import AuditService
from civicpoints.identity import StaffCaller
from civicpoints.kit.http import DbSession
from civicpoints.kit.schemas import Instant

router = APIRouter(tags=["audit 审计"])


@router.get("/audit", response_model=AuditPage)
def read_audit(
    who: StaffCaller,
    db: DbSession,
    actor: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=120)] = None,
    resident: uuid.UUID | None = None,
    since: Instant | None = None,
    until: Instant | None = None,
    cursor: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    """The audit log newest first, by actor, action, resident concerned and time range."""
    query = AuditQuery(actor, action, resident, since, until, cursor)
    rows = AuditService(db).page(who, query, limit)
    nxt = rows[-1].id if len(rows) == limit else None
    return AuditPage(items=[AuditRead.model_validate(r) for r in rows], next_cursor=nxt)
