"""The set-based rebuild's SQL (PostgreSQL): each source's rows recorded in a window,
reduced in the database to one row per community, month and what the figures key on
(`tally`'s groups), so a rebuild of a city's year moves a few hundred thousand groups to
Python instead of tens of millions of rows (bench/notes.md). The memberships and the rows
seen go from one table to another without leaving the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, case, cast, func, insert, literal, select
from sqlalchemy.orm import Session

from civicpoints.activities import Participation
from civicpoints.fraud import Case
from civicpoints.hours import hours_between
from civicpoints.identity import Resident
from civicpoints.insights.models import Member, Seen
from civicpoints.insights.tally import CITY, SIGN, CountGroup, FlowGroup, HoursGroup
from civicpoints.kit.clock import BUSINESS_TZ
from civicpoints.ledger import flows_between

# An owner `scheme:resident:<id>` or `scheme:community:<id>` (`tally.owner_community`); ids
# are written by `str(uuid)`, so only the canonical form is looked for.
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_OWNED_BY = "^[^:]*:%s:" + _UUID + "$"
STREAM = 5000  # grouped rows fetched at a time


def month_of(at: Any) -> Any:
    """SQL: 'YYYY-MM' of an instant in Beijing time (`kit.clock.month_key`)."""
    return func.to_char(func.timezone(BUSINESS_TZ.key, at), "YYYY-MM")


def community_of(resident: Any) -> Any:
    """SQL: a resident's community, or the city-wide id."""
    return func.coalesce(resident, CITY)


class BulkRepository:
    """Reads the sources grouped and copies rows between tables; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _stream(self, stmt: Any) -> Iterator[Any]:
        result = self.session.execute(stmt.execution_options(yield_per=STREAM))
        yield from result

    def flow_groups(self, since: datetime, until: datetime) -> Iterator[tuple[FlowGroup, int]]:
        """The ledger's flows recorded in the window, grouped; each with its rows' count."""
        f = flows_between(since, until)
        part = func.split_part(f.c.owner, ":", 3)
        resident_owned = f.c.owner.op("~", is_comparison=True)(_OWNED_BY % "resident")
        community_owned = f.c.owner.op("~", is_comparison=True)(_OWNED_BY % "community")
        community = case(
            (resident_owned, community_of(Resident.community_id)),
            (community_owned, cast(part, Uuid)),
            else_=literal(CITY, Uuid),
        ).label("community")
        month, donate = month_of(f.c.occurred_at).label("month"), (f.c.kind == "donate")
        stmt = (
            select(community, month, f.c.flow, donate, func.sum(f.c.amount), func.count())
            .select_from(f)
            .outerjoin(Resident, resident_owned & (Resident.id == cast(part, Uuid)))
            .group_by(community, month, f.c.flow, donate)
        )
        for c, m, flow, d, amount, n in self._stream(stmt):
            yield FlowGroup(c, m, flow, bool(d), int(amount)), int(n)

    def _hours(self, since: datetime, until: datetime) -> tuple[Any, Any, Any]:
        h = hours_between(since, until)
        community = community_of(Resident.community_id).label("community")
        month = func.to_char(h.c.served_on, "YYYY-MM").label("month")
        return h, community, month

    def hours_groups(self, since: datetime, until: datetime) -> Iterator[HoursGroup]:
        """The hours register's rows recorded in the window, grouped."""
        h, community, month = self._hours(since, until)
        channel = func.coalesce(Participation.source, "unknown").label("channel")
        keys = (community, month, h.c.kind, h.c.category, channel)
        stmt = (
            select(*keys, func.sum(h.c.minutes), func.count())
            .select_from(h)
            .outerjoin(Resident, Resident.id == h.c.resident_id)
            .outerjoin(Participation, Participation.id == h.c.participation_id)
            .group_by(*keys)
        )
        for c, m, kind, category, ch, minutes, n in self._stream(stmt):
            yield HoursGroup(c, m, kind, category, ch, int(minutes), int(n))

    def copy_members(self, since: datetime, until: datetime) -> None:
        """Each resident's participations per community and month served (signed as the
        register's kinds count: `tally.SIGN`), from the window's rows, into the rollup's
        memberships (which the rebuild has emptied)."""
        h, community, month = self._hours(since, until)
        n = func.sum(case(SIGN, value=h.c.kind, else_=0))
        rows = (
            select(community, month, h.c.resident_id, n)
            .select_from(h)
            .outerjoin(Resident, Resident.id == h.c.resident_id)
            .group_by(community, month, h.c.resident_id)
            .having(n != 0)
        )
        columns = ["community_id", "month", "resident_id", "n"]
        self.session.execute(insert(Member).from_select(columns, rows))

    def case_groups(self, since: datetime, until: datetime) -> Iterator[CountGroup]:
        """Fraud cases decided in the window, counted by community, month and kind."""
        community, month = community_of(Resident.community_id), month_of(Case.decided_at)
        stmt = (
            select(community, month, Case.kind, func.count())
            .select_from(Case)
            .outerjoin(Resident, Resident.id == Case.resident_id)
            .where(Case.decided_at >= since, Case.decided_at < until)
            .group_by(community, month, Case.kind)
        )
        for c, m, kind, n in self._stream(stmt):
            yield CountGroup(c, m, kind, int(n))

    def registration_groups(self, since: datetime, until: datetime) -> Iterator[CountGroup]:
        """Residents registered in the window, counted by community and month."""
        month = month_of(Resident.created_at)
        stmt = (
            select(Resident.community_id, month, func.count())
            .where(Resident.created_at >= since, Resident.created_at < until)
            .group_by(Resident.community_id, month)
        )
        for c, m, n in self._stream(stmt):
            yield CountGroup(c, m, "residents", int(n))

    def copy_seen(self, source: str, since: datetime, until: datetime) -> None:
        """Record a source's rows recorded in the window as counted (the next run's overlap)."""
        if source == "ledger":
            f = flows_between(since, until)
            rows: Any = select(literal(source), f.c.id, f.c.recorded_at)
        elif source == "hours":
            h = hours_between(since, until)
            rows = select(literal(source), h.c.id, h.c.recorded_at)
        else:
            table: Any = Case if source == "fraud" else Resident
            at = Case.decided_at if source == "fraud" else Resident.created_at
            rows = select(literal(source), table.id, at).where(at >= since, at < until)
        columns = ["source", "row_id", "recorded_at"]
        self.session.execute(insert(Seen).from_select(columns, rows))
