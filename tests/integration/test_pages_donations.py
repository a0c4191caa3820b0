"""积分捐赠 pages on both engines: the resident gives through a plain form (no JavaScript), sees
the thank-you with the ledger receipt; over-limit and too-many are shown beside the field with
nothing written; the 民政专干's pool page lists what expires first and allocates by form."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.community.donation_models import Allocation, Donation
from civicpoints.kit.settings import Settings
from civicpoints.web.app import create_app

from .pages import post_form, sign_in
from .test_api import DEMO_STAFF_PASSWORD
from .test_pages_rewards import Fund, _bearer, resident

THANKS = re.compile(r'href="/donate/([0-9a-f-]{36})"|/donate/([0-9a-f-]{36})')


@pytest.fixture
def staff_browser(settings: Settings, city: City) -> Iterator[TestClient]:
    """A second browser, signed in as the community's 民政专干."""
    with TestClient(create_app(settings)) as c:
        sign_in(c, "civil", DEMO_STAFF_PASSWORD)
        yield c


def count(sessions: sessionmaker[Session], model: type) -> int:
    """Rows of a table."""
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_resident_donates_by_form_and_staff_allocate_from_the_pool_page(
    client: TestClient,
    staff_browser: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    fund: Fund,
) -> None:
    """Give 120 of 900 (limit 500); 400 more is over the limit and 800 more than held: both
    shown beside the field, nothing written; the pool page then allocates 50."""
    resident(client, city, fund, points=900)
    home = client.get("/")
    assert 'href="/donate"' in home.text
    page = client.get("/donate")
    assert page.status_code == 200 and "本月还可捐赠" in page.text
    given = post_form(client, "/donate", "/donate", amount="120", board="yes", key="k1")
    assert given.status_code == 303, given.text
    thanks = client.get(given.headers["location"])
    assert thanks.status_code == 200 and "120" in thanks.text and "/receipt" in thanks.text
    for amount, status, words in (("400", 422, "本月最多还能捐赠"), ("800", 409, "积分不足")):
        refused = post_form(client, "/donate", "/donate", amount=amount, key=f"k{amount}")
        assert refused.status_code == status and words in refused.text
    assert count(sessions, Donation) == 1
    board = client.get("/donate").text
    assert "张**" in board

    wang = "13800000002"
    from .test_api import register  # a second resident, marked low-income by the staff page

    assert register(client, city, 2).status_code == 201
    wang_id = client.get("/api/v1/me", headers=_bearer(client, wang)).json()["id"]
    pool = staff_browser.get("/staff/pool")
    assert pool.status_code == 200 and "请优先分配" in pool.text
    action = f"/staff/pool/{city.communities[0].id}"
    marked = post_form(staff_browser, "/staff/pool", f"{action}/low-income", handle=wang,
                       active="yes", lreason="低保户")  # fmt: skip
    assert marked.status_code == 303, marked.text
    given = post_form(staff_browser, "/staff/pool", f"{action}/allocate", resident_id=wang_id,
                      amount="50", reason="冬季帮扶", key=str(uuid.uuid4()))  # fmt: skip
    assert given.status_code == 303, given.text
    assert count(sessions, Allocation) == 1
    too_much = post_form(staff_browser, "/staff/pool", f"{action}/allocate", resident_id=wang_id,
                         amount="71", reason="x", key=str(uuid.uuid4()))  # fmt: skip
    assert too_much.status_code == 409 and count(sessions, Allocation) == 1
    assert "冬季帮扶" in staff_browser.get("/staff/pool").text


def test_the_pool_page_is_for_civil_affairs_staff_only(
    client: TestClient, city: City, settings: Settings
) -> None:
    """An organizer has no pool: 403; the other community's 民政 cannot post to this one."""
    sign_in(client, "organizer", DEMO_STAFF_PASSWORD)
    assert client.get("/staff/pool").status_code == 403
    with TestClient(create_app(settings)) as other:
        sign_in(other, "civil_other", DEMO_STAFF_PASSWORD)
        assert other.get("/staff/pool").status_code == 200
        here = f"/staff/pool?community={city.communities[0].id}"
        assert other.get(here).status_code == 403


def test_the_points_bank_page_saves_and_takes_back_by_form(
    client: TestClient, city: City, fund: Fund
) -> None:
    """Save 150 of 200 by form; 60 more than the wallet holds: shown beside the field (409);
    take 50 back; the page lists saved points by expiry."""
    resident(client, city, fund, points=200)
    assert 'href="/savings"' in client.get("/").text
    page = client.get("/savings")
    assert page.status_code == 200 and "积分银行" in page.text
    assert post_form(client, "/savings", "/savings/in", save="150", key="s1").status_code == 303
    refused = post_form(client, "/savings", "/savings/in", save="60", key="s2")
    assert refused.status_code == 409 and "积分不足" in refused.text
    assert post_form(client, "/savings", "/savings/out", take="50", key="t1").status_code == 303
    after = client.get("/savings").text
    assert "100 积分" in after and "已存积分的到期日" in after
