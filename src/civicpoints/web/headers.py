"""Security headers on every response, and no server banner.

Everything under /api/v1 is personal or authenticated, hence `Cache-Control: no-store`, except
the public ledger reads (signed checkpoints, keys, consistency proofs) that anyone may cache
briefly. The Swagger UI at /docs sends its own, wider policy (see `web.app`).
"""

from __future__ import annotations

import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
_PUBLIC = re.compile(r"^/api/v1/ledger/(checkpoints/latest|keys|buckets/-?\d+/consistency)$")
_BASE = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", CSP),
)


def security_headers(path: str) -> list[tuple[str, str]]:
    """The headers every response to `path` carries (a route may set its own CSP first)."""
    if _PUBLIC.match(path):
        cache = "public, max-age=10"
    elif path.startswith("/api/"):
        cache = "no-store"
    else:
        cache = ""
    return [*_BASE, ("Cache-Control", cache)] if cache else list(_BASE)


class SecurityHeaders:
    """ASGI middleware: adds `security_headers` where missing and drops any `server` header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap `send` so each response start gains the headers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in security_headers(path):
                    headers.setdefault(name, value)
                del headers["server"]
            await send(message)

        await self.app(scope, receive, send_with_headers)
