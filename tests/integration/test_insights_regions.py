"""The figures of cities, districts and streets (`insights_region_figure`) when the region tree
grows: a run reads the tree once, and the rows of a community created after that are still
added to the regions above it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.identity.models import Resident
from civicpoints.insights import Rollup
from civicpoints.insights.repository import InsightsRepository
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.months import key_of
from civicpoints.regions import Level, RegionService

from .test_insights import tables


def test_a_community_created_during_a_run_counts_in_its_street_district_and_city(
    sessions: sessionmaker[Session],
    city: City,
    make_resident: Callable[..., Resident],
    fund: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The run's tree is read before a new community's rows (committed while it runs): they
    are lifted all the same, so the region rows equal a rebuild's."""
    with transaction(sessions) as s:
        before = Rollup(s).regions_of()  # the tree as a run that started earlier read it
        street = next(r for r in city.streets if r.id == city.communities[0].parent_id)
        new = RegionService(s).add_region("330106001999", "新社区", Level.COMMUNITY, street)
    mover = make_resident()
    with transaction(sessions) as s:
        row = s.get(Resident, mover.id)
        assert row is not None
        row.community_id = new.id
    fund(mover.id, 30)
    fund(make_resident().id, 12)
    reads = iter([before])
    real = Rollup.regions_of
    monkeypatch.setattr(Rollup, "regions_of", lambda self: next(reads, None) or real(self))
    with transaction(sessions) as s:
        Rollup(s).run(utcnow())
    monkeypatch.undo()
    incremental = tables(sessions)
    with transaction(sessions) as s:
        Rollup(s).rebuild(utcnow())
    assert tables(sessions) == incremental
    with transaction(sessions) as s:
        upto = InsightsRepository(s).upto(street, key_of(local_date(utcnow())))
    assert upto[("points", "issued")] == 42
