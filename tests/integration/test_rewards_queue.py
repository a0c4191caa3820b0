"""The entitlement applications queue (issue 8, defect 4) on SQLite and PostgreSQL: the
department limit is applied in SQL before the LIMIT, so a reviewer's own application is never
starved by older ones of another department, and cursor paging returns each exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.cli.demo_rewards import Rewards
from civicpoints.kit.db import transaction
from civicpoints.rewards.models import Item, Redemption, RedemptionStatus
from tests.integration.test_api import login
from tests.integration.test_rewards import API, me, redeem, zhang

FOREIGN = 224  # the review's case: older pending applications of another department


def file_pending(
    sessions: sessionmaker[Session], item: Item, resident: uuid.UUID, n: int, tag: str
) -> list[str]:
    """`n` pending applications for `item`, oldest first (rows as `redeem` leaves them)."""
    rows = [
        Redemption(
            resident_id=resident,
            item_id=item.id,
            quantity=1,
            points=item.price_points,
            face_value_fen=item.face_value_fen,
            status=RedemptionStatus.PENDING,
            period_key="ever",
            idempotency_key=f"{tag}:{i}",
        )
        for i in range(n)
    ]
    with transaction(sessions) as s:
        for row in rows:  # one at a time: each id is newer than the last
            s.add(row)
            s.flush()
        return [str(r.id) for r in rows]


def every_page(client: TestClient, headers: dict[str, str], limit: int) -> list[list[str]]:
    """GET /applications page after page, following the cursor until an empty page."""
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        r = client.get(f"{API}/applications", params=params, headers=headers)
        assert r.status_code == 200, r.text
        page = [a["id"] for a in r.json()]
        if not page:
            return pages
        pages.append(page)
        cursor = page[-1]


def test_own_new_application_is_on_page_one_behind_224_foreign_ones(
    client: TestClient,
    city: City,
    rewards: Rewards,
    fund: Callable[..., None],
    sessions: sessionmaker[Session],
) -> None:
    """224 older Civil Affairs applications, then one for Education: the Education reviewer
    sees theirs on the first page; Civil Affairs never sees it; newest first."""
    headers = zhang(client, city, fund, points=1000)
    elder = rewards.items["ELDER-CHECK-BOOKING"]
    foreign = file_pending(sessions, elder, me(client, headers), FOREIGN, "old")
    own = redeem(client, headers, rewards.items["EDU-PRIORITY"])
    assert own.status_code == 201, own.text
    edu = login(client, "edu_reviewer")
    page = client.get(f"{API}/applications", params={"limit": 50}, headers=edu).json()
    assert [a["id"] for a in page] == [own.json()["id"]]
    mz_first = client.get(
        f"{API}/applications", params={"limit": 50}, headers=login(client, "mz_reviewer")
    ).json()
    assert [a["id"] for a in mz_first] == foreign[::-1][:50]  # newest first, a full page
    admin_first = client.get(
        f"{API}/applications", params={"limit": 3}, headers=login(client, "admin")
    ).json()
    assert [a["id"] for a in admin_first] == [own.json()["id"], *foreign[::-1][:2]]


def test_cursor_paging_returns_every_own_application_once(
    client: TestClient,
    city: City,
    rewards: Rewards,
    fund: Callable[..., None],
    sessions: sessionmaker[Session],
) -> None:
    """Own and foreign applications interleaved: full pages of the reviewer's own only, each
    once, newest first; a reviewer of no department and a street reviewer see none."""
    resident = me(client, zhang(client, city, fund, points=0))
    edu_item, mz_item = rewards.items["EDU-PRIORITY"], rewards.items["ELDER-CHECK-BOOKING"]
    own: list[str] = []
    for round_ in range(7):
        file_pending(sessions, mz_item, resident, 5, f"mz{round_}")
        own += file_pending(sessions, edu_item, resident, 2, f"edu{round_}")
    pages = every_page(client, login(client, "edu_reviewer"), limit=3)
    assert [len(p) for p in pages] == [3, 3, 3, 3, 2]
    assert [a for p in pages for a in p] == own[::-1]
    admin = every_page(client, login(client, "admin"), limit=20)
    assert sum(len(p) for p in admin) == 7 * 7
    assert every_page(client, login(client, "reviewer"), limit=5) == []
    bad = client.get(
        f"{API}/applications", params={"cursor": "x"}, headers=login(client, "edu_reviewer")
    )
    assert (bad.status_code, bad.json()["field"]) == (422, "query.cursor")
