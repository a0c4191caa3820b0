"""/admin/insights: the figures of a region of the caller's scope, tables without script,
"<10" for small counts of people, exports; a street administrator's picker holds their
street only; bad months are refused in the page's words."""

from __future__ import annotations

import html as html_module
import re
import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.identity.models import Resident
from civicpoints.insights import Rollup
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction
from civicpoints.regions import RegionService

from .pages import sign_in
from .test_insights_api import street_admin  # noqa: F401 (a fixture)


def text_of(html: str) -> str:
    """A page's visible text on one line."""
    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_the_auditor_reads_the_city_figures(
    sessions: sessionmaker[Session],
    client: TestClient,
    city: City,
    make_resident: Callable[..., Resident],
) -> None:
    make_resident()
    with transaction(sessions) as s:
        Rollup(s).run(utcnow())
    sign_in(client, "auditor", DEMO_STAFF_PASSWORD)
    r = client.get("/admin/insights")
    assert r.status_code == 200, r.text
    text = text_of(r.text)
    assert "统计数据: 杭州市" in text or "统计数据：杭州市" in text
    assert "登记居民 <10" in text  # one resident: suppressed
    assert 'id="insights-data"' in r.text and 'href="/admin/insights"' in r.text
    assert "按月参与人数" in text and "按年龄和性别的参与人数" in text
    csv = client.get("/admin/insights.csv?from=2026-01&to=2026-02")
    assert csv.status_code == 200 and "<10" in csv.content.decode("utf-8-sig")
    client.cookies.set("cp_lang", "en")
    english = text_of(client.get("/admin/insights").text)
    assert "Figures: Hangzhou" in english and "Registered residents <10" in english


def test_a_street_administrator_picks_within_their_street(
    client: TestClient,
    city: City,
    street_admin: str,  # noqa: F811
) -> None:
    sign_in(client, street_admin, DEMO_STAFF_PASSWORD)
    html = client.get("/admin/insights").text
    options = re.findall(r'<option value="([0-9a-f-]+)"', html)
    assert options[0] == str(city.streets[0].id)
    assert str(city.streets[1].id) not in options and str(city.city.id) not in options
    assert str(city.communities[0].id) in options
    r = client.get(f"/admin/insights?region={city.streets[1].id}")
    assert r.status_code == 403


def test_the_picker_goes_down_the_tree_instead_of_listing_it(
    sessions: sessionmaker[Session], client: TestClient, city: City
) -> None:
    """A city-wide auditor's picker holds the city and its districts, not every street and
    community (thousands at a city's size); a district adds its streets, a street (or one of
    its communities) its communities: the way down from the top to the region shown, with the
    children of each region on it, in tree order."""
    with transaction(sessions) as s:
        regions = RegionService(s)
        districts = [r.id for r in regions.children(city.city.id)]
        street = city.streets[0]
        assert street.parent_id is not None
        district = regions.get(street.parent_id)
        streets = [r.id for r in regions.children(district.id)]
        communities = [r.id for r in regions.children(street.id)]
    assert len(districts) > 1 and len(streets) > 1 and len(communities) > 1
    assert len(city.communities) > len(communities)  # another street's are left out
    sign_in(client, "auditor", DEMO_STAFF_PASSWORD)
    in_order = order(sessions)

    def options(query: str = "") -> list[str]:
        r = client.get(f"/admin/insights{query}")
        assert r.status_code == 200, r.text
        return re.findall(r'<option value="([0-9a-f-]+)"', r.text)

    def tree(*ids: uuid.UUID) -> list[str]:
        return [str(i) for i in sorted(ids, key=in_order)]

    assert options() == tree(city.city.id, *districts)
    assert options(f"?region={district.id}") == tree(city.city.id, *districts, *streets)
    down = tree(city.city.id, *districts, *streets, *communities)
    assert options(f"?region={street.id}") == down
    assert options(f"?region={communities[-1]}") == down
    page = client.get(f"/admin/insights?region={communities[-1]}").text
    assert f'<option value="{communities[-1]}" selected' in page


def order(sessions: sessionmaker[Session]) -> Callable[[uuid.UUID], str]:
    """Regions in tree order (by path)."""
    with transaction(sessions) as s:
        paths = {r.id: r.path for r in RegionService(s).tree()}
    return lambda i: paths[i]


def test_bad_months_are_refused_in_the_page(client: TestClient, city: City) -> None:
    sign_in(client, "admin", DEMO_STAFF_PASSWORD)
    r = client.get("/admin/insights?from=2026-13&to=2026-01")
    assert r.status_code == 400 and "请按 YYYY-MM 填写月份" in r.text
    r = client.get("/admin/insights?from=2026-05&to=2026-01")
    assert r.status_code == 422 and "月份范围无效" in r.text
