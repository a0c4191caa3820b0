"""Errors as pages for browsers, problem+json for the API: one handler per error type.

Anything under `/api/`, `/openapi.json` or `/docs` keeps problem+json (web/problems.py). Every
other path answers a page in the browser's language with the same domain message, never a
stack trace; a page that needs a signed-in browser sends it to sign in and back.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from civicpoints.kit.errors import DomainError, Unauthorized
from civicpoints.web import i18n, problems
from civicpoints.web.pages.kit import CSRF, ELDER, LANG, Page, SignInNeeded

_API = ("/api/", "/openapi.json", "/docs", "/static/")


def is_api(request: Request) -> bool:
    """Whether the request is for the JSON API (or a file), not a page."""
    return request.url.path.startswith(_API)


def bare_page(request: Request) -> Page:
    """A page for an error: language and mode from the cookies, nobody signed in, no database."""
    cookies = request.cookies
    key = cookies.get(CSRF) or secrets.token_urlsafe(24)
    return Page(
        request=request,
        db=cast(Session, None),  # an error page reads nothing
        ctx=request.app.state.ctx,
        who=None,
        locale=i18n.pick(cookies.get(LANG)),
        elder=cookies.get(ELDER) == "1",
        browser_key=key,
    )


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    """The error page: what happened in plain words and where to go next."""
    p = bare_page(request)
    return p.render("error.html", status=status, title=title, message=message)


def _sign_in(request: Request, back: str) -> Response:
    return RedirectResponse(f"/login?next={quote(back, safe='')}", status_code=303)


def _domain(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if is_api(request):
        return problems.domain_problem(request, exc)
    if isinstance(exc, Unauthorized):
        return _sign_in(request, request.url.path)
    loc = i18n.pick(request.cookies.get(LANG))
    return error_page(request, exc.status, exc.title_in(loc), exc.message(loc))


def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if is_api(request):
        return problems.http_problem(request, exc)
    en = i18n.pick(request.cookies.get(LANG)) == "en"
    title, message = problems.framework_texts(exc.status_code, en)
    return error_page(request, exc.status_code, title, message)


def busy(request: Request) -> Response:
    """503 while the process is full (web/admission.py): a page for a browser, problem+json
    for the API; the caller adds Retry-After."""
    return _http(request, HTTPException(503))


def _validation(request: Request, exc: Exception) -> Response:
    if is_api(request):
        return problems.validation_problem(request, exc)
    # A page's forms are read by the page itself; what fails here is the address (an id or a
    # query value that cannot be one): for a person that is an address that does not exist.
    en = i18n.pick(request.cookies.get(LANG)) == "en"
    title, message = problems.framework_texts(404, en)
    return error_page(request, 404, title, message)


def _server(request: Request, exc: Exception) -> Response:
    if is_api(request):
        return problems.server_problem(request, exc)
    # Starlette logs the exception itself (through the redacting handlers) after this answers.
    en = i18n.pick(request.cookies.get(LANG)) == "en"
    title, message = problems.framework_texts(500, en)
    return error_page(request, 500, title, message)


def _signin_needed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInNeeded)
    return _sign_in(request, exc.back)


HANDLERS: dict[Any, Callable[[Request, Exception], Response]] = {
    DomainError: _domain,
    HTTPException: _http,
    RequestValidationError: _validation,
    SignInNeeded: _signin_needed,
    Exception: _server,
}


def install(app: FastAPI) -> None:
    """Register the handlers (after `problems.install`, which they extend)."""
    for kind, handler in HANDLERS.items():
        app.add_exception_handler(kind, handler)
