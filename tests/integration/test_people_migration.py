"""Migrations 0030 (the people aggregate) and 0031 (the figures of cities, districts and
streets, and registrations): an upgraded database's rollup is counted again, into every
table."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.identity.models import Resident
from civicpoints.insights import Rollup
from civicpoints.insights.models import Figure, Member, PeopleCell, RegionFigure, Watermark
from civicpoints.insights.repository import InsightsRepository
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.migrate import downgrade, upgrade
from civicpoints.kit.months import key_of

TABLES = (Figure, RegionFigure, Member, PeopleCell)


def _count(sessions: sessionmaker[Session], table: type) -> int:
    with transaction(sessions) as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


@pytest.mark.parametrize("before", ["0029", "0030"])
def test_upgrading_empties_the_rollup_and_the_next_run_counts_everything(
    db_url: str,
    sessions: sessionmaker[Session],
    city: City,
    make_resident: Callable[..., Resident],
    fund: Callable[..., None],
    before: str,
) -> None:
    """A rollup kept before 0030 holds memberships the people aggregate never saw, one kept
    before 0031 no region rows and no registrations: the upgrade empties the rollup (derived
    data), and the next run counts every row into every table — the same tables as a
    rebuild; the city's registered residents are every resident."""
    for i in range(3):
        fund(make_resident(phone=f"1350000009{i}").id, 40)
    with transaction(sessions) as s:
        Rollup(s).run(utcnow())
    downgrade(db_url, before)
    upgrade(db_url)
    assert _count(sessions, Figure) == _count(sessions, Watermark) == 0
    with transaction(sessions) as s:
        counted = Rollup(s).run(utcnow())
    residents = _count(sessions, Resident)
    assert counted["ledger"] == 3 and counted["residents"] == residents >= 3
    after_run = [_count(sessions, t) for t in TABLES]
    with transaction(sessions) as s:
        Rollup(s).rebuild(utcnow())
    assert [_count(sessions, t) for t in TABLES] == after_run
    assert after_run[0] > 0 and after_run[1] > 0
    with transaction(sessions) as s:
        upto = InsightsRepository(s).upto(city.city, key_of(local_date(utcnow())))
    assert upto[("registered", "residents")] == residents
    assert upto[("points", "issued")] == 120
