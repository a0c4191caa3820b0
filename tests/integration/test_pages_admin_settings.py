"""The administrators' pages for two region settings: /admin/stars (star-level thresholds)
and /admin/donations (donation and points-bank settings). Plain forms; the API's bounds,
scope and audit."""

from __future__ import annotations

import re
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.audit.models import AuditEntry
from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.community import DonationSettingService
from civicpoints.community.donation_models import DonationSettingRow
from civicpoints.hours import StarPolicyService
from civicpoints.hours.models import StarPolicyRow
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction

from .pages import csrf_of, post_form, sign_in
from .test_region_settings import STREET_ADMIN_PASSWORD, street_admin

Sessions = sessionmaker[Session]


def today() -> date:
    """Beijing's date now, asked at each use: a module constant taken at collection went stale
    when a run crossed Beijing's midnight (16:00 UTC) and the app's own "today" moved on."""
    return local_date(utcnow())


STARS, DONATIONS = "/admin/stars", "/admin/donations"


def count(sessions: Sessions, model: type) -> int:
    with transaction(sessions) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def form_of(html: str) -> dict[str, str]:
    """The new-version form's fields as the page fills them."""
    part = html.split('id="new-title"', 1)[1]
    found = dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', part))
    return {k: v for k, v in found.items() if k != "csrf_token"}


def test_an_administrator_adds_star_thresholds_through_the_page(
    client: TestClient, city: City, sessions: Sessions
) -> None:
    """The defaults in force, the form filled with them from tomorrow; bad values are 422
    beside their fields with nothing stored; a good one is 303 and listed as scheduled."""
    sign_in(client, "admin", DEMO_STAFF_PASSWORD)
    page = client.get(STARS).text
    assert "国家默认标准" in page and "五星志愿者" in page and "1,500 小时" in page
    assert 'href="/admin/stars"' in page and 'href="/admin/donations"' in page  # the nav
    fields = form_of(page)
    assert [fields[f"t{n}"] for n in range(1, 6)] == ["100", "300", "600", "1000", "1500"]
    assert fields["effective_from"] == (today() + timedelta(days=1)).isoformat()
    for bad, anchor in (
        ({"t3": "200"}, "thresholds"),  # not rising
        ({"t1": "0"}, "t1"),
        ({"t5": "20001"}, "t5"),
        ({"t2": "三百"}, "t2"),
        ({"effective_from": (today() - timedelta(days=1)).isoformat()}, "effective_from"),
        ({"effective_from": ""}, "effective_from"),
    ):
        r = post_form(client, STARS, STARS, **(fields | bad))
        assert r.status_code == 422, bad
        assert f'href="#f-{anchor}"' in r.text and f'id="f-{anchor}"' in r.text, bad
    assert count(sessions, StarPolicyRow) == 0
    later = (today() + timedelta(days=10)).isoformat()
    good = fields | {"t1": "80", "effective_from": later, "note": "试行"}
    r = post_form(client, STARS, STARS, **good)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "新版本已保存" in page and "待生效" in page and "80 / 300 / 600 / 1000 / 1500" in page
    r = post_form(client, STARS, STARS, **(fields | {"effective_from": today().isoformat()}))
    assert r.status_code == 303
    page = client.get(STARS).text
    assert "管理员保存的版本" in page and "生效中" in page
    with transaction(sessions) as s:
        assert StarPolicyService(s).for_region(city.communities[0].id, today()).hours[0] == 100
        stmt = select(AuditEntry).where(AuditEntry.action == "save_stars").order_by(AuditEntry.id)
        rows = s.scalars(stmt).all()
        assert [x.status for x in rows] == [422] * 6 + [303, 303]  # refusals too


def test_a_street_administrator_sets_donation_settings_for_their_street_only(
    client: TestClient, city: City, sessions: Sessions, ctx: Context
) -> None:
    """Their street is chosen; another street or city-wide: 403 (page and form); a value out
    of bounds: 422 beside it; a good one applies to the street's communities."""
    username = street_admin(sessions, ctx, city)
    sign_in(client, username, STREET_ADMIN_PASSWORD)
    street, other = str(city.streets[0].id), str(city.streets[1].id)
    page = client.get(DONATIONS).text
    assert f'value="{street}" selected' in page and 'value=""' not in page.split("</form>")[0]
    assert "每月捐赠上限" in page and "500 积分" in page and "5,000 积分" in page
    assert client.get(f"{DONATIONS}?region={other}").status_code == 403
    assert client.get(f"{DONATIONS}?region=not-a-region").status_code == 403
    assert client.get(f"{STARS}?region={other}").status_code == 403
    fields = form_of(page)
    assert fields["region_id"] == street and fields["savings_months"] == "24"
    for region in (other, ""):
        r = post_form(client, DONATIONS, DONATIONS, **(fields | {"region_id": region}))
        assert r.status_code == 403
    for bad in ({"monthly_donation_limit": "0"}, {"savings_months": "61"}, {"savings_cap": "x"}):
        r = post_form(client, DONATIONS, DONATIONS, **(fields | bad))
        [name] = bad
        assert r.status_code == 422 and f'href="#f-{name}"' in r.text
    assert client.post(DONATIONS, data=fields).status_code == 403  # no form token
    assert count(sessions, DonationSettingRow) == 0
    good = fields | {"effective_from": today().isoformat(), "monthly_donation_limit": "300"}
    r = post_form(client, DONATIONS, DONATIONS, **good)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "管理员保存的版本" in page and "300 积分" in page
    with transaction(sessions) as s:
        service = DonationSettingService(s)
        assert service.in_force(city.communities[1].id, today()).monthly_donation_limit == 300
        assert service.in_force(city.communities[12].id, today()).monthly_donation_limit == 500


def test_only_administrators_open_the_settings_pages(client: TestClient, city: City) -> None:
    for username in ("reviewer", "auditor", "civil"):
        client.cookies.clear()
        sign_in(client, username, DEMO_STAFF_PASSWORD)
        for url in (STARS, DONATIONS):
            assert client.get(url).status_code == 403
            token = csrf_of(client.get("/staff").text)
            assert client.post(url, data={"csrf_token": token}).status_code == 403
        assert 'href="/admin/stars"' not in client.get("/admin/rules").text
    client.cookies.clear()
    assert client.get(STARS, follow_redirects=False).status_code in (302, 303)
