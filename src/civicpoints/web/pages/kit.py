"""What every page needs: templates, the browser's session cookie, CSRF, language, 长辈模式.

A signed-in browser holds the same opaque token the API hands out, in an HttpOnly,
SameSite=Lax cookie (Secure over HTTPS), so sign-out, expiry and revocation work the same for
both. Every form and htmx request carries a CSRF token: a keyed HMAC (the PII cipher's blind
index, its own context) of a random per-browser cookie — the signed double-submit pattern.
The API keeps bearer tokens and needs no CSRF token (a browser never sends them by itself).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from civicpoints.access import Principal
from civicpoints.identity import IdentityService
from civicpoints.kit.context import Context
from civicpoints.kit.errors import ContentTooLarge, DomainError, Forbidden, Unauthorized
from civicpoints.kit.http import (
    ANSWERED,
    BODY_LIMIT,
    MULTIPART_SLACK,
    BodyLimitOf,
    Ctx,
    DbSession,
    ReadSession,
)
from civicpoints.web import i18n

TEMPLATES = Path(__file__).parent.parent / "templates"
SESSION, CSRF, LANG, ELDER = "cp_session", "cp_csrf", "cp_lang", "cp_elder"
CSRF_FIELD, CSRF_HEADER = "csrf_token", "x-csrf-token"
YEAR = 365 * 24 * 3600

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class CsrfRejected(DomainError):
    """A form or htmx request without the token of the page it came from."""

    code = "web.csrf"
    status = 403
    title = {"zh-CN": "页面已过期", "en": "Page expired"}
    messages = {
        "zh-CN": "页面已过期或来源不明，未做任何更改。请返回，刷新页面后再试一次。",
        "en": "This page has expired or did not come from us; nothing was changed. "
        "Go back, reload the page and try again.",
    }


class SignInNeeded(Exception):
    """Raised by a page that needs a signed-in browser; answered with a redirect to sign in."""

    def __init__(self, back: str) -> None:
        super().__init__(back)
        self.back = back


def local_path(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this site, else `default` (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@dataclass
class Page:
    """One page request: who is asking, in which language and mode, and the cookies to set."""

    request: Request
    db: Session
    ctx: Context
    who: Principal | None
    locale: str
    elder: bool
    browser_key: str
    cookies: dict[str, tuple[str, int | None]] = field(default_factory=dict)

    @property
    def csrf(self) -> str:
        """The token this browser's forms carry."""
        return self.ctx.cipher.blind_index(self.browser_key, "web.csrf")

    def _(self, message: str, **params: Any) -> str:
        """`message` translated into the page's language, `%(name)s` parameters filled."""
        text = i18n.translations(self.locale).gettext(message)
        return text % params if params else text

    def render(self, template: str, status: int = 200, **data: Any) -> HTMLResponse:
        """The template rendered for this request, with the page's cookies set."""
        html = env.get_template(template).render(**self.globals(), **data)
        return self.finish(HTMLResponse(html, status_code=status))

    def globals(self) -> dict[str, Any]:
        """What every template may use."""
        loc = self.locale
        return {
            "_": self._,
            "page": self,
            "who": self.who,
            "locale": loc,
            "elder": self.elder,
            "csrf": self.csrf,
            "path": self.request.url.path,
            "here": self.here,
            "when": lambda v: i18n.when(v, loc),
            "day": lambda v: i18n.day(v, loc),
            "calendar_month": lambda v: i18n.month(v, loc),
            "num": lambda v: i18n.number(v, loc),
            "dec": lambda v: i18n.decimal(v, loc),
            "yuan": lambda v: i18n.yuan(v, loc),
        }

    @property
    def here(self) -> str:
        """This page's path and query, quoted for a `next=` parameter."""
        url = self.request.url
        return quote(url.path + (f"?{url.query}" if url.query else ""), safe="")

    def redirect(self, to: str) -> RedirectResponse:
        """303 See Other to a path on this site (after a form post: no resubmission)."""
        return self.finish(RedirectResponse(local_path(to), status_code=303))

    def finish(self, response: Any) -> Any:
        """Set the cookies this request decided on; nothing personal is cached."""
        secure = self.request.url.scheme == "https"
        for name, (value, age) in self.cookies.items():
            if age == 0:
                response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")
            else:
                response.set_cookie(
                    name, value, max_age=age, path="/", secure=secure, httponly=True, samesite="lax"
                )
        # The request's transaction reads it: a write answered with 4xx is rolled back, and
        # the audit log records the status the browser got (kit/http.py `session`).
        setattr(self.request.state, ANSWERED, response.status_code)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Vary"] = "Cookie"
        return response

    def sign_in(self, raw_token: str) -> None:
        """Keep the new session's token; a fresh CSRF key with it (no fixation)."""
        self.cookies[SESSION] = (raw_token, None)
        self.browser_key = secrets.token_urlsafe(24)
        self.cookies[CSRF] = (self.browser_key, None)

    def sign_out(self) -> None:
        """Forget the session cookie."""
        self.cookies[SESSION] = ("", 0)

    def remember(self, name: str, value: str) -> None:
        """A preference cookie (language, 长辈模式) kept for a year."""
        self.cookies[name] = (value, YEAR)

    async def check_csrf(self) -> None:
        """Refuse a state-changing request whose token is not this browser's."""
        sent = self.request.headers.get(CSRF_HEADER)
        if sent is None:
            form = await self.request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        if sent is None or not hmac.compare_digest(sent, self.csrf):
            raise CsrfRejected()


