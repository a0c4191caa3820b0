"""Browser tests: Debian's Chromium through pytest-playwright, against the app on a loopback port.

DESIGN.md §7 and docs/testing-browser.md. Every browser context a test opens through the
`new_context`, `context`, `page`, `resident_page` or `desktop_page` fixtures is watched by the
`guard`: console errors, page errors, failed requests, unexpected HTTP errors and any request
leaving 127.0.0.1 (blocked) fail the test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    BrowserType,
    Page,
    Playwright,
    sync_playwright,
)
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.demo import load_demo
from civicpoints.kit.context import build_context
from civicpoints.kit.db import make_engine, make_session_factory, transaction
from civicpoints.kit.migrate import upgrade
from civicpoints.kit.settings import Settings
from civicpoints.ledger import LedgerService
from tests.conftest import PII_KEY
from tests.e2e.harness import DESKTOP, RESIDENT, Guard
from tests.integration.live import live_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_RESIDENTS = 20  # and the two story residents (张秀英, 李建国): loads in ~4 s
DEMO_SEED = 7


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, never a downloaded one (no `playwright install`); headless."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium and "
            "fonts-noto-cjk). Browser tests fail rather than skip without it.",
            pytrace=False,
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
        "headless": browser_type_launch_args.get("headless", True),  # --headed to watch
    }


# The plugin's playwright, browser_type, launch_browser, browser and browser_context_args are
# session-scoped; these replace them at package scope. A started sync Playwright keeps an asyncio
# loop running in the main thread, and tests after tests/e2e that call asyncio.run() (e.g.
# test_web_hardening) would fail with "cannot be called from a running event loop". The browser
# now stops when the last e2e test is done.


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """Playwright for the e2e tests only (see above)."""
    pw = sync_playwright().start()
    yield pw
    pw.stop()


@pytest.fixture(scope="package")
def browser_type(playwright: Playwright, browser_name: str) -> BrowserType:
    """Chromium (the only browser installed)."""
    browser: BrowserType = getattr(playwright, browser_name)
    return browser


@pytest.fixture(scope="package")
def launch_browser(
    browser_type_launch_args: dict[str, Any], browser_type: BrowserType
) -> Callable[..., Browser]:
    """Launch a browser with the launch args below (and any keyword overrides)."""

    def launch(**kwargs: Any) -> Browser:
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="package")
def browser(launch_browser: Callable[..., Browser]) -> Iterator[Browser]:
    """One Chromium for the e2e package."""
    launched = launch_browser()
    yield launched
    launched.close()


@pytest.fixture(scope="package")
def browser_context_args() -> dict[str, Any]:
    """Nothing from the command line (--device, --base-url, --video are not used here): the
    house defaults are in `new_context`. The `browser_context_args` marker still works."""
    return {}


@pytest.fixture(scope="package")
def live_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The live server's settings: its own SQLite file, a fixed PII key, no background jobs."""
    base = tmp_path_factory.mktemp("e2e")
    return Settings(
        var_dir=base / "var",
        database_url=f"sqlite:///{base / 'e2e.db'}",
        pii_key=PII_KEY,
        sequencer_interval_s=0,
        scheduler_enabled=False,
    )


@pytest.fixture(scope="package")
def live_sessions(live_settings: Settings) -> Iterator[sessionmaker[Session]]:
    """The live server's database, migrated, with the demo pilot city loaded.

    Tests may read it (or write, e.g. to run the sequencer) but share it for the whole session:
    change only what your test owns.
    """
    live_settings.var_dir.mkdir(parents=True, exist_ok=True)
    url = live_settings.resolved_database_url()
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        LedgerService(s).initialize(live_settings.ledger_buckets)
    load_demo(sessions, build_context(live_settings), residents=DEMO_RESIDENTS, seed=DEMO_SEED)
    yield sessions
    engine.dispose()


@pytest.fixture(scope="package")
def live_url(live_settings: Settings, live_sessions: sessionmaker[Session]) -> Iterator[str]:
    """`http://127.0.0.1:<port>`: the app served by uvicorn in a thread, demo city loaded."""
    with live_server(live_settings) as client:
        yield str(client.base_url).rstrip("/")


@pytest.fixture(autouse=True)
def guard(request: pytest.FixtureRequest) -> Iterator[Guard]:
    """Watches every context of the test; fails it at teardown listing what went wrong.

    `@pytest.mark.expect_status(403)` or the `expect_status` fixture declares an error status
    the test expects (it must then occur); `guard.allow(regex)` ignores a problem, with a reason.
    """
    watcher = Guard()
    for marker in request.node.iter_markers("expect_status"):
        watcher.expect(*marker.args)
    yield watcher
    watcher.check()


@pytest.fixture
def expect_status(guard: Guard) -> Callable[..., None]:
    """`expect_status(403)`: this test expects a 403 response (and fails if none comes)."""
    return guard.expect


@pytest.fixture
def new_context(
    guard: Guard,
    new_context: Callable[..., BrowserContext],
    browser_context_args: dict[str, Any],
    request: pytest.FixtureRequest,
    live_url: str,
) -> Callable[..., BrowserContext]:
    """pytest-playwright's `new_context`, guarded, with the house defaults.

    Defaults: base_url = the live server (so `page.goto("/")` works), zh-CN, Beijing time,
    the desktop viewport. Keyword arguments override them, e.g. `new_context(**RESIDENT)`.
    """
    marker = next(request.node.iter_markers("browser_context_args"), None)
    supplied = set(browser_context_args) | set(marker.kwargs if marker else ())
    defaults = {"base_url": live_url, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}

    def make(**kwargs: Any) -> BrowserContext:
        clash = supplied & set(kwargs)
        assert not clash, f"{sorted(clash)} given both here and by a marker or option"
        options = {**defaults, **DESKTOP, **kwargs}
        context = new_context(**{k: v for k, v in options.items() if k not in supplied})
        guard.watch(context)
        return context

    return make


@pytest.fixture
def resident_page(new_context: Callable[..., BrowserContext]) -> Page:
    """A page on an old Android phone: 360×740 CSS px, scale 2, touch."""
    return new_context(**RESIDENT).new_page()


@pytest.fixture
def desktop_page(new_context: Callable[..., BrowserContext]) -> Page:
    """A page on an office PC: 1280×800."""
    return new_context(**DESKTOP).new_page()
