"""Every request's id, its log context and its metrics (docs/operations.md).

The outermost middleware: it keeps a well-formed `X-Request-ID` from the client (or a proxy)
or makes one, returns it on the response, binds it (with the caller's pseudonym, once signed in)
to every log line written while the request is answered, uvicorn's access line included, and
counts the request by its route template, never by its raw path (which may hold a voucher code
or a certificate number).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civicpoints.kit.logging import REQUEST_ID, RequestInfo, bind_request, unbind_request
from civicpoints.kit.metrics import LATENCY, REQUESTS

HEADER = "X-Request-ID"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"  # one label for every path no route answers (no unbounded labels)


def request_id_of(scope: Scope) -> str:
    """The client's request id when well formed (8-64 safe characters), else a new one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if REQUEST_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def route_of(scope: Scope) -> str:
    """The template of the route that answered (`/api/v1/vouchers/{code}`), not the path.

    A route included under a prefix knows only its own template: the prefix is the literal
    start of the path before the part the route matched (this app's prefixes are fixed text).
    """
    route, path = scope.get("route"), scope.get("path", "")
    template = getattr(route, "path_format", None)
    pattern = getattr(route, "path_regex", None)
    if not isinstance(route, BaseRoute) or not isinstance(template, str) or pattern is None:
        return UNMATCHED
    for i, char in enumerate(path):
        if char == "/" and pattern.match(path[i:]):
            return (path[:i] + template)[:200]
    return UNMATCHED


class Observe:
    """ASGI middleware: request id, log context and request metrics."""

    def __init__(self, app: ASGIApp, pseudonym: Callable[[str], str]) -> None:
        self.app, self.pseudonym = app, pseudonym

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request inside its log context; count it once answered."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_of(scope)
        scope.setdefault("state", {})
        token = bind_request(RequestInfo(rid, scope, self.pseudonym))
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = route_of(scope)
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            LATENCY.labels(method=method, route=route).observe(time.perf_counter() - started)
            unbind_request(token)
