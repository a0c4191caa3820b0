"""The incremental rollup: each source's rows recorded since its watermark (less an overlap,
for transactions that commit late), each counted once (`insights_seen`), added to the
figures; and the live delta, the same sums of the rows not counted yet (docs/insights.md)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from civicpoints.hours import hours_recorded
from civicpoints.insights.repository import InsightsRepository
from civicpoints.insights.tally import Increments, of_cases, of_flows, of_hours, owner_resident
from civicpoints.ledger import flows_recorded

SOURCES = ("ledger", "hours", "fraud")
# A row is recorded (its time taken) before its transaction commits: rows of transactions
# shorter than this are read by the run after the one they missed.
OVERLAP = timedelta(minutes=10)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PAGE = 2000
Reader = Callable[[datetime, datetime, tuple[datetime, uuid.UUID] | None, int], Sequence[Any]]


@dataclass
class Delta:
    """The live delta: increments of rows not rolled up yet, and the residents they touch."""

    increments: Increments = field(default_factory=Increments)
    residents: set[uuid.UUID] = field(default_factory=set)
    rows: int = 0


class Rollup:
    """Rolls the sources up into the insights tables; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repo = InsightsRepository(session)

    def _reader(self, source: str) -> Reader:
        s = self.session
        if source == "ledger":
            return lambda a, b, after, n: flows_recorded(s, a, b, after, n)
        if source == "hours":
            return lambda a, b, after, n: hours_recorded(s, a, b, after, n)
        return self.repo.cases_recorded

    def _pages(self, source: str, since: datetime, until: datetime) -> Iterator[Sequence[Any]]:
        read, after = self._reader(source), None
        while True:
            page = read(since, until, after, PAGE)
            if page:
                yield page
            if len(page) < PAGE:
                return
            after = (page[-1].recorded_at, page[-1].id)

    def increments(self, source: str, rows: Sequence[Any]) -> Increments:
        """What rows of a source add to the figures."""
        repo = self.repo
        if source == "ledger":
            owners = (owner_resident(r.owner) for r in rows)
            return of_flows(rows, repo.communities_of(r for r in owners if r))
        residents = repo.communities_of(r.resident_id for r in rows)
        if source == "hours":
            channels = repo.channels_of(r.participation_id for r in rows)
            return of_hours(rows, residents, channels)
        return of_cases(rows, residents)

    def run(self, now: datetime) -> dict[str, int]:
        """Roll every source up to `now`; returns the rows counted per source. Runs are one
        at a time (`lock`), so only rows recorded before the watermark can have been counted
        already (those inside the overlap behind it are looked up in `insights_seen`), and
        only rows inside the next run's overlap (`now − OVERLAP` on) need recording there: a
        rebuild of a year no longer writes and deletes a row per source row."""
        self.repo.lock()
        counted = {}
        for source in SOURCES:
            mark = self.repo.watermark(source)
            since = mark.upto - OVERLAP if mark else EPOCH
            keep_from = now - OVERLAP
            n = 0
            for page in self._pages(source, since, now):
                behind = [r.id for r in page if mark and r.recorded_at < mark.upto]
                counted_before = self.repo.seen_of(source, behind) if behind else set()
                rows = [r for r in page if r.id not in counted_before]
                self.repo.mark_seen(
                    source, [(r.id, r.recorded_at) for r in rows if r.recorded_at >= keep_from]
                )
                found = self.increments(source, rows)
                self.repo.add_figures(found.figures)
                self.repo.add_members(found.members)
                n += len(rows)
            self.repo.set_watermark(source, now)
            self.repo.forget_seen(source, now - OVERLAP)
            counted[source] = n
        return counted

    def rebuild(self, now: datetime) -> dict[str, int]:
        """Empty the rollup and count every source row again."""
        self.repo.lock()
        self.repo.clear()
        return self.run(now)

    def live(self, now: datetime) -> Delta:
        """The rows recorded since the watermarks that no run has counted yet, summed."""
        marks, out = self.repo.watermarks(), Delta()
        for source in SOURCES:
            since = marks[source] - OVERLAP if source in marks else EPOCH
            for page in self._pages(source, since, now):
                seen = self.repo.seen_of(source, [r.id for r in page])
                rows = [r for r in page if r.id not in seen]
                out.increments.merge(self.increments(source, rows))
                out.residents.update(r.resident_id for r in rows if source == "hours")
                out.rows += len(rows)
        return out
