"""志愿队 pages on both engines: the organizer creates a team with its captain, adds a member
and makes an activity a team challenge by plain forms; the 民政专干 pays a community item from
the pool (more than it holds is shown beside the field, nothing written); the captain's home
page links to the team page, which shows the pool and each member's contribution with the
others' names masked; another community's staff get 404."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.activities.models import Activity
from civicpoints.cli.city import City
from civicpoints.cli.demo_rewards import Rewards
from civicpoints.community.team_models import Team, TeamRedemption
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import CreditRequest, LedgerService, Movement, team_pool_of
from civicpoints.web.app import create_app

from .pages import post_form, sign_in
from .test_api import DEMO_STAFF_PASSWORD, register
from .test_pages_rewards import Fund, resident

TEAM_LINK = re.compile(r'href="/teams/([0-9a-f-]{36})"')


@pytest.fixture
def organizer(settings: Settings, city: City) -> Iterator[TestClient]:
    """A browser signed in as the street's organizer (社工)."""
    with TestClient(create_app(settings)) as c:
        sign_in(c, "organizer", DEMO_STAFF_PASSWORD)
        yield c


@pytest.fixture
def civil(settings: Settings, city: City) -> Iterator[TestClient]:
    """A browser signed in as the community's 民政专干."""
    with TestClient(create_app(settings)) as c:
        sign_in(c, "civil", DEMO_STAFF_PASSWORD)
        yield c


def count(sessions: sessionmaker[Session], model: type) -> int:
    """Rows of a table."""
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def fill_pool(sessions: sessionmaker[Session], team_id: uuid.UUID, points: int) -> None:
    """Credit a team's pool one lot (as a challenge's awards would)."""
    now = utcnow()
    move = Movement("award", points, "test", "测试 / test", "test", now, f"pool:{team_id}")
    with transaction(sessions) as s:
        LedgerService(s).credit_many(
            [
                CreditRequest(
                    team_pool_of(team_id), move, now + timedelta(days=300), kind="team_pool"
                )
            ]
        )


def test_staff_build_a_team_and_spend_its_pool_and_members_see_it(
    client: TestClient,
    organizer: TestClient,
    civil: TestClient,
    settings: Settings,
    city: City,
    rewards: Rewards,
    sessions: sessionmaker[Session],
    fund: Fund,
    make_activity: Callable[..., uuid.UUID],
) -> None:
    """Create, add, challenge, pay 3 units (300 of 350), refuse 1 more (50 left): 409 beside
    the field, nothing written; the captain's pages."""
    captain = resident(client, city, fund, points=0)
    assert register(client, city, 2).status_code == 201
    home = city.communities[0].id

    page = organizer.get("/staff/teams")
    assert page.status_code == 200 and "组建志愿队" in page.text
    blank = post_form(
        organizer,
        "/staff/teams",
        "/staff/teams",
        community_id=str(home),
        name="",
        description="",
        captain=captain,
    )
    assert blank.status_code == 422 and "请填写队名" in blank.text and count(sessions, Team) == 0
    made = post_form(
        organizer,
        "/staff/teams",
        "/staff/teams",
        community_id=str(home),
        name="北山河道清洁志愿队",
        description="每月清理河道",
        captain=captain,
    )
    assert made.status_code == 303, made.text
    team_page = made.headers["location"]
    team_id = uuid.UUID(team_page.rsplit("/", 1)[1])
    added = post_form(organizer, team_page, f"{team_page}/members", handle="13800000002")
    assert added.status_code == 303, added.text
    nobody = post_form(organizer, team_page, f"{team_page}/members", handle="13899999999")
    assert nobody.status_code == 422 and "本社区没有这个号码的居民" in nobody.text
    activity = make_activity(utcnow() + timedelta(days=2), hours=4, title="西湖沿岸河道清理")
    shown = organizer.get(team_page)
    assert "设为积分挑战赛" in shown.text and "西湖沿岸河道清理" in shown.text
    challenged = post_form(
        organizer, team_page, f"{team_page}/challenges", activity_id=str(activity)
    )
    assert challenged.status_code == 303, challenged.text
    with sessions() as s:
        assert s.get(Activity, activity).team_id == team_id  # type: ignore[union-attr]
    assert "从积分池支付" not in organizer.get(team_page).text  # the organizer does not spend

    fill_pool(sessions, team_id, 350)
    item = rewards.items["COMMUNITY-FUND"]
    staff_page = civil.get(team_page)
    assert staff_page.status_code == 200 and "从积分池支付" in staff_page.text
    paid = post_form(
        civil,
        team_page,
        f"{team_page}/redeem",
        item_id=str(item.id),
        quantity="3",
        note="活动室装修",
        key="k1",
    )
    assert paid.status_code == 303, paid.text
    again = post_form(
        civil,
        team_page,
        f"{team_page}/redeem",
        item_id=str(item.id),
        quantity="3",
        note="活动室装修",
        key="k1",
    )
    assert again.status_code == 303 and count(sessions, TeamRedemption) == 1  # paid once
    over = post_form(
        civil,
        team_page,
        f"{team_page}/redeem",
        item_id=str(item.id),
        quantity="1",
        note="",
        key="k2",
    )
    assert over.status_code == 409 and "积分不足" in over.text
    zero = post_form(
        civil,
        team_page,
        f"{team_page}/redeem",
        item_id=str(item.id),
        quantity="0",
        note="",
        key="k3",
    )
    assert zero.status_code == 422 and "1 至 1000" in zero.text
    assert count(sessions, TeamRedemption) == 1
    with sessions() as s:
        assert LedgerService(s).balance(team_pool_of(team_id)) == 50

    home_page = client.get("/")
    assert TEAM_LINK.search(home_page.text) and "我的志愿队" in home_page.text
    mine = client.get(f"/teams/{team_id}")
    assert mine.status_code == 200 and "团队积分池" in mine.text and "50 积分" in mine.text
    assert "张秀英" in mine.text and "张**" in mine.text  # her own name; the other masked
    assert "捐入社区活动室装修基金" in mine.text

    with TestClient(create_app(settings)) as other:
        sign_in(other, "civil_other", DEMO_STAFF_PASSWORD)
        assert other.get(team_page).status_code == 404