def _who(db: Session, ctx: Context, token: str | None) -> Principal | None:
    if not token:
        return None
    try:
        return IdentityService(db, ctx).authenticate(token)
    except Unauthorized:
        return None


def _open(request: Request, db: Session, ctx: Context) -> Page:
    """The page request as the cookies describe it (nothing of the body read yet)."""
    cookies = request.cookies
    key = cookies.get(CSRF) or ""
    p = Page(
        request=request,
        db=db,
        ctx=ctx,
        who=_who(db, ctx, cookies.get(SESSION)),
        locale=i18n.pick(cookies.get(LANG)),
        elder=cookies.get(ELDER) == "1",
        browser_key=key or secrets.token_urlsafe(24),
    )
    if not key:
        p.cookies[CSRF] = (p.browser_key, None)
    if p.who is not None:
        request.state.principal = p.who  # the audit log names the actor from it
    return p


async def page(request: Request, db: DbSession, ctx: Ctx) -> Page:
    """The page request; a POST must carry this browser's CSRF token."""
    p = _open(request, db, ctx)
    if request.method not in ("GET", "HEAD"):
        await p.check_csrf()
    return p


def _path_of(request: Request) -> str:
    url = request.url
    return url.path + (f"?{url.query}" if url.query else "")


def resident_page(p: Annotated[Page, Depends(page)]) -> Page:
    """A page for a signed-in resident; others are sent to sign in (staff: 403)."""
    if p.who is None:
        raise SignInNeeded(_path_of(p.request))
    if p.who.kind != "resident":
        raise Forbidden()
    return p


def staff_page(p: Annotated[Page, Depends(page)]) -> Page:
    """A page for signed-in staff; a resident gets 403, a stranger the sign-in page."""
    if p.who is None:
        raise SignInNeeded(_path_of(p.request))
    if p.who.kind != "staff":
        raise Forbidden()
    return p


async def resident_upload_page(request: Request, db: DbSession, ctx: Ctx) -> Page:
    """A resident's multipart form with one photo: the caller is known before the body is
    read, which may then grow to the upload limit (as the API's `uploaded_file` allows)."""
    return await _resident_upload(request, db, ctx, files=1)


async def resident_appeal_page(request: Request, db: DbSession, ctx: Ctx) -> Page:
    """An appeal's multipart form: one photo, from the camera or from the phone's files (two
    inputs, one of them left empty, so two file parts); the same limit as one photo."""
    return await _resident_upload(request, db, ctx, files=2)


async def _resident_upload(request: Request, db: DbSession, ctx: Ctx, files: int) -> Page:
    p = resident_page(_open(request, db, ctx))
    limit = ctx.settings.upload_max_bytes
    if isinstance(budget := request.scope.get(BODY_LIMIT), BodyLimitOf):
        budget.bytes = limit + MULTIPART_SLACK
    try:
        await request.form(max_files=files, max_fields=8)  # kept by the request for the handler
    except HTTPException as exc:  # the body limit, passed while the form streamed in
        if exc.status_code == 413:
            raise ContentTooLarge("photo", limit) from None
        raise
    await p.check_csrf()
    return p


AnyPage = Annotated[Page, Depends(page)]


def staff_photo_page(request: Request, db: ReadSession, ctx: Ctx) -> Page:
    """A photo for signed-in staff, read in a read-only transaction. A page with several
    photos loads them at once; on SQLite a read-only transaction neither takes nor waits for
    the write lock, so the photos never queue behind each other (nor time out doing so)."""
    return staff_page(_open(request, db, ctx))


async def staff_import_page(request: Request, db: DbSession, ctx: Ctx) -> Page:
    """A staff CSV import form: only a signed-in staff member's body may grow to the import
    limit (twice the file: the confirm step carries it back in base64), then CSRF is checked."""
    p = staff_page(_open(request, db, ctx))
    limit = ctx.settings.import_max_bytes
    if isinstance(budget := request.scope.get(BODY_LIMIT), BodyLimitOf):
        budget.bytes = limit * 2 + MULTIPART_SLACK
    await request.form(max_files=1, max_fields=8)  # kept by the request for the handler
    await p.check_csrf()
    return p


ResidentUploadPage = Annotated[Page, Depends(resident_upload_page)]
ResidentAppealPage = Annotated[Page, Depends(resident_appeal_page)]
StaffImportPage = Annotated[Page, Depends(staff_import_page)]
ResidentPage = Annotated[Page, Depends(resident_page)]
StaffPage = Annotated[Page, Depends(staff_page)]
StaffPhotoPage = Annotated[Page, Depends(staff_photo_page)]
