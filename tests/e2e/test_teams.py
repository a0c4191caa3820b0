"""志愿队 in a real browser: a member finds the team from the home page with JavaScript off and
reads the pool and each member's contribution; the page in 长辈模式 meets the elderly-friendly
rules; the organizer's and the 民政专干's team pages (axe). Screenshots at 360 px, in 长辈模式
and on the desktop."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from civicpoints.cli.demo_teams import TEAM
from civicpoints.community import Team, TeamService
from civicpoints.identity import IdentityService, Resident, Staff
from civicpoints.kit.context import build_context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from tests.e2e.harness import DESKTOP, RESIDENT, assert_elderly_rules, check_axe, shoot
from tests.e2e.test_every_page import _sign_in
from tests.e2e.test_resident import look, register


def _join(sessions: sessionmaker[Session], settings: Settings, phone_tail: str) -> str:
    """Put the newcomer in the demo team (or, living elsewhere, make them captain of a team
    of their own community), as the city's administrator; the team's name."""
    with transaction(sessions) as s:
        me = s.scalars(select(Resident).where(Resident.phone_masked.endswith(phone_tail))).one()
        admin = s.scalars(select(Staff).where(Staff.username == "admin")).one()
        who = IdentityService(s, build_context(settings)).staff_principal(admin)
        service = TeamService(s)
        team = s.scalars(select(Team).where(Team.name == TEAM)).one()
        if team.community_id == me.community_id:
            service.add_members(who, team.id, [me.id])
            return team.name
        return service.create(who, me.community_id, "沿山河护河队", "", me.id).name


def test_a_member_reads_the_team_page_without_javascript(
    new_context: Callable[..., BrowserContext],
    live_sessions: sessionmaker[Session],
    live_settings: Settings,
) -> None:
    page = new_context(**RESIDENT, java_script_enabled=False).new_page()
    newcomer = register(page)
    name = _join(live_sessions, live_settings, newcomer.phone[-4:])
    page.goto("/")
    expect(page.get_by_role("heading", name="我的志愿队")).to_be_visible()
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_text("团队积分池", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="队员贡献")).to_be_visible()


def test_the_team_pages_at_360_and_in_elder_mode(
    new_context: Callable[..., BrowserContext],
    live_sessions: sessionmaker[Session],
    live_settings: Settings,
    live_url: str,
) -> None:
    page = new_context(**RESIDENT).new_page()
    newcomer = register(page)
    name = _join(live_sessions, live_settings, newcomer.phone[-4:])
    page.goto("/teams")
    look(page, "teams")
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    look(page, "team")
    team_url = page.url
    page.context.add_cookies([{"name": "cp_elder", "value": "1", "url": live_url}])
    for url, shot in ((team_url, "team-elder"), ("/", "home-elder-team")):
        page.goto(url)
        check_axe(page)
        assert_elderly_rules(page)
        shoot(page, f"resident-{shot}")


def test_the_staff_team_pages(new_context: Callable[..., BrowserContext]) -> None:
    page = new_context(**DESKTOP).new_page()
    _sign_in(page, "organizer", DEMO_STAFF_PASSWORD)
    page.goto("/staff/teams")
    expect(page.get_by_role("heading", level=1)).to_have_text("志愿队")
    expect(page.get_by_role("heading", name="组建志愿队")).to_be_visible()
    check_axe(page)
    shoot(page, "staff-teams")
    page.get_by_role("link", name=TEAM).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TEAM)
    expect(page.get_by_role("heading", name="设为积分挑战赛").first).to_be_visible()
    check_axe(page)
    shoot(page, "staff-team-organizer")

    civil = new_context(**DESKTOP).new_page()
    _sign_in(civil, "civil", DEMO_STAFF_PASSWORD)
    civil.goto("/staff/teams")
    civil.get_by_role("link", name=TEAM).click()
    expect(civil.get_by_role("heading", name="用团队积分池兑换社区项目")).to_be_visible()
    expect(civil.locator("#f-item_id")).to_contain_text("捐入社区活动室装修基金")
    check_axe(civil)
    shoot(civil, "staff-team-civil")
    civil.set_viewport_size({"width": 360, "height": 740})
    shoot(civil, "staff-team-civil")
