"""The scheduled jobs: `ledger.expire` daily, `ledger.verify` nightly."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.clock import local_date, start_of_local_day, utcnow
from civicpoints.kit.db import transaction
from civicpoints.ledger.models import SigningKey
from civicpoints.ledger.note import Verifier
from civicpoints.ledger.service import LedgerService


def expire(sessions: sessionmaker[Session]) -> tuple[bool, dict[str, Any]]:
    """Expire every lot that ended before today (Beijing), in committed batches."""
    cutoff = start_of_local_day(local_date(utcnow()))
    lots = points = 0
    while True:
        with transaction(sessions) as s:
            report = LedgerService(s).expire_due(cutoff, batch=500)
        lots, points = lots + report.lots, points + report.points
        if report.lots == 0:
            return True, {"lots": lots, "points": points, "cutoff": cutoff.isoformat()}


def verify(sessions: sessionmaker[Session]) -> tuple[bool, dict[str, Any]]:
    """Recompute the whole ledger against every key that ever signed; faults are an alert."""
    from civicpoints.ledger.verify import verify_ledger

    with transaction(sessions) as s:
        keys = [Verifier.from_vkey(v) for v in s.scalars(select(SigningKey.vkey))]
        report = verify_ledger(s, keys)
    first = [str(f) for f in report.faults[:50]]
    return report.ok, {"faults": report.total_faults, "first": first, "counts": dict(report.counts)}
