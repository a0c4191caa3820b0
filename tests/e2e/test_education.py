"""教育积分 in a real browser: the demo's parent sees their daughter's education points with
their expiry, links another child without JavaScript (a wrong ID number is refused beside the
field), chooses the daughter's account on an upcoming 教育支持 activity; the education officer's
desk lists the link. axe on every page; screenshots at 360 px, in 长辈模式 and on the desktop."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.activities import Activity
from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from civicpoints.cli.demo_data import DEMO_PASSWORD, with_check_char
from civicpoints.identity import Child, GuardianLink, Resident
from civicpoints.kit.clock import utcnow
from tests.e2e.harness import DESKTOP, RESIDENT, assert_elderly_rules, check_axe, shoot
from tests.e2e.test_every_page import _sign_in
from tests.e2e.test_resident import look

SON = with_check_char("33010520200315101")  # 小山, born 2020


@pytest.fixture(scope="module")
def parent(live_sessions: sessionmaker[Session]) -> tuple[str, str]:
    """The demo parent's platform number (a sign-in name) and their daughter's name."""
    with live_sessions() as s:
        row = s.execute(
            select(Resident.public_no, Child.name)
            .join(GuardianLink, GuardianLink.guardian_id == Resident.id)
            .join(Child, Child.id == GuardianLink.child_id)
            .where(GuardianLink.status == "confirmed")
        ).first()
    assert row is not None
    return row[0], row[1]


@pytest.mark.expect_status(422)  # the wrong ID number: the form again, with the reason
def test_a_guardian_sees_and_links_children_without_javascript(
    new_context: Callable[..., BrowserContext], parent: tuple[str, str]
) -> None:
    page = new_context(**RESIDENT, java_script_enabled=False).new_page()
    _sign_in(page, parent[0], DEMO_PASSWORD)
    page.get_by_role("link", name="我的子女").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("教育积分")
    expect(page.get_by_role("heading", name=parent[1])).to_be_visible()
    expect(page.get_by_text("教育部门已确认")).to_be_visible()
    expect(page.locator("#linked .facts")).to_contain_text("20")
    page.get_by_label("子女姓名").fill(parent[1][0] + "小山")
    page.get_by_label("子女身份证号码").fill(SON[:-1] + ("0" if SON[-1] != "0" else "1"))
    page.get_by_role("button", name="申请关联").click()
    expect(page.locator(".error-summary")).to_contain_text("身份证号码")
    page.get_by_label("子女身份证号码").fill(SON)
    page.get_by_role("button", name="申请关联").click()
    expect(page.get_by_role("heading", name=parent[1][0] + "小山")).to_be_visible()
    expect(page.get_by_text("等待教育部门确认")).to_be_visible()


def test_the_guardian_pages_at_360_and_in_elder_mode(
    new_context: Callable[..., BrowserContext],
    live_sessions: sessionmaker[Session],
    live_url: str,
    parent: tuple[str, str],
) -> None:
    with live_sessions() as s:
        upcoming = s.scalars(
            select(Activity.id)
            .where(Activity.category == "education_support", Activity.starts_at > utcnow())
            .order_by(Activity.starts_at)
        ).first()
    assert upcoming is not None
    page = new_context(**RESIDENT).new_page()
    _sign_in(page, parent[0], DEMO_PASSWORD)
    page.goto("/children")
    look(page, "children")
    page.goto(f"/activities/{upcoming}")
    expect(page.get_by_role("group", name="这次活动的积分计入")).to_be_visible()
    page.get_by_label(f"{parent[1]} 的教育积分").check()
    page.get_by_role("button", name="保存积分去向").click()
    expect(page.get_by_label(f"{parent[1]} 的教育积分")).to_be_checked()
    look(page, "activity-education-credit")
    page.context.add_cookies([{"name": "cp_elder", "value": "1", "url": live_url}])
    for url, name in (
        ("/children", "children-elder"),
        (f"/activities/{upcoming}", "activity-elder-credit"),
    ):
        page.goto(url)
        check_axe(page)
        assert_elderly_rules(page)
        shoot(page, f"resident-{name}")


def test_the_education_desk(new_context: Callable[..., BrowserContext]) -> None:
    page = new_context(**DESKTOP).new_page()
    _sign_in(page, "edu_officer", DEMO_STAFF_PASSWORD)
    page.get_by_role("link", name="教育积分").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("教育积分")
    expect(page.get_by_role("heading", name="申请关联子女的监护人")).to_be_visible()
    check_axe(page)
    shoot(page, "staff-education")
    page.set_viewport_size({"width": 360, "height": 740})
    shoot(page, "staff-education")
