"""The incremental rollup: each source's rows recorded since its watermark (less an overlap,
for transactions that commit late), each counted once (`insights_seen`), added to the
figures of their communities and of the regions above them; and the live delta, the same
sums of the rows not counted yet (docs/insights.md)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from civicpoints.hours import hours_recorded
from civicpoints.insights.bulk import BulkRepository
from civicpoints.insights.people import Key, Row, above, contribution, merge
from civicpoints.insights.repository import InsightsRepository
from civicpoints.insights.tally import (
    CITY,
    FigureKey,
    Increments,
    MemberKey,
    lifted,
    of_cases,
    of_count_groups,
    of_flow_groups,
    of_flows,
    of_hours,
    of_hours_groups,
    of_registrations,
    owner_resident,
)
from civicpoints.ledger import flows_recorded

SOURCES = ("ledger", "hours", "fraud", "residents")
# A row is recorded (its time taken) before its transaction commits: rows of transactions
# shorter than this are read by the run after the one they missed.
OVERLAP = timedelta(minutes=10)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PAGE = 2000
FLUSH = 20_000  # aggregate cells held in memory by the rebuild before they are written
Reader = Callable[[datetime, datetime, tuple[datetime, uuid.UUID] | None, int], Sequence[Any]]
Regions = dict[uuid.UUID, tuple[uuid.UUID, ...]]  # a region's aggregated regions (`above`)


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
        if source == "residents":
            return self.repo.residents_recorded
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
        if source == "residents":
            return of_registrations(rows)
        if source == "ledger":
            owners = (owner_resident(r.owner) for r in rows)
            return of_flows(rows, repo.communities_of(r for r in owners if r))
        residents = repo.communities_of(r.resident_id for r in rows)
        if source == "hours":
            channels = repo.channels_of(r.participation_id for r in rows)
            return of_hours(rows, residents, channels)
        return of_cases(rows, residents)

    def regions_of(self) -> Regions:
        """Every region's (and the city-wide id's) aggregated regions."""
        return above(self.repo.regions(), CITY)

    def _cover(self, regions: Regions, found: Increments) -> Regions:
        """`regions`, read again if the increments name a region they lack (a community
        created since the run read them: its rows would be lifted nowhere, and its people
        counted in no aggregate); an id that is no region lies in none."""
        named = {c for c, *_ in found.figures} | {c for c, _, _ in found.members}
        if named <= regions.keys():
            return regions
        fresh = self.regions_of()
        return fresh | {c: () for c in named - fresh.keys()}

    def _people(self, members: Mapping[MemberKey, int], regions: Regions) -> None:
        """Move the people aggregate by what the membership increments change: the touched
        residents' rows before and after, through the same `contribution`."""
        residents = {r for _, _, r in members}
        before = self.repo.members_of(sorted(residents))
        who = self.repo.people_of(residents)
        change = contribution(merge(before, members), regions, who)
        change.subtract(contribution(before, regions, who))
        self.repo.add_people(change)

    def run(self, now: datetime) -> dict[str, int]:
        """Roll every source up to `now`; returns the rows counted per source. Runs are one
        at a time (`lock`), so only rows recorded before the watermark can have been counted
        already (those inside the overlap behind it are looked up in `insights_seen`), and
        only rows inside the next run's overlap (`now − OVERLAP` on) need recording there: a
        rebuild of a year no longer writes and deletes a row per source row."""
        self.repo.lock()
        return self._run(now, people=True)

    def _run(self, now: datetime, people: bool) -> dict[str, int]:
        """The run: communities' figures and the regions' above them (`lifted`); the people
        aggregate is kept up with the memberships if `people` (the rebuild computes it once
        at the end)."""
        counted, regions = {}, self.regions_of()
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
                regions = self._cover(regions, found)
                if people and found.members:
                    self._people(found.members, regions)
                self.repo.add_figures(found.figures)
                self.repo.add_region_figures(lifted(found.figures, regions))
                self.repo.add_members(found.members)
                n += len(rows)
            self.repo.set_watermark(source, now)
            self.repo.forget_seen(source, now - OVERLAP)
            counted[source] = n
        return counted

    def rebuild(self, now: datetime) -> dict[str, int]:
        """Empty the rollup and count every source row again (on PostgreSQL grouped in the
        database: `_rebuild_sets`); then the people aggregate from every membership row."""
        self.repo.lock()
        self.repo.clear()
        postgres = self.repo.postgres
        counted = self._rebuild_sets(now) if postgres else self._run(now, people=False)
        self.rebuild_people()
        return counted

    def _rebuild_sets(self, now: datetime) -> dict[str, int]:
        """The rebuild with each source grouped in SQL (`BulkRepository`) and the groups
        added up by the same pure functions as a run's rows (`tally`): the same tables as
        `_run` from an empty rollup (tests/integration/test_insights_bulk.py), in a
        fraction of the time at a city's size."""
        bulk, keep_from = BulkRepository(self.session), now - OVERLAP
        figures: Counter[FigureKey] = Counter()
        flows = list(bulk.flow_groups(EPOCH, now))
        figures.update(of_flow_groups(g for g, _ in flows))
        hours = list(bulk.hours_groups(EPOCH, now))
        figures.update(of_hours_groups(hours))
        cases = list(bulk.case_groups(EPOCH, now))
        figures.update(of_count_groups(cases, "fraud"))
        registered = list(bulk.registration_groups(EPOCH, now))
        figures.update(of_count_groups(registered, "registered"))
        bulk.copy_members(EPOCH, now)
        self.repo.add_figures(figures)
        self.repo.add_region_figures(lifted(figures, self.regions_of()))
        for source in SOURCES:
            bulk.copy_seen(source, keep_from, now)
            self.repo.set_watermark(source, now)
        return {
            "ledger": sum(n for _, n in flows),
            "hours": sum(g.rows for g in hours),
            "fraud": sum(g.rows for g in cases),
            "residents": sum(g.rows for g in registered),
        }

    def rebuild_people(self) -> None:
        """The people aggregate from every membership row, read in pages in resident order
        (a resident's rows are held until the page after their last one is read), through
        `contribution`; written every FLUSH cells, so memory stays bounded."""
        regions, after, held = self.regions_of(), None, list[Row]()
        cells: Counter[Key] = Counter()
        while True:
            page = self.repo.members_page(after, PAGE)
            rows, held = held + page, []
            if len(page) == PAGE:
                last = page[-1][2]
                held = [row for row in rows if row[2] == last]
                rows = [row for row in rows if row[2] != last]
                after = (last, page[-1][1], page[-1][0])
            cells.update(contribution(rows, regions, self.repo.people_of(row[2] for row in rows)))
            if len(cells) >= FLUSH or len(page) < PAGE:
                self.repo.add_people(cells)
                cells.clear()
            if len(page) < PAGE:
                return

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
