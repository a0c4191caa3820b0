"""Two submits of the same resident's response at once (PostgreSQL, real commits): exactly one
response is stored, the other is refused with AlreadyAnswered, no stray answer rows."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.cli.city import City
from civicpoints.identity.models import Resident
from civicpoints.insights import AlreadyAnswered, SurveyService
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction

from .test_surveys import answers, draft, opened, stored

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def test_racing_twins_store_one_response(
    sessions: sessionmaker[Session], city: City,
    staff: Callable[[str], Principal], make_resident: Callable[..., Resident],
) -> None:  # fmt: skip
    sid, qs = opened(sessions, staff("organizer"), draft(city))
    people = [make_resident(f"居民{chr(0x4E00 + i)}") for i in range(4)]
    for me in people:
        outcomes: list[str] = []
        gate = threading.Barrier(2)

        def twin(
            rid: uuid.UUID = me.id,
            gate: threading.Barrier = gate,
            outcomes: list[str] = outcomes,
        ) -> None:
            gate.wait()
            try:
                with transaction(sessions) as s:
                    SurveyService(s).submit(rid, sid, answers(qs, text="同时提交"), utcnow())
                outcomes.append("ok")
            except AlreadyAnswered:
                outcomes.append("refused")

        threads = [threading.Thread(target=twin) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["ok", "refused"]
    assert stored(sessions) == (len(people), 5 * len(people))
