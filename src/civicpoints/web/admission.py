"""How many requests a server process works on at once, and the database pool they need.

FastAPI runs each sync dependency and each sync endpoint as its own hop onto anyio's thread
pool (40 threads), and a request keeps the connection its first query checked out (identity's
`principal`) until its session closes, several hops later. With more requests in flight than
connections, every thread could end up waiting for a connection while every connection's
request waited for a thread: nothing moved until the pool's timeout failed them all (50
concurrent residents stalled the home page for 60 s in `bench/cityscale.py`).

So a process admits at most `Settings.requests_in_flight` requests into the app; the rest wait
in the event loop, where waiting costs neither a thread nor a connection, in arrival order. The
pool holds enough connections for every admitted request to have all it asks for at once
(`pool_options`), and the thread pool has more threads than admitted requests, so an admitted
request never waits for either and the process cannot deadlock. A request that waits longer
than `Settings.request_queue_s` is answered 503 with `Retry-After` (a page for a browser,
problem+json for the API). Paths that never touch the database (`/static/`, `/healthz`) are
not counted. CPU, not concurrency, bounds a process's throughput (the GIL): admitting more
would only lengthen every request.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from civicpoints.kit.metrics import ADMISSION_WAIT

# The most connections one request holds at once: its session, a read-only or snapshot
# session beside it (reports), and the audit hook's own transaction after a failure.
CONNECTIONS_PER_REQUEST = 3
# The background work of the leading process (sequencer pass, one scheduled job at a time)
# takes connections from the same pool without holding a request's thread.
BACKGROUND_CONNECTIONS = 2
UNCOUNTED = ("/static/", "/healthz")


def pool_options(in_flight: int) -> dict[str, int]:
    """`create_engine` pool arguments for a process admitting `in_flight` requests: one
    connection each kept open, enough overflow for every request's most at once."""
    most = in_flight * CONNECTIONS_PER_REQUEST + BACKGROUND_CONNECTIONS
    keep = in_flight + BACKGROUND_CONNECTIONS
    return {"pool_size": keep, "max_overflow": most - keep}


class Admission:
    """ASGI middleware: at most `limit` requests of this process inside the app at once."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        wait_s: float,
        busy: Callable[[Request], Response],
    ) -> None:
        self.app = app
        self.limit = limit
        self.wait_s = wait_s
        self.busy = busy  # the 503 answer (web/pages/errors.py: a page or problem+json)
        # One semaphore per event loop: an asyncio primitive belongs to the loop it first
        # waited on, and tests serve one app from several loops in turn.
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._turns = weakref.WeakKeyDictionary()

    def _turn(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        turn = self._turns.get(loop)
        if turn is None:
            turn = self._turns[loop] = asyncio.Semaphore(self.limit)
        return turn

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wait for a turn (at most `wait_s`), then run the request; or answer 503."""
        if scope["type"] != "http" or scope["path"].startswith(UNCOUNTED):
            await self.app(scope, receive, send)
            return
        turn = self._turn()
        started = time.perf_counter()
        try:
            await asyncio.wait_for(turn.acquire(), self.wait_s)
        except TimeoutError:
            ADMISSION_WAIT.observe(time.perf_counter() - started)
            response = self.busy(Request(scope, receive))
            response.headers["Retry-After"] = str(max(1, round(self.wait_s / 2)))
            await response(scope, receive, send)
            return
        ADMISSION_WAIT.observe(time.perf_counter() - started)
        try:
            await self.app(scope, receive, send)
        finally:
            turn.release()


def admit(app: Any, limit: int, wait_s: float, busy: Callable[[Request], Response]) -> None:
    """Add `Admission` to `app` (call it first among the middleware: it is then innermost,
    inside the request id, the metrics and the security headers, which its 503 gets too)."""
    app.add_middleware(Admission, limit=limit, wait_s=wait_s, busy=busy)
