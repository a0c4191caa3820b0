"""The venue code (签到码) in Chromium: the organizer puts the code on a screen, a resident
reads it and types it at check-in; the screen turns by itself, with JavaScript (htmx) and
without it (a refresh)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from itertools import count

import pytest
from playwright.sync_api import BrowserContext, Page, Request, expect
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.activities import ActivityCreate, ActivityService
from civicpoints.identity import IdentityService
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import build_context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.regions import Level, RegionService
from tests.e2e.harness import DESKTOP, RESIDENT, assert_elderly_rules, check_axe, shoot
from tests.e2e.test_resident import look, register
from tests.e2e.test_staff import staff_principal, staff_sign_in

SITE = (30.2472, 120.1490)  # 柳浪闻莺: the activity's circle, and where the phone says it is
serial = count(1)
TURN_WAIT_MS = 35_000  # a 30 s step, a second's margin, and a slow machine's


@pytest.fixture
def activity(live_sessions: sessionmaker[Session], live_settings: Settings) -> str:
    """A session of 北山街道's organizer running now at SITE."""
    start = utcnow() - timedelta(minutes=15)
    with transaction(live_sessions) as s:
        who = staff_principal(IdentityService(s, build_context(live_settings)), "organizer")
        street = who.grants[0].region_path or ""
        regions = RegionService(s)
        place = next(
            r for r in regions.tree() if r.path.startswith(street) and r.level == Level.COMMUNITY
        )
        org = next(o for o in regions.organizations() if o.region_id == place.id)
        data = ActivityCreate(
            organization_id=org.id,
            region_id=place.id,
            title=f"柳浪闻莺文明劝导 {next(serial)}",
            category="volunteer_service",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            place_name="柳浪闻莺公园东门",
            geofence={"type": "circle", "lat": SITE[0], "lon": SITE[1], "radius_m": 150},
            capacity=30,
        )
        return str(ActivityService(s).create(data, who).id)


def shown_code(page: Page) -> str:
    """The six digits on the organizer's screen."""
    text = page.locator(".venue-code-digits").inner_text()
    digits = re.sub(r"\s", "", text)
    assert re.fullmatch(r"\d{6}", digits), text
    return digits


def live_fetches(page: Page) -> list[Request]:
    """The screen's htmx requests for the next code, as they happen."""
    seen: list[Request] = []
    page.on("request", lambda r: seen.append(r) if r.url.endswith("/venue-code/live") else None)
    return seen


def test_the_organizer_shows_the_code_and_a_resident_checks_in_with_it(
    new_context: Callable[..., BrowserContext], activity: str
) -> None:
    screen = new_context(**DESKTOP).new_page()
    fetches = live_fetches(screen)
    staff_sign_in(screen, "organizer")
    screen.goto(f"/staff/activities/{activity}")
    screen.get_by_role("link", name="显示签到码（投屏用）").click()
    expect(screen.get_by_role("heading", level=1)).to_have_text("签到码")
    expect(screen.locator(".venue-code-when")).to_contain_text("每 30 秒更换一次")
    code = shown_code(screen)
    opened = time.monotonic()
    check_axe(screen)
    shoot(screen, "staff-venue-code")
    # Readable from across a room: digits about 230 px high on a 1280 px screen.
    box = screen.locator(".venue-code-digits").bounding_box()
    assert box is not None and box["height"] >= 200, box
    screen.set_viewport_size(RESIDENT["viewport"])  # a phone held up instead
    assert screen.evaluate("document.documentElement.scrollWidth") <= RESIDENT["viewport"]["width"]
    shoot(screen, "staff-venue-code")
    screen.set_viewport_size(DESKTOP["viewport"])

    phone = new_context(
        **RESIDENT,
        geolocation={"latitude": SITE[0], "longitude": SITE[1], "accuracy": 12},
        permissions=["geolocation"],
    ).new_page()
    register(phone)
    phone.goto(f"/activities/{activity}")
    phone.get_by_role("button", name="报名参加").click()
    phone.get_by_role("link", name="签到").click()
    expect(phone.get_by_role("status")).to_contain_text("已获取位置")
    code_box = phone.get_by_label("现场签到码（选填）")
    expect(code_box).to_have_attribute("inputmode", "numeric")
    code_box.fill(f"{code[:3]} {code[3:]}")  # as the screen shows it, in two groups
    look(phone, "checkin-venue-code")
    phone.get_by_role("button", name="签到").click()
    expect(phone.get_by_role("heading", level=2)).to_have_text("已签到")
    expect(phone.get_by_role("status")).to_contain_text("签到码正确")
    look(phone, "record-venue-code-matched")

    # The screen fetched the next code by itself when this one turned.
    left = TURN_WAIT_MS / 1000 - (time.monotonic() - opened)
    deadline = time.monotonic() + max(left, 1)
    while not fetches and time.monotonic() < deadline:
        screen.wait_for_timeout(500)
    assert fetches, "the screen never asked for the next code"
    expect(screen.locator(".venue-code-digits")).to_have_count(1)
    shown_code(screen)  # still six digits after the swap


def test_a_misread_code_checks_in_and_says_to_ask_the_organizer(
    new_context: Callable[..., BrowserContext], activity: str
) -> None:
    phone = new_context(
        **RESIDENT,
        geolocation={"latitude": SITE[0], "longitude": SITE[1], "accuracy": 12},
        permissions=["geolocation"],
    ).new_page()
    register(phone)
    phone.get_by_role("button", name="长辈模式").click()
    expect(phone.locator("body.elder")).to_have_count(1)  # the switch's page has loaded
    phone.goto(f"/activities/{activity}")
    phone.get_by_role("button", name="报名参加").click()
    phone.get_by_role("link", name="签到").click()
    expect(phone.get_by_role("status")).to_contain_text("已获取位置")
    check_axe(phone)
    assert_elderly_rules(phone)
    shoot(phone, "resident-checkin-venue-code-elder")
    phone.get_by_label("现场签到码（选填）").fill("12345")  # a digit missed: never a code
    phone.get_by_role("button", name="签到").click()
    expect(phone.get_by_role("heading", level=2)).to_have_text("已签到")
    notice = phone.locator(".notice.mismatch")
    expect(notice).to_contain_text("签到码与现场屏幕上的不一致")
    expect(notice).to_contain_text("请问现场的组织者")
    check_axe(phone)
    assert_elderly_rules(phone)
    shoot(phone, "resident-record-venue-code-mismatch-elder")


def test_the_screen_turns_without_javascript(
    new_context: Callable[..., BrowserContext], activity: str
) -> None:
    screen = new_context(**RESIDENT, java_script_enabled=False).new_page()
    staff_sign_in(screen, "organizer")
    screen.goto(f"/staff/activities/{activity}/venue-code")
    shown_code(screen)
    with screen.expect_navigation(timeout=TURN_WAIT_MS):  # <noscript> refresh at the turn
        pass
    expect(screen.get_by_role("heading", level=1)).to_have_text("签到码")
    shown_code(screen)
