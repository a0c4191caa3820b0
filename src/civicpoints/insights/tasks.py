"""The `insights.rollup` job (every few minutes, the sources' new rows into the rollup) and
the nightly `insights.recommend` (为您推荐)."""

from __future__ import annotations

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
    be computed, fit the model once, then rank and store in pages of residents, each page in
    its own transaction (docs/insights.md, "Recommendations")."""
    now = utcnow()
    with transaction(sessions) as s:
        recs = RecsService(s)
        removed = recs.forget_ineligible()
        ground = recs.ground(now)
    after, residents, stored = None, 0, 0
    while True:
        with transaction(sessions) as s:
            recs = RecsService(s)
            page = recs.page_of_residents(after, PAGE)
            if not page:
                break
            stored += recs.rank_page(ground, page, now)
        residents, after = residents + len(page), page[-1][0]
    summary = {"residents": residents, "stored": stored, "removed": removed}
    return True, summary | {"candidates": len(ground.items)}
