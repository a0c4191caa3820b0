"""A server process under more concurrent requests than it has database connections.

FastAPI runs each sync dependency and endpoint as its own hop onto a thread pool (40 threads),
and a request keeps the connection its `principal` dependency checked out across those hops.
With more requests in flight than connections, every thread could end up waiting for a
connection held by a request that waits for a thread: nothing moved until the pool's 30 s
timeout failed them (found by `bench/cityscale.py`'s 50 concurrent residents: the home page
stalled 60 s). `web/admission.py` admits at most `requests_in_flight` requests at once and
sizes the pool so that every admitted request gets the connections it asks for.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from civicpoints.cli.city import City
from civicpoints.kit.settings import Settings
from civicpoints.web.admission import BACKGROUND_CONNECTIONS, CONNECTIONS_PER_REQUEST, pool_options
from civicpoints.web.app import create_app
from civicpoints.web.problems import PROBLEM
from tests.conftest import PII_KEY

from .live import live_server
from .test_api import login, resident_headers

CONCURRENT = 80  # twice the thread pool, over five times the connections of the old pool


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_many_concurrent_residents_are_all_answered_without_a_pool_timeout(
    settings: Settings, city: City
) -> None:
    """80 residents at once, each its own home page and /me: every answer 200, none a 500
    from a connection that never came (before: 500s after the pool's 30 s timeout)."""
    app = create_app(settings)
    with TestClient(app) as setup:
        tokens = [resident_headers(setup, city, n, verify=False) for n in range(1, 9)]
    with live_server(settings, app) as client:
        base = str(client.base_url)

        def visit(i: int) -> list[int]:
            headers = tokens[i % len(tokens)]
            with httpx.Client(base_url=base, timeout=120) as c:
                return [
                    c.get("/api/v1/me", headers=headers).status_code,
                    c.get("/api/v1/me/points", headers=headers).status_code,
                ]

        with ThreadPoolExecutor(CONCURRENT) as pool:
            statuses = [s for pair in pool.map(visit, range(CONCURRENT)) for s in pair]
    assert statuses.count(200) == len(statuses), sorted(set(statuses))


def test_a_request_that_waits_too_long_for_its_turn_is_answered_busy(
    db_url: str, tmp_path: Path, city: City
) -> None:
    """One request at a time and a 0.3 s queue; while a slow request runs, the next one is
    answered 503 with Retry-After: problem+json for the API, a page for a browser. Paths
    that need no database (/healthz) are not queued."""
    settings = Settings(
        var_dir=tmp_path / "var",
        database_url=db_url,
        pii_key=PII_KEY,
        sequencer_interval_s=0,
        scheduler_enabled=False,
        requests_in_flight=1,
        request_queue_s=0.3,
    )
    app = create_app(settings)
    slow = threading.Event()

    def pause(_session: Session) -> None:
        if slow.is_set():
            time.sleep(2)

    event.listen(app.state.sessions, "before_commit", pause)
    with live_server(settings, app) as client:
        headers = login(client, "organizer")
        slow.set()
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(client.get, "/api/v1/me", headers=headers)
            time.sleep(0.5)  # the first is in, inside its 2 s commit
            api = client.get("/api/v1/me", headers={**headers, "Accept-Language": "en"})
            page = client.get("/login", headers={"Accept": "text/html"})
            alive = client.get("/healthz")
            assert first.result().status_code == 200
    assert (api.status_code, api.headers["content-type"]) == (503, PROBLEM)
    assert api.json()["title"] == "Service busy" and int(api.headers["retry-after"]) >= 1
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert "服务繁忙" in page.text and "retry-after" in page.headers
    assert alive.status_code == 200


def test_the_pool_gives_every_admitted_request_its_connections() -> None:
    """The pool of a process admitting n requests: one connection each kept, room for the
    most each may hold at once, and the background's."""
    for n in (1, 10, 32):
        options = pool_options(n)
        assert options["pool_size"] == n + BACKGROUND_CONNECTIONS
        total = options["pool_size"] + options["max_overflow"]
        assert total == n * CONNECTIONS_PER_REQUEST + BACKGROUND_CONNECTIONS
