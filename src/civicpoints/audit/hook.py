"""The one place every staff write is audited: the request transaction's outcome hook.

`kit.http.session` calls `succeeded` just before the request's transaction commits (so the
row commits with the action, or not at all) and `failed` after it rolled back (the refusal is
then recorded in a transaction of its own). Routes cannot forget it: every write goes through
that session.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException  # FastAPI's and Starlette's both

from civicpoints.access import Principal
from civicpoints.audit.facts import (
    CLIENT_MAX,
    UA_MAX,
    AuditFacts,
    audited,
    clip,
    subject_of,
    target_ids,
)
from civicpoints.audit.service import AuditService
from civicpoints.kit.db import transaction
from civicpoints.kit.errors import DomainError
from civicpoints.kit.http import ANSWERED

log = logging.getLogger(__name__)
TOUCHED = "audit_touched_residents"  # key in Session.info
MAX_TOUCHED = 50  # an import may touch hundreds: the row names the first ones


def request_facts(
    request: Request,
    who: Principal,
    status: int,
    action: str = "",
    subject: uuid.UUID | None = None,
) -> AuditFacts:
    """The audit facts of a request by `who`: route name, template, path ids and origin.

    The resident concerned is `subject`, else what the endpoint noted in
    `request.state.audit_subject`, else a `resident_id` in the path.
    """
    route = request.scope.get("route")
    params = request.path_params
    subject = subject or getattr(request.state, "audit_subject", None) or subject_of(params)
    return AuditFacts(
        actor_kind=who.kind,
        actor_id=who.id,
        action=action or getattr(route, "name", "") or "unknown",
        method=request.method,
        path=getattr(route, "path", "") or "-",
        status=status,
        subject_id=subject,
        targets=target_ids(params),
        client=clip(request.client.host if request.client else "", CLIENT_MAX),
        user_agent=clip(request.headers.get("user-agent"), UA_MAX),
    )


def status_of(exc: BaseException) -> int:
    """The HTTP status an exception becomes."""
    if isinstance(exc, DomainError):
        return exc.status
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, RequestValidationError):
        return 422
    return 500


class AuditHook:
    """Records staff writes: in the action's transaction, or alone when it was refused."""

    def install(self, sessions: sessionmaker[Session]) -> AuditHook:
        """Note the residents whose rows the request sessions write (the rows' "whose")."""
        event.listen(sessions, "after_flush", _note_residents)
        return self

    def succeeded(self, request: Request, session: Session) -> None:
        """Add the row to the request's transaction, just before it commits."""
        touched = sorted(session.info.pop(TOUCHED, set()))
        who = _caller(request)
        if who is None:
            return
        route = request.scope.get("route")
        answered = getattr(request.state, ANSWERED, None)  # a page's 303
        status = answered or getattr(route, "status_code", None) or 200
        facts = request_facts(request, who, status)
        if facts.subject_id is None and len(touched) == 1:
            facts = replace(facts, subject_id=touched[0])
        extra = tuple(str(t) for t in touched[:MAX_TOUCHED] if str(t) not in facts.targets)
        AuditService(session).record(replace(facts, targets=facts.targets + extra))

    def failed(self, request: Request, exc: BaseException) -> None:
        """Record a refused staff write in its own transaction (the action's rolled back)."""
        who = _caller(request)
        if who is None:
            return
        try:
            with transaction(request.app.state.sessions) as s:
                AuditService(s).record(request_facts(request, who, status_of(exc)))
        except Exception as err:  # the refusal still reaches the caller; say why no row
            log.error("audit row of a refused action not written: %s", type(err).__name__)


def _note_residents(session: Session, _flush: object) -> None:
    """Collect the resident ids of rows inserted or changed in this flush."""
    touched = session.info.setdefault(TOUCHED, set())
    for obj in (*session.new, *session.dirty):
        table = getattr(obj, "__tablename__", "")
        rid = getattr(obj, "id" if table == "identity_resident" else "resident_id", None)
        if isinstance(rid, uuid.UUID):
            touched.add(rid)


def _caller(request: Request) -> Principal | None:
    """The staff principal of an audited (non-read) request, or None."""
    who = getattr(request.state, "principal", None)
    if not isinstance(who, Principal) or not audited(request.method, who.kind):
        return None
    return who
