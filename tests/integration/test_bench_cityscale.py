"""The city-scale benchmark's own checks (bench/cityscale.py) on a tiny generated city: the
generator's stamp lets a run reuse the city; a day's activity approved through the real
services is sequenced and rolled up; the rollup then equals the recomputation from the raw
rows, and the check sees a rollup figure that is off; `civicpoints ledger verify` passes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from bench.city import stamp
from bench.cityscale import (
    city_sessions,
    day_of_activity,
    ledger_verify,
    rollup_check,
    scalar,
    sequence_all,
    stamp_problem,
)
from sqlalchemy import text

from civicpoints.insights.tasks import rollup
from civicpoints.kit.db import transaction
from tests.conftest import pg_admin_url
from tests.integration.generated import generated_city

pytestmark = pytest.mark.pg
RESIDENTS = 1_500


@pytest.fixture(scope="module")
def city() -> Iterator[dict[str, Any]]:
    """A 1,500-resident city-year built by the generator, as the benchmark builds one."""
    with generated_city("cityscale_test", RESIDENTS, buckets=64) as report:
        yield report


def test_the_generator_stamps_the_city_and_a_run_may_reuse_it(city: dict[str, Any]) -> None:
    with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
        found = stamp.read(conn, city["db"])
        assert stamp.read(conn, "postgres") is None  # not a city
    assert found is not None and found["residents"] == RESIDENTS
    assert stamp_problem(found, RESIDENTS, stamp.fingerprint()) is None
    assert stamp_problem(found, RESIDENTS + 1, stamp.fingerprint()) is not None


def test_a_day_rolled_up_equals_the_raw_rows_and_the_ledger_verifies(
    city: dict[str, Any],
) -> None:
    url, db = city["url"], city["db"]
    with city_sessions(url, db) as sessions:
        minutes_before = scalar(sessions, "SELECT sum(minutes) FROM hours_entry")
        day = day_of_activity(sessions, url, db)
        assert day["participations"] == round(day["participations_in_year"] / 365) > 0
        assert scalar(sessions, "SELECT sum(minutes) FROM hours_entry") > minutes_before
        assert sequence_all(sessions, url, db)["entries"] >= 2 * day["participations"]
        _, done = rollup(sessions)
        assert done["rows"]["hours"] >= day["participations"]
        check = rollup_check(sessions)
        assert check["months"] >= 12 and check["differences"] == 0, check
        # The city's issued points in the newest month, off by 7 (the generated city also
        # has the year before: an arbitrary row may lie outside the 13 months checked); the
        # city's own row, which its figures are read from (insights_region_figure).
        with transaction(sessions) as s:
            s.execute(
                text(
                    "UPDATE insights_region_figure SET value = value + 7 WHERE (region_id, "
                    "month, figure, key) = (SELECT r.region_id, r.month, r.figure, r.key FROM "
                    "insights_region_figure r JOIN region g ON g.id = r.region_id WHERE "
                    "g.parent_id IS NULL AND r.figure = 'points' AND r.key = 'issued' "
                    "ORDER BY r.month DESC LIMIT 1)"
                )
            )
        off = rollup_check(sessions)
        assert off["differences"] == 1, off
    assert ledger_verify(url, db)["exit_code"] == 0
