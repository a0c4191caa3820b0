"""The pool page's allocate form finds low-income residents by name or platform number, a
page of 20 at a time, in SQL and within the community (a GET form, no script needed)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.community import DonationService
from civicpoints.identity.models import Resident
from civicpoints.kit.db import transaction

from .pages import sign_in

SURNAMES = ("王", "李", "张", "刘", "陈")
GIVEN = ("秀英", "建国", "桂兰", "志强", "玉梅")


def offered(html: str) -> list[str]:
    """The names the allocate form's select offers."""
    if 'id="f-resident_id"' not in html:
        return []
    select = html.split('id="f-resident_id"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="[^"]+">([^<]+) · ', select)


def mark(
    sessions: sessionmaker[Session], civil: Principal, residents: list[Resident], active: bool
) -> None:
    with transaction(sessions) as s:
        service = DonationService(s)
        for r in residents:
            service.set_low_income(civil, s.get(Resident, r.id) or r, active, "低保户")


def test_the_allocate_form_searches_and_pages_low_income_residents(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    staff: Callable[[str], Principal],
    make_resident: Callable[..., Resident],
) -> None:
    """25 marked, one cleared again, one moved away, one never marked: 23 offered, 20 a page;
    a name or the start of a platform number narrows them; '%' is a character, not a
    wildcard; another community's pool is 403 before anything is searched."""
    people = [make_resident(s + g) for s in SURNAMES for g in GIVEN]
    unmarked = make_resident("赵小明")
    civil = staff("civil")
    mark(sessions, civil, people, True)
    mark(sessions, civil, [people[0]], False)  # 王秀英: no longer low-income
    with transaction(sessions) as s:
        moved = s.get(Resident, people[1].id)
        assert moved is not None
        moved.community_id = city.communities[1].id  # 王建国 moved to the next community

    sign_in(client, "civil", DEMO_STAFF_PASSWORD)
    pool = client.get("/staff/pool")
    assert pool.status_code == 200 and 'role="search"' in pool.text and "共认定 24 人" in pool.text
    first = offered(pool.text)
    assert len(first) == 20 and "王秀英" not in first and "王建国" not in first
    assert 'page=1"' in pool.text and "下一页" in pool.text
    second = offered(client.get("/staff/pool?page=1").text)
    assert len(second) == 3 and not set(first) & set(second)
    assert "赵小明" not in first + second and unmarked.name == "赵小明"

    assert offered(client.get("/staff/pool?q=秀英").text) == [
        "刘秀英",
        "张秀英",
        "李秀英",
        "陈秀英",
    ]
    target = people[7]  # 李桂兰
    by_number = client.get(f"/staff/pool?q={target.public_no.lower()}").text
    assert offered(by_number) == ["李桂兰"]
    assert offered(client.get(f"/staff/pool?q={target.public_no[:-2]}").text)  # a prefix
    nothing = client.get("/staff/pool?q=%25").text
    assert "没有与“%”相符的低收入居民" in nothing and 'id="f-resident_id"' not in nothing
    assert offered(client.get("/staff/pool?q=王建国").text) == []  # moved away
    long = client.get("/staff/pool?q=" + "秀" * 60)  # bounded: the first 40 characters
    assert long.status_code == 200 and 'value="' + "秀" * 40 + '"' in long.text
    assert client.get("/staff/pool?q=" + "x" * 201).status_code == 404
    assert client.get("/staff/pool?page=-1").status_code == 404
    other = f"/staff/pool?community={city.communities[1].id}&q=王"
    assert client.get(other).status_code == 403

    with transaction(sessions) as s:  # the service: scope first, then the search
        found, more = DonationService(s).find_low_income(civil, city.communities[0].id, "", 1)
        assert len(found) == 3 and not more
