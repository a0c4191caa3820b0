"""HTTP plumbing shared by the domain routers: the request's session, context and locale.

The request owns the transaction (DESIGN.md §3): `session` commits when the endpoint returns
and rolls back when it raises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any, Protocol

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from civicpoints.kit import idempotency
from civicpoints.kit.context import Context
from civicpoints.kit.db import make_read_session_factory, transaction
from civicpoints.kit.errors import DEFAULT_LOCALE


class OutcomeHook(Protocol):
    """Told how a request's transaction ends (the audit log: `audit.hook.AuditHook`)."""

    def succeeded(self, request: Request, session: Session) -> None:
        """Called inside the transaction, just before it commits."""

    def failed(self, request: Request, exc: BaseException) -> None:
        """Called after the transaction rolled back."""


def session(request: Request) -> Iterator[Session]:
    """One transaction per request; the app's outcome hook sees how it ends."""
    hook: OutcomeHook | None = getattr(request.app.state, "outcome_hook", None)
    try:
        with transaction(request.app.state.sessions) as s:
            yield s
            if hook is not None:
                hook.succeeded(request, s)
    except Exception as exc:
        if hook is not None:
            hook.failed(request, exc)
        raise


def read_session(request: Request) -> Iterator[Session]:
    """One read-only transaction per request, for endpoints that write nothing.

    On SQLite it does not queue behind writers for the write lock (see
    `make_read_session_factory`); authenticate the caller through it too (one transaction).
    """
    state = request.app.state
    if not hasattr(state, "read_sessions"):  # made once per app, from the app's engine
        state.read_sessions = make_read_session_factory(state.engine)
    with transaction(state.read_sessions) as s:
        yield s


def context(request: Request) -> Context:
    """The application's context."""
    ctx: Context = request.app.state.ctx
    return ctx


def locale_of(accept_language: str | None) -> str:
    """zh-CN unless the client prefers English."""
    if accept_language and accept_language.lower().lstrip().startswith("en"):
        return "en"
    return DEFAULT_LOCALE


DbSession = Annotated[Session, Depends(session)]
ReadSession = Annotated[Session, Depends(read_session)]
Ctx = Annotated[Context, Depends(context)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="retry-safe key: a retry returns the first result"),
]


def idempotent(
    db: Session,
    principal: str,
    key: str | None,
    request: Request,
    body: Any,
    produce: Callable[[], BaseModel],
    status: int = 200,
) -> Any:
    """Run `produce` once per (principal, key); a retry returns the stored first response.

    A twin sent while the first still runs waits for it and replays its answer (`claim`).
    """
    if key is None:
        return produce()
    fp = idempotency.fingerprint(request.method, request.url.path, body)
    earlier = idempotency.claim(db, principal, idempotency.check_key(key), fp, status)
    if earlier is not None:
        return JSONResponse(
            earlier.body, status_code=earlier.status, headers={"Idempotent-Replayed": "true"}
        )
    result = produce()
    idempotency.finish(db, principal, key, status, result.model_dump(mode="json"))
    return result
