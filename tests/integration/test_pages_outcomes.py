"""/admin/outcomes: the seed's story on the page (65% before, 82% after 西湖区 joined), the
table beside the platform's figures without script, a value entered and corrected through
the form, a CSV upload whole or not at all, bad input shown in the page's words, English."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.cli.demo_outcomes import load_outcomes
from civicpoints.identity import IdentityService
from civicpoints.insights.outcome_models import OutcomeRevision, OutcomeValue
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction

from .pages import csrf_of, post_form, sign_in
from .test_pages_insights import text_of


def seeded(sessions: sessionmaker[Session], ctx: Context, city: City) -> str:
    """The demo's indicators and 西湖区's 24 months; the page's URL for 西湖区."""
    with transaction(sessions) as s:
        identity = IdentityService(s, ctx)
        principals = {u: identity.staff_principal(city.staff[u]) for u in city.staff}
    district = city.streets[0].parent_id
    assert district is not None
    load_outcomes(sessions, district, principals, utcnow())
    return f"/admin/outcomes?region={district}&indicator=waste_sorting_rate"


def rows(sessions: sessionmaker[Session]) -> tuple[int, int]:
    """Values and revisions stored."""
    with transaction(sessions) as s:
        a = s.scalar(select(func.count()).select_from(OutcomeValue)) or 0
        b = s.scalar(select(func.count()).select_from(OutcomeRevision)) or 0
    return int(a), int(b)


def test_the_auditor_reads_the_story(
    client: TestClient, city: City, sessions: sessionmaker[Session], ctx: Context
) -> None:
    url = seeded(sessions, ctx, city)
    sign_in(client, "auditor", DEMO_STAFF_PASSWORD)
    r = client.get(url)
    assert r.status_code == 200, r.text
    text = text_of(r.text)
    assert "成效指标" in text and "西湖区" in text
    assert "垃圾分类执行率: 加入前 12 个月 65 %" in text
    assert "垃圾分类执行率: 加入后 12 个月 82 % 加入后变化 +17 % (+26.2%)" in text
    assert "(加入)" in text  # the join month's row
    assert 'id="outcomes-data"' in r.text and 'href="/admin/outcomes"' in r.text
    assert 'method="post" action="/admin/outcomes' not in r.text  # auditors read only
    client.cookies.set("cp_lang", "en")
    english = text_of(client.get(url).text)
    assert "Outcome indicators: Xihu District" in english and "Waste sorting compliance" in english


def test_an_admin_enters_corrects_and_imports(
    client: TestClient, city: City, sessions: sessionmaker[Session], ctx: Context
) -> None:
    url = seeded(sessions, ctx, city)
    before = rows(sessions)
    sign_in(client, "admin", DEMO_STAFF_PASSWORD)
    community = str(city.communities[0].id)
    page = f"/admin/outcomes?region={community}"
    fields = {"region": community, "indicator": "waste_sorting_rate", "month": "2026-01"}
    r = post_form(client, page, "/admin/outcomes", **fields, value="101", source="抽查")
    assert r.status_code == 422 and "数值" in text_of(r.text)
    assert rows(sessions) == before
    r = post_form(client, page, "/admin/outcomes", **fields, value="70", source="抽查")
    assert r.status_code == 303, r.text
    r = post_form(client, page, "/admin/outcomes", **fields, value="71", source="抽查")
    assert r.status_code == 422 and "更正原因" in text_of(r.text)
    r = post_form(
        client, page, "/admin/outcomes", **fields, value="71", source="抽查", reason="复核"
    )
    assert r.status_code == 303
    assert rows(sessions) == (before[0] + 1, before[1] + 1)
    shown = text_of(client.get(page + "&from=2026-01&to=2026-02").text)
    assert "71" in shown
    code = city.communities[0].code
    bad = f"indicator,region,month,value,source\nwaste_sorting_rate,{code},2026-02,120,抽查\n"
    token = csrf_of(client.get(url).text)
    r = client.post(
        "/admin/outcomes/import",
        data={"csrf_token": token, "region": community},
        files={"file": ("v.csv", bad.encode())},
    )
    assert r.status_code == 422 and "第 2 行" in text_of(r.text)
    assert rows(sessions) == (before[0] + 1, before[1] + 1)
    good = bad.replace(",120,", ",72,")
    r = client.post(
        "/admin/outcomes/import",
        data={"csrf_token": token, "region": community},
        files={"file": ("v.csv", good.encode())},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "saved=import-1-0" in r.headers["location"]
    assert rows(sessions) == (before[0] + 2, before[1] + 1)


def test_bad_filters_and_other_staff(client: TestClient, city: City) -> None:
    sign_in(client, "admin", DEMO_STAFF_PASSWORD)
    r = client.get("/admin/outcomes?from=2026-13")
    assert r.status_code == 400 and "YYYY-MM" in text_of(r.text)
    assert client.get("/admin/outcomes?region=nope").status_code == 400
    sign_in(client, "env_officer", DEMO_STAFF_PASSWORD)
    assert client.get("/admin/outcomes").status_code == 403


def test_an_admin_enters_the_join_day(client: TestClient, city: City) -> None:
    sign_in(client, "admin", DEMO_STAFF_PASSWORD)
    street = str(city.streets[1].id)
    page = f"/admin/outcomes?region={street}"
    assert "无法对比加入前后" in text_of(client.get(page).text)
    r = post_form(client, page, "/admin/outcomes/joined", region=street, joined_on="2026-02-30")
    assert r.status_code == 422 and "加入积分制日期" in text_of(r.text)
    r = post_form(client, page, "/admin/outcomes/joined", region=street, joined_on="2026-02-01")
    assert r.status_code == 303, r.text
    assert "于 2026年2月1日 加入积分制" in text_of(client.get(page).text)
    community = str(city.communities[3].id)  # the street's first community inherits it
    assert "于 2026年2月1日 加入积分制" in text_of(
        client.get(f"/admin/outcomes?region={community}").text
    )
    sign_in(client, "auditor", DEMO_STAFF_PASSWORD)
    r = post_form(client, page, "/admin/outcomes/joined", region=street, joined_on="2026-03-01")
    assert r.status_code == 403
