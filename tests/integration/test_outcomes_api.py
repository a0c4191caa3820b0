"""/api/v1/insights/indicators and …/outcomes: staff of the owning department (and
administrators) enter values within their region, admins and auditors read them; bad input
writes nothing; a correction needs a reason and keeps what it replaced; a CSV is imported
whole or not at all with every bad line named; the seed's 65% → 82% across the join date."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.cli.demo_outcomes import load_outcomes
from civicpoints.identity import IdentityService
from civicpoints.insights.outcome_models import OutcomeRevision, OutcomeValue
from civicpoints.kit.clock import add_months, local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction

from .test_api import login
from .test_insights_api import street_admin  # noqa: F401 (a fixture)

IND, OUT = "/api/v1/insights/indicators", "/api/v1/insights/outcomes"
WASTE = {
    "code": "waste_sorting_rate",
    "name": "垃圾分类执行率",
    "name_en": "Waste sorting compliance",
    "unit": "%",
    "higher_is_better": True,
    "department": "environment",
}


def last_month() -> str:
    """Last Beijing month, 'YYYY-MM'."""
    return add_months(local_date(utcnow()).replace(day=1), -1).isoformat()[:7]


@pytest.fixture
def waste(client: TestClient) -> None:
    """垃圾分类执行率, owned by the environment bureau (env_officer's organization)."""
    r = client.post(IND, json=WASTE, headers=login(client, "admin"))
    assert r.status_code == 201, r.text


def value(city: City, v: float = 65.5, /, **over: object) -> dict[str, object]:
    """A value of 垃圾分类执行率 in the first community, last month."""
    body = {
        "indicator": "waste_sorting_rate",
        "region_id": str(city.communities[0].id),
        "month": last_month(),
        "value": v,
        "source": "生态环境局 月度抽查",
    }
    return body | over


def count(sessions: sessionmaker[Session]) -> tuple[int, int]:
    """Rows of values and of revisions."""
    with transaction(sessions) as s:
        values = s.scalar(select(func.count()).select_from(OutcomeValue)) or 0
        revisions = s.scalar(select(func.count()).select_from(OutcomeRevision)) or 0
    return int(values), int(revisions)


def test_indicators_are_defined_by_city_administrators_only(client: TestClient) -> None:
    assert client.post(IND, json=WASTE, headers=login(client, "env_officer")).status_code == 403
    admin = login(client, "admin")
    assert client.post(IND, json=WASTE, headers=admin).status_code == 201
    assert client.post(IND, json=WASTE, headers=admin).status_code == 409
    listed = client.get(IND, headers=login(client, "organizer")).json()
    assert [i["code"] for i in listed] == ["waste_sorting_rate"] and listed[0]["unit"] == "%"
    bad = WASTE | {"code": "other", "unit": "km"}
    assert client.post(IND, json=bad, headers=admin).status_code == 422


def test_who_may_enter_a_value(
    client: TestClient,
    city: City,
    waste: None,
    sessions: sessionmaker[Session],
    street_admin: str,  # noqa: F811
) -> None:
    """The environment bureau's officer and admins in scope; the police (another department),
    a street's organizer (no department) and another street's admin are refused, scope
    before existence."""
    r = client.post(OUT, json=value(city), headers=login(client, "env_officer"))
    assert r.status_code == 201, r.text
    assert r.json()["value"] == 65.5 and r.json()["revision"] == 1
    for who in ("police_officer", "organizer", "auditor"):
        other = value(city, region_id=str(city.communities[1].id))
        assert client.post(OUT, json=other, headers=login(client, who)).status_code == 403
    mine = login(client, street_admin)
    ok = value(city, region_id=str(city.communities[2].id))
    assert client.post(OUT, json=ok, headers=mine).status_code == 201
    outside = value(city, region_id=str(city.streets[1].id))
    assert client.post(OUT, json=outside, headers=mine).status_code == 403
    unknown = value(city, region_id=str(uuid.uuid4()))
    assert client.post(OUT, json=unknown, headers=mine).status_code == 403
    assert client.post(OUT, json=unknown, headers=login(client, "admin")).status_code == 404
    assert count(sessions) == (2, 0)


@pytest.mark.parametrize(
    "over",
    [
        {"value": 100.5},  # a percent above 100
        {"value": -1},
        {"value": 65.1234},  # more than three decimals
        {"month": "2999-01"},  # the future
        {"month": "2026-13"},
        {"source": "x" * 201},
        {"source": ""},
        {"indicator": "nope_none"},
        {"extra": 1},
    ],
)
def test_bad_input_writes_nothing(
    client: TestClient,
    city: City,
    waste: None,
    sessions: sessionmaker[Session],
    over: dict[str, object],
) -> None:
    r = client.post(OUT, json=value(city, **over), headers=login(client, "env_officer"))
    assert r.status_code in (404, 422), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert count(sessions) == (0, 0)


def test_a_correction_needs_a_reason_and_keeps_history(
    client: TestClient, city: City, waste: None, sessions: sessionmaker[Session]
) -> None:
    env = login(client, "env_officer")
    assert client.post(OUT, json=value(city, 38.3), headers=env).status_code == 201
    again = client.post(OUT, json=value(city, 83), headers=env)
    assert again.status_code == 409, again.text
    assert "更正原因" in again.json()["detail"] or "reason" in again.json()["detail"]
    assert count(sessions) == (1, 0)
    fixed = client.post(
        OUT, json=value(city, 83, reason="小数点录错"), headers=login(client, "admin")
    )
    assert fixed.status_code == 201, fixed.text
    body = fixed.json()
    assert body["value"] == 83 and body["revision"] == 2
    assert [(h["value"], h["reason"]) for h in body["history"]] == [(38.3, "小数点录错")]
    assert count(sessions) == (1, 1)
    listed = client.get(OUT, headers=login(client, "auditor")).json()
    assert [(i["value"], len(i["history"])) for i in listed["items"]] == [(83, 1)]


def test_readers_are_admins_and_auditors_in_scope(
    client: TestClient,
    city: City,
    waste: None,
    street_admin: str,  # noqa: F811
) -> None:
    env = login(client, "env_officer")
    for i, community in enumerate((city.communities[0], city.communities[3])):
        body = value(city, 60 + i, region_id=str(community.id))
        assert client.post(OUT, json=body, headers=env).status_code == 201
    assert client.get(OUT, headers=env).status_code == 403
    mine = client.get(OUT, headers=login(client, street_admin)).json()
    assert [i["value"] for i in mine["items"]] == [60]  # only their street's community
    params = {"region": str(city.streets[1].id)}
    assert client.get(OUT, params=params, headers=login(client, street_admin)).status_code == 403
    everything = client.get(OUT, params={"limit": 1}, headers=login(client, "auditor")).json()
    assert len(everything["items"]) == 1 and everything["truncated"] is True


def test_an_import_is_all_or_nothing(
    client: TestClient, city: City, waste: None, sessions: sessionmaker[Session]
) -> None:
    env, m = login(client, "env_officer"), last_month()
    code0, code1 = city.communities[0].code, city.communities[1].code
    bad = (
        "indicator,region,month,value,source\n"
        f"waste_sorting_rate,{code0},{m},65,抽查\n"
        f"waste_sorting_rate,{code1},{m},120,抽查\n"
        f"waste_sorting_rate,999999,{m},65,抽查\n"
        f"waste_sorting_rate,{code0},{m},66,抽查\n"
        f"waste_sorting_rate,{code1},2999-01,66,抽查\n"
        f"waste_sorting_rate,{code1},2030-01,66,抽查\n"
    )
    r = client.post(OUT + "/import", files={"file": ("v.csv", bad.encode())}, headers=env)
    assert r.status_code == 422, r.text
    lines = [(e["line"], e["field"]) for e in r.json()["errors"]]
    assert lines == [(3, "value"), (4, "region"), (5, "month"), (6, "month"), (7, "month")]
    assert all(" / " in e["message"] for e in r.json()["errors"])
    assert count(sessions) == (0, 0)
    good = f"indicator,region,month,value,source\nwaste_sorting_rate,{code0},{m},65,抽查\n"
    r = client.post(
        OUT + "/import", files={"file": ("v.csv", good.encode("utf-8-sig"))}, headers=env
    )
    assert r.status_code == 200 and r.json() == {"created": 1, "corrected": 0}, r.text
    again = client.post(OUT + "/import", files={"file": ("v.csv", good.encode())}, headers=env)
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "reason"
    fix = good.replace("source\n", "source,reason\n").replace("抽查\n", "抽查,复核更正\n")
    fix = fix.replace(",65,", ",66,")
    r = client.post(OUT + "/import", files={"file": ("v.csv", fix.encode())}, headers=env)
    assert r.json() == {"created": 0, "corrected": 1}
    assert count(sessions) == (1, 1)
    police = client.post(
        OUT + "/import",
        files={"file": ("v.csv", good.encode())},
        headers=login(client, "police_officer"),
    )
    assert police.status_code == 422 and police.json()["errors"][0]["field"] == "region"
    huge = b"indicator,region,month,value,source\n" + b"x" * 1_100_000
    r = client.post(OUT + "/import", files={"file": ("v.csv", huge)}, headers=env)
    assert r.status_code in (413, 422)
    assert count(sessions) == (1, 1)


def test_the_seed_story_before_and_after_the_join_date(
    client: TestClient, city: City, sessions: sessionmaker[Session], ctx: Context
) -> None:
    """西湖区 joined twelve months ago: 垃圾分类执行率 65% before, 82% after; hazard reports
    +25%; environmental complaints −30%."""
    with transaction(sessions) as s:
        identity = IdentityService(s, ctx)
        principals = {u: identity.staff_principal(city.staff[u]) for u in city.staff}
    district = city.streets[0].parent_id
    assert district is not None
    joined = load_outcomes(sessions, district, principals, utcnow())
    assert joined == date(local_date(utcnow()).year - 1, local_date(utcnow()).month, 1)
    auditor = login(client, "auditor")
    url = OUT + "/comparison"

    def compare(code: str) -> dict[str, object]:
        r = client.get(url, params={"indicator": code, "region": str(district)}, headers=auditor)
        assert r.status_code == 200, r.text
        return dict(r.json())

    waste = compare("waste_sorting_rate")
    assert (waste["before"], waste["after"], waste["change"]) == (65.0, 82.0, 17.0)
    assert waste["months_before"] == 12 and waste["months_after"] == 12
    assert compare("hazard_reports")["change_pct"] == 25.0
    assert compare("env_complaint_rate")["change_pct"] == -30.0
    street = client.get(  # a street without its own join day inherits the district's
        url,
        params={"indicator": "hazard_reports", "region": str(city.streets[0].id)},
        headers=auditor,
    ).json()
    assert street["joined_on"] == joined.isoformat() and street["before"] is None
    assert count(sessions)[1] == 1  # the one corrected typo


def test_a_cell_written_meanwhile_is_a_conflict_not_an_error(
    client: TestClient, city: City, waste: None, sessions: sessionmaker[Session], ctx: Context
) -> None:
    """Two first entries of one cell at once: the second finds the unique key taken (in a
    savepoint) and answers 409, its transaction still usable."""
    from civicpoints.insights import OutcomeService

    assert (
        client.post(OUT, json=value(city), headers=login(client, "env_officer")).status_code == 201
    )
    with transaction(sessions) as s:
        service = OutcomeService(s)
        indicator = service.indicator("waste_sorting_rate")
        late = OutcomeValue(
            indicator_id=indicator.id,
            region_id=city.communities[0].id,
            month=last_month(),
            milli=1,
            source="x",
            entered_by=uuid.uuid4(),
            entered_at=utcnow(),
            revision=1,
        )
        assert service.repo.add_cell(late) is False
        assert service.repo.cell(indicator.id, city.communities[0].id, last_month()) is not None
    assert count(sessions) == (1, 0)


def test_join_days_are_entered_by_the_regions_administrators(
    client: TestClient,
    city: City,
    waste: None,
    street_admin: str,  # noqa: F811
) -> None:
    """A street's administrator sets their street's day (its communities inherit it); another
    street, an auditor or a department officer are refused; the comparison reads it."""
    url, mine = "/api/v1/insights/joins", login(client, street_admin)
    day = {"region_id": str(city.streets[0].id), "joined_on": "2026-03-15"}
    assert client.put(url, json=day, headers=mine).status_code == 200
    other = day | {"region_id": str(city.streets[1].id)}
    assert client.put(url, json=other, headers=mine).status_code == 403
    for who in ("auditor", "env_officer"):
        assert client.put(url, json=day, headers=login(client, who)).status_code == 403
    assert client.put(url, json=day | {"joined_on": "1999-12-31"}, headers=mine).status_code == 422
    env = login(client, "env_officer")
    for month, v in (("2026-02", 60), ("2026-03", 70), ("2026-04", 80)):
        body = value(city, v, month=month)
        assert client.post(OUT, json=body, headers=env).status_code == 201
    params = {"indicator": "waste_sorting_rate", "region": str(city.communities[0].id)}
    c = client.get(OUT + "/comparison", params=params, headers=login(client, "auditor")).json()
    assert c["joined_on"] == "2026-03-15" and (c["before"], c["after"], c["change"]) == (60, 75, 15)
    assert client.get(OUT + "/comparison", params=params, headers=env).status_code == 403
