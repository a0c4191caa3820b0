"""HTTP plumbing shared by the domain routers: the request's session, context and locale.

The request owns the transaction (DESIGN.md §3): `session` commits when the endpoint returns
and rolls back when it raises. Both sessions are function-scoped dependencies: FastAPI closes
them before the response is sent, so a 2xx means committed and a failed commit becomes an error
response (with the default request scope the commit ran after the client had its answer).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from civicpoints.kit import idempotency
from civicpoints.kit.context import Context
from civicpoints.kit.db import (
    make_read_session_factory,
    make_snapshot_session_factory,
    transaction,
)
from civicpoints.kit.errors import DEFAULT_LOCALE, ContentTooLarge


class OutcomeHook(Protocol):
    """Told how a request's transaction ends (the audit log: `audit.hook.AuditHook`)."""

    def succeeded(self, request: Request, session: Session) -> None:
        """Called inside the transaction, just before it commits."""

    def failed(self, request: Request, exc: BaseException) -> None:
        """Called after the transaction rolled back."""


# `request.state` key: the status a page answered with (set by the page's response).
ANSWERED = "answered_status"


def session(request: Request) -> Iterator[Session]:
    """One transaction per request; the app's outcome hook sees how it ends.

    A page that answers a write with 4xx (a form shown again beside its errors) returns
    normally, yet was refused: its transaction is rolled back and recorded as refused, the
    same as an API call that raised.
    """
    hook: OutcomeHook | None = getattr(request.app.state, "outcome_hook", None)
    refused: HTTPException | None = None
    try:
        with transaction(request.app.state.sessions) as s:
            yield s
            refused = refused_page(request)
            if refused is not None:
                s.rollback()
            elif hook is not None:
                hook.succeeded(request, s)
    except Exception as exc:
        if hook is not None:
            hook.failed(request, exc)
        raise
    if refused is not None and hook is not None:
        hook.failed(request, refused)


def refused_page(request: Request) -> HTTPException | None:
    """The refusal of a write a page answered with a 4xx status, if it did."""
    status = getattr(request.state, ANSWERED, None)
    if request.method in ("GET", "HEAD") or not isinstance(status, int) or status < 400:
        return None
    return HTTPException(status)


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


@contextmanager
def snapshot(request: Request) -> Iterator[Session]:
    """A read-only transaction on one snapshot of the database (`make_snapshot_session_factory`),
    besides the request's own: for a report whose figures must agree with each other."""
    state = request.app.state
    if not hasattr(state, "snapshot_sessions"):
        state.snapshot_sessions = make_snapshot_session_factory(state.engine)
    with transaction(state.snapshot_sessions) as s:
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


# Every dependent (e.g. identity's `principal`) must take the session through these aliases: a
# plain Depends(session) has the request scope, a different cache key, hence a second session.
DbSession = Annotated[Session, Depends(session, scope="function")]
ReadSession = Annotated[Session, Depends(read_session, scope="function")]
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


@dataclass
class Once:
    """An endpoint's retry-safe runner: its session, request and Idempotency-Key together."""

    db: Session
    request: Request
    key: str | None

    def __call__(
        self, principal: str, body: Any, produce: Callable[[], BaseModel], status: int = 200
    ) -> Any:
        """`idempotent` for this request: `body` (a model, or None) is what a retry must match."""
        shown = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
        return idempotent(self.db, principal, self.key, self.request, shown, produce, status)


def once(db: DbSession, request: Request, key: IdempotencyKey = None) -> Once:
    """The request's `Once` (the same session as the endpoint's own `DbSession`)."""
    return Once(db, request, key)


Idempotent = Annotated[Once, Depends(once)]

# The request scope's key for its body limit (set by web/limits.py, raised by upload routes).
BODY_LIMIT = "civicpoints.body_limit"
# Room for the multipart framing (boundaries, part headers) around an uploaded file.
MULTIPART_SLACK = 64 * 1024


@dataclass
class BodyLimitOf:
    """The most bytes this request's body may have; a route raises it before reading."""

    bytes: int


def file_upload(field: str, description: str) -> dict[str, Any]:
    """`openapi_extra` of a route whose body is one file (read by `uploaded_file`)."""
    schema = {
        "type": "object",
        "required": [field],
        "properties": {field: {"type": "string", "format": "binary", "description": description}},
    }
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }


def uploaded_file(
    field: str, limit_setting: str, caller: Callable[..., Any]
) -> Callable[..., Awaitable[bytes]]:
    """A dependency giving the bytes of the form's file `field` (at most limit + 1 bytes).

    FastAPI parses File() parameters before any dependency runs, so an anonymous caller's upload
    was read before the 401; this reads the body only after `caller` has let the request in,
    and lets the body grow to the file's limit (`limit_setting`) plus the multipart framing.
    """

    async def read(request: Request, _caller: Any) -> bytes:
        limit = int(getattr(request.app.state.ctx.settings, limit_setting))
        if isinstance(budget := request.scope.get(BODY_LIMIT), BodyLimitOf):
            budget.bytes = limit + MULTIPART_SLACK
        try:
            async with request.form(max_files=1, max_fields=8) as form:
                upload = form.get(field)
                if not isinstance(upload, UploadFile):
                    raise RequestValidationError(
                        [{"type": "missing", "loc": ("body", field), "msg": "Field required"}]
                    )
                return await upload.read(limit + 1)  # never more than one byte past the limit
        except HTTPException as exc:  # the body limit, raised while the form streamed in
            if exc.status_code == 413:
                raise ContentTooLarge(field, limit) from None
            raise

    # Set here, not in the signature: with postponed annotations FastAPI could not resolve the
    # local `caller` and would take `_caller` for a query parameter.
    read.__annotations__["_caller"] = Annotated[Any, Depends(caller)]
    return read
