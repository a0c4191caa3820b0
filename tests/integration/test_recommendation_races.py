"""Two first looks at home of the same new resident at once (two tabs; or a look during the
nightly run), PostgreSQL with real commits: both pages answer, one list is stored."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.cli.city import City
from civicpoints.identity.models import Resident
from civicpoints.insights import RecsService
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction

from .test_recommendations import publish, stored

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def test_racing_first_looks_both_answer_and_store_one_list(
    sessions: sessionmaker[Session], city: City,
    staff: Callable[[str], Principal], make_resident: Callable[..., Resident],
) -> None:  # fmt: skip
    organizer = staff("organizer")
    for days in (1, 2):
        publish(sessions, city, organizer, utcnow() + timedelta(days=days), f"活动{days}",
                place=f"地点{days}")  # fmt: skip
    for name in ("王一", "王二", "王三"):
        me = make_resident(name)
        gate, shown, failed = threading.Barrier(2), list[int](), list[str]()

        def look(
            me: Resident = me,
            gate: threading.Barrier = gate,
            shown: list[int] = shown,
            failed: list[str] = failed,
        ) -> None:
            gate.wait()
            try:
                with transaction(sessions) as s:
                    shown.append(len(RecsService(s).suggestions(me.id, utcnow())))
            except Exception as exc:  # what the page would have turned into a 500
                failed.append(repr(exc))

        threads = [threading.Thread(target=look) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failed == [] and shown == [2, 2]
        assert [r.rank for r in stored(sessions, me)] == [1, 2]
