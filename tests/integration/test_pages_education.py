"""教育积分 pages on both engines, without JavaScript: the guardian links a child by form (a
bad ID number is shown beside nothing written), education staff confirm on their page, the
guardian chooses the child on a 教育支持 activity, sees the child's points with their expiry,
applies for 子女入学优先审核, and the education staff approve it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.cli.demo_rewards import Rewards
from civicpoints.identity.education_models import Child, GuardianLink
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.settings import Settings
from civicpoints.ledger import LedgerService, education_of
from civicpoints.web.app import create_app

from .conftest import id_number
from .pages import post_form, sign_in
from .test_api import DEMO_STAFF_PASSWORD, login
from .test_earning import attend
from .test_pages_rewards import Fund, _bearer, resident

CHILD = id_number(50, birth="20180901", sex_digit=1)


@pytest.fixture
def officer(settings: Settings, city: City) -> Iterator[TestClient]:
    """A second browser, signed in as the street's education officer."""
    with TestClient(create_app(settings)) as c:
        sign_in(c, "edu_officer", DEMO_STAFF_PASSWORD)
        yield c


def test_a_guardian_links_chooses_and_applies_by_form_and_staff_decide_by_form(
    client: TestClient,
    officer: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    ctx: Context,
    fund: Fund,
    rewards: Rewards,
    make_activity: Callable[..., uuid.UUID],
) -> None:
    """The whole loop through the pages; bad ID and non-staff are refused with nothing written."""
    phone = resident(client, city, fund, points=0)
    assert 'href="/children"' in client.get("/").text
    assert client.get("/children").status_code == 200
    bad = post_form(client, "/children", "/children", name="李小明", id_number=CHILD[:-1] + "0",
                    relation="father")  # fmt: skip
    assert bad.status_code == 422 and "身份证号码" in bad.text
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Child)) == 0
    ok = post_form(client, "/children", "/children", name="李小明", id_number=CHILD,
                   relation="father")  # fmt: skip
    assert ok.status_code == 303, ok.text
    page = client.get("/children").text
    assert "李小明" in page and "等待教育部门确认" in page and CHILD not in page

    assert client.get("/staff/education", follow_redirects=False).status_code in (303, 403)
    desk = officer.get("/staff/education")
    assert desk.status_code == 200 and "李小明" in desk.text
    with sessions() as s:
        link_id = s.scalars(select(GuardianLink.id)).one()
    path = f"/staff/education/links/{link_id}"
    confirmed = post_form(officer, "/staff/education", path, decision="approve", reason="核对无误")
    assert confirmed.status_code == 303, confirmed.text

    start = utcnow().replace(microsecond=0) - timedelta(hours=5)
    activity = make_activity(start, hours=2, category="education_support", title="课后托管辅导")
    shown = client.get(f"/activities/{activity}").text
    assert "李小明" in shown and 'name="credit"' in shown
    with sessions() as s:
        child_id = s.scalars(select(Child.id)).one()
    chose = post_form(client, f"/activities/{activity}", f"/activities/{activity}/education-credit",
                      credit=str(child_id))  # fmt: skip
    assert chose.status_code == 303, chose.text
    me = client.get("/api/v1/me", headers=_bearer(client, phone)).json()
    attend(sessions, ctx, activity, uuid.UUID(me["id"]), start, start + timedelta(hours=2))
    page = client.get("/children").text
    assert "20 积分" in page and "到期" in page
    # 子女入学优先审核 costs 500: no form to press in vain, but how far there is to go
    assert f"/children/{child_id}/apply" not in page and "教育积分还不够" in page

    admin = login(client, "admin")
    item = rewards.items["EDU-PRIORITY"].id
    client.patch(f"/api/v1/rewards/{item}", json={"price_points": 15}, headers=admin)
    applied = post_form(client, "/children", f"/children/{child_id}/apply", item_id=str(item),
                        key="k1")  # fmt: skip
    assert applied.status_code == 303, applied.text
    desk = officer.get("/staff/education").text
    found = re.search(r'action="/staff/education/applications/([0-9a-f-]{36})"', desk)
    assert found, desk
    decided = post_form(officer, "/staff/education", found.group(0)[8:-1], decision="approve",
                        reason="符合条件")  # fmt: skip
    assert decided.status_code == 303, decided.text
    with sessions() as s:
        assert LedgerService(s).balance(education_of(child_id)) == 5
    assert "已通过" in client.get("/children").text
