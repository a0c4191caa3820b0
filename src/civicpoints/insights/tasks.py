"""The `insights.rollup` job: every few minutes, the sources' new rows into the rollup."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from civicpoints.insights.rollup import Rollup
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction


def rollup(sessions: sessionmaker[Session]) -> tuple[bool, dict[str, Any]]:
    """Roll every source up to now, in one transaction (idempotent; rows counted once)."""
    with transaction(sessions) as s:
        counted = Rollup(s).run(utcnow())
    return True, {"rows": counted}


def rebuild(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Empty the rollup and count every source row again, in one transaction."""
    with transaction(sessions) as s:
        return Rollup(s).rebuild(utcnow())
