"""A server process that is full (web/admission.py): a resident who cannot get a turn within
the queue's time sees a page saying the service is busy and to try again, in plain words, in
长辈模式 too — never a spinner that never ends or a stack trace."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.settings import Settings
from civicpoints.web.app import create_app
from tests.e2e.harness import DESKTOP, RESIDENT, check_axe, shoot
from tests.integration.live import live_server


@pytest.fixture
def busy_url(live_settings: Settings, live_sessions: sessionmaker[Session]) -> Iterator[str]:
    """A second server on the demo city that admits one request at a time, queues for 0.3 s,
    and whose one admitted request is held (its commit waits) while the test runs."""
    settings = live_settings.model_copy(update={"requests_in_flight": 1, "request_queue_s": 0.3})
    app = create_app(settings)
    hold, held = threading.Event(), threading.Event()

    def wait(_session: Session) -> None:
        if not hold.is_set():
            held.set()
            hold.wait(30)

    event.listen(app.state.sessions, "before_commit", wait)
    with live_server(settings, app) as client:
        base = str(client.base_url).rstrip("/")
        first = threading.Thread(target=lambda: httpx.get(f"{base}/login", timeout=60))
        first.start()
        assert held.wait(20), "the first request never reached its commit"
        try:
            yield base
        finally:
            hold.set()
            first.join(30)


@pytest.mark.parametrize(("device", "elder"), [(RESIDENT, True), (DESKTOP, False)])
def test_a_full_server_answers_a_page_saying_it_is_busy(
    new_context: Callable[..., BrowserContext],
    expect_status: Callable[..., None],
    busy_url: str,
    device: dict[str, Any],
    elder: bool,
) -> None:
    """503 with Retry-After; the page says 服务繁忙 and to try again shortly; axe clean."""
    expect_status(503)
    context = new_context(**device, base_url=busy_url)
    if elder:
        context.add_cookies([{"name": "cp_elder", "value": "1", "url": busy_url}])
    page = context.new_page()
    response = page.goto("/login")
    assert response is not None and response.status == 503
    assert int(response.headers["retry-after"]) >= 1
    assert page.get_by_role("heading", name="服务繁忙").is_visible()
    assert "请稍等片刻再试" in page.content()
    check_axe(page)
    shoot(page, "busy-elder" if elder else "busy")
