"""Request body limits, enforced before a byte of an oversized body is parsed.

Every request may carry a small body (`Settings.body_max_bytes`, JSON) unless its route raises
the limit before reading (`kit.http.uploaded_file` does, to its file setting). At the first
read a declared `Content-Length` over the limit is refused; a body sent without one is counted
as it streams and refused once it passes the limit: 413 problem+json in both languages. A route
that refuses the caller first (401) never reads the body at all.
"""

from __future__ import annotations

from urllib.parse import unquote

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civicpoints.kit.http import BODY_LIMIT, BodyLimitOf
from civicpoints.kit.schemas import has_hidden
from civicpoints.web.problems import framework_problem


class BodyTooLarge(HTTPException):
    """Raised from `receive` when the body passes its limit (rendered as a 413 problem)."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


def _declared_length(scope: Scope) -> int | None:
    """The request's Content-Length, or None when absent or not a number."""
    value = _header(scope, b"content-length")
    return int(value) if value is not None and value.isdigit() else None


_HIDDEN_IN_URL = ("地址中含有不可见的控制字符", "the address holds a control character")


def _header(scope: Scope, name: bytes) -> str | None:
    """One request header's value."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class BodyLimit:
    """ASGI middleware: every read of the body is checked against the request's limit, and a
    path or query holding a control character (%00…) is refused before any route sees it (a
    backstop: every request schema's text type refuses them too)."""

    def __init__(self, app: ASGIApp, default: int) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Give the request its limit, then check the declared length and count the bytes."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        url = unquote(scope["path"]) + unquote(scope["query_string"].decode("latin-1"))
        if has_hidden(url):
            response = framework_problem(
                400, _header(scope, b"accept-language"), detail=_HIDDEN_IN_URL
            )
            await response(scope, receive, send)
            return
        limit = scope[BODY_LIMIT] = BodyLimitOf(self.default)
        declared = _declared_length(scope)
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            if declared is not None and declared > limit.bytes:
                raise BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit.bytes:
                    raise BodyTooLarge()
            return message

        await self.app(scope, counted, send)
