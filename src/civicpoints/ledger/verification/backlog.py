"""The sequencer's backlog: how many entries wait for the Merkle log, and for how long.

A queued entry is in no log yet, so no signed checkpoint covers it: the longer it waits, the
longer it could be changed or dropped without a trace (docs/ledger.md). Read in the snapshot of
the main process, so the serial and the parallel runs report the same.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from civicpoints.kit.clock import as_utc
from civicpoints.ledger.models import LogQueue
from civicpoints.ledger.verification.faults import Findings, fault
from civicpoints.ledger.verification.source import Reader


def check_backlog(reader: Reader, found: Findings, now: datetime, max_lag_s: float | None) -> None:
    """Count the queue and age its oldest entry; a fault when it waited over `max_lag_s`."""
    count, oldest = reader.conn.execute(select(func.count(), func.min(LogQueue.queued_at))).one()
    report = found.report
    report.counts["queued"] = count
    report.oldest_queued_s = None if oldest is None else (now - as_utc(oldest)).total_seconds()
    age = report.oldest_queued_s
    if max_lag_s is not None and age is not None and age > max_lag_s:
        found.add(fault("log.backlog", count=count, age=round(age), limit=round(max_lag_s)))
