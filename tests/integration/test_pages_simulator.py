"""/admin/simulator (政策模拟): the form prefilled with the rules in force, the result table and
the month table without script (the chart draws the same numbers), errors beside their fields
in the page's language, nothing saved; a street administrator simulates their street only."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.identity.models import Resident
from civicpoints.kit.context import Context

from .pages import csrf_of, sign_in
from .test_insights_api import street_admin  # noqa: F401 (a fixture)
from .test_pages_insights import text_of
from .test_simulator import Maker, counts, serve


def test_an_administrator_tries_a_higher_cap(
    client: TestClient,
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    staff: Callable[[str], Principal],
    make_activity: Maker,
    make_resident: Callable[..., Resident],
) -> None:
    li = make_resident("李建国")
    for day in (3, 10, 17, 24):  # 640 points of high-risk shifts: 140 over the cap
        serve(sessions, ctx, staff, make_activity, [li], 1, day, 8.0, "high_risk")
    sign_in(client, "admin", DEMO_STAFF_PASSWORD)
    page = client.get("/admin/simulator")
    assert page.status_code == 200, page.text
    html = page.text
    assert 'name="monthly_cap"' in html and 'value="500"' in html  # prefilled
    assert 'value="12"' in html and 'name="rate_volunteer_service"' in html
    assert 'href="/admin/simulator"' in html  # in the admin menu
    before = counts(sessions)
    form = {"csrf_token": csrf_of(html), "region": str(city.city.id), "monthly_cap": "800"}
    r = client.post("/admin/simulator", data=form)
    assert r.status_code == 200, r.text
    text = text_of(r.text)
    assert "发放积分 500 640 +140" in text
    assert "未保存任何内容" in text and 'id="simulator-data"' in r.text
    assert 'value="800"' in r.text  # the form as filled in
    partial = client.post("/admin/simulator", data=form, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<form" not in partial.text
    assert 'id="sim-result"' in partial.text
    after = counts(sessions)
    assert after.pop("audit_entry") == before.pop("audit_entry") + 2  # staff POSTs are logged
    assert after == before
    bad = dict(form, monthly_cap="abc", expiry_months="0")
    refused = client.post("/admin/simulator", data=bad)
    assert refused.status_code == 422
    assert (
        'id="f-monthly_cap-error"' in refused.text and 'id="f-expiry_months-error"' in refused.text
    )
    client.cookies.set("cp_lang", "en")
    english = text_of(client.post("/admin/simulator", data=form).text)
    assert "Points issued 500 640 +140" in english and "Nothing was saved" in english


def test_a_street_administrator_simulates_their_street_only(
    client: TestClient,
    city: City,
    street_admin: str,  # noqa: F811
) -> None:
    sign_in(client, street_admin, DEMO_STAFF_PASSWORD)
    html = client.get("/admin/simulator").text
    options = set(re.findall(r'<option value="([0-9a-f-]+)"', html))
    inside = {str(city.streets[0].id)} | {str(c.id) for c in city.communities[:3]}
    assert options and options <= inside
    for other in (city.streets[1].id, city.city.id, uuid.uuid4()):
        assert client.get(f"/admin/simulator?region={other}").status_code == 403
    form = {"csrf_token": csrf_of(html), "region": str(city.streets[1].id)}
    assert client.post("/admin/simulator", data=form).status_code == 403
    sign_in(client, "auditor", DEMO_STAFF_PASSWORD)
    assert client.get("/admin/simulator").status_code == 403
