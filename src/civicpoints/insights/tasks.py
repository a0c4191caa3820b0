"""The `insights.rollup` job (every few minutes, the sources' new rows into the rollup) and
the nightly `insights.recommend` (为您推荐)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from civicpoints.insights.recs import RecsService
from civicpoints.insights.rollup import Rollup
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction

PAGE = 500  # residents ranked per transaction


def rollup(sessions: sessionmaker[Session]) -> tuple[bool, dict[str, Any]]:
    """Roll every source up to now, in one transaction (idempotent; rows counted once)."""
    with transaction(sessions) as s:
        counted = Rollup(s).run(utcnow())
    return True, {"rows": counted}


def rebuild(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Empty the rollup and count every source row again, in one transaction."""
    with transaction(sessions) as s:
        return Rollup(s).rebuild(utcnow())


def recommend(sessions: sessionmaker[Session]) -> tuple[bool, dict[str, Any]]:
    """The nightly `insights.recommend` job: delete the lists of residents who may no longer
    be computed and the expired ones, fit the model once on counts the database aggregates
    (stored for the day's first looks), then rank and store the lists of the residents who
    signed in or took part in the last 30 days, in pages, each page in its own transaction;
    the others are ranked at their first look (docs/insights.md, "Recommendations")."""
    now, started = utcnow(), time.perf_counter()
    with transaction(sessions) as s:
        recs = RecsService(s)
        removed = recs.forget_ineligible(now)
        ground = recs.ground(now)
    fitted, residents, stored = time.perf_counter(), 0, 0
    for page in _pages(sessions, now):
        with transaction(sessions) as s:
            recs = RecsService(s)
            people = recs.residents(page)
            stored += recs.rank_page(ground, people, now)
        residents += len(people)
    summary = {"residents": residents, "stored": stored, "removed": removed}
    seconds = {"seconds_fit": round(fitted - started, 2),
               "seconds_rank": round(time.perf_counter() - fitted, 2)}  # fmt: skip
    return True, summary | {"candidates": ground.candidates()} | seconds


def _pages(sessions: sessionmaker[Session], now: datetime) -> Iterator[list[uuid.UUID]]:
    """The ids of the residents to rank, `PAGE` at a time; read first in one short
    transaction and held packed (16 bytes a resident: 1,000,000 residents are 16 MB)."""
    with transaction(sessions) as s:
        packed = b"".join(r.bytes for r in RecsService(s).active_ids(now))
    step = PAGE * 16
    for i in range(0, len(packed), step):
        chunk = packed[i : i + step]
        yield [uuid.UUID(bytes=chunk[j : j + 16]) for j in range(0, len(chunk), 16)]
