"""A row recorded before a run but committed after it (a transaction still open while the
run reads) is counted by the next run: the overlap behind the watermark. PostgreSQL only,
where a reader does not wait for an open writer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.identity.models import Resident
from civicpoints.kit.clock import utcnow
from civicpoints.ledger import LedgerService, Movement, wallet_of

from .test_insights import figures, run, tables

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def test_a_row_committed_after_a_run_is_counted_by_the_next(
    sessions: sessionmaker[Session], city: City, make_resident: Callable[..., Resident]
) -> None:
    zhang = make_resident("张秀英")
    late = sessions()
    now = utcnow()
    move = Movement("award", 40, "test", "服务 / service", "t", now, "late:1")
    LedgerService(late).credit(wallet_of(zhang.id), move, now + timedelta(days=365))
    late.flush()  # recorded (its time taken) but not committed
    assert run(sessions)["ledger"] == 0  # the run cannot see it yet, and moves past it
    late.commit()
    late.close()
    assert figures(sessions, city)["totals"]["points"]["issued"] == 40  # live delta
    assert run(sessions)["ledger"] == 1  # the overlap: read again, counted once
    assert sum(v for k, v in tables(sessions)[0].items() if k[2:] == ("points", "issued")) == 40
