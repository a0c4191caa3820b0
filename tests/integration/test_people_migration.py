"""Migration 0030: an upgraded database's rollup is counted again, people aggregate included."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.identity.models import Resident
from civicpoints.insights import Rollup
from civicpoints.insights.models import Figure, Member, PeopleCell, Watermark
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.migrate import downgrade, upgrade


def _count(sessions: sessionmaker[Session], table: type) -> int:
    with transaction(sessions) as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def test_upgrading_empties_the_rollup_and_the_next_run_counts_everything(
    db_url: str,
    sessions: sessionmaker[Session],
    make_resident: Callable[..., Resident],
    fund: Callable[..., None],
) -> None:
    """A rollup kept before 0030 holds memberships the people aggregate never saw: the upgrade
    empties the rollup (derived data), and the next run counts every row into every table —
    the same tables as a rebuild."""
    for i in range(3):
        fund(make_resident(phone=f"1350000009{i}").id, 40)
    with transaction(sessions) as s:
        Rollup(s).run(utcnow())
    downgrade(db_url, "0029")
    upgrade(db_url)
    assert _count(sessions, Figure) == _count(sessions, Watermark) == 0
    with transaction(sessions) as s:
        counted = Rollup(s).run(utcnow())
    assert counted["ledger"] == 3
    after_run = [_count(sessions, t) for t in (Figure, Member, PeopleCell)]
    with transaction(sessions) as s:
        Rollup(s).rebuild(utcnow())
    assert [_count(sessions, t) for t in (Figure, Member, PeopleCell)] == after_run
    assert after_run[0] > 0
