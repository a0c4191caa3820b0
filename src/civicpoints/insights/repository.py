"""All SQL of insights: the rollup tables, and the reads of other domains' public tables
(residents, participations, fraud cases, regions) the rollup and the figures need."""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from civicpoints.activities import Participation, RecordStatus
from civicpoints.fraud import Case
from civicpoints.identity import Resident
from civicpoints.insights.models import (
    CITY,
    Figure,
    Member,
    PeopleCell,
    Population,
    RegionFigure,
    Seen,
    Watermark,
)
from civicpoints.insights.people import AGGREGATED, Grouped, Key, Row
from civicpoints.insights.privacy import BANDS, born_before
from civicpoints.insights.tally import CUMULATIVE, CaseRow, FigureKey, MemberKey, RegistrationRow
from civicpoints.regions import Region

CHUNK = 500  # ids per IN list
FIGURE_KEY = ["community_id", "month", "figure", "key"]
REGION_KEY = ["region_id", "month", "figure", "key"]
PEOPLE_KEY = ["region_id", "month", "prev", "is_first", "band", "band_change", "sex"]
ROLLUP_LOCK = zlib.crc32(b"civicpoints.insights.rollup")


def _chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


class InsightsRepository:
    """Reads and writes the rollup; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def _insert(self, table: Any) -> Any:
        return (postgresql.insert if self.postgres else sqlite.insert)(table)

    # -- watermarks and rows seen ---------------------------------------------------------

    def watermark(self, source: str) -> Watermark | None:
        """A source's watermark, locked for this run where the database can."""
        stmt = select(Watermark).where(Watermark.source == source)
        if self.postgres:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt.execution_options(populate_existing=True)).first()

    def watermarks(self) -> dict[str, datetime]:
        """Every source's watermark (no lock: for the live delta)."""
        rows = self.session.execute(select(Watermark.source, Watermark.upto)).all()
        return {s: u for s, u in rows}

    def set_watermark(self, source: str, upto: datetime) -> None:
        """Move a source's watermark forward (never back)."""
        stmt = self._insert(Watermark).values(source=source, upto=upto, runs=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=["source"],
            set_={
                "upto": case(
                    (Watermark.upto > stmt.excluded.upto, Watermark.upto), else_=stmt.excluded.upto
                ),
                "runs": Watermark.runs + 1,
            },
        )
        self.session.execute(stmt)

    def lock(self) -> None:
        """One rollup run (or rebuild) at a time, until this transaction ends: an advisory
        lock on PostgreSQL; SQLite's writers are one at a time already (BEGIN IMMEDIATE)."""
        if self.postgres:
            self.session.execute(select(func.pg_advisory_xact_lock(ROLLUP_LOCK)))

    def mark_seen(self, source: str, rows: Sequence[tuple[uuid.UUID, datetime]]) -> set[uuid.UUID]:
        """Record rows as counted; returns those not recorded before."""
        if not rows:
            return set()
        # One statement for any number of rows, its compiled form cached (SQLAlchemy's
        # "insertmanyvalues" batches the parameters): a fresh multi-row VALUES per call cost
        # half of a rebuild's CPU in compilation (bench/notes.md).
        stmt = self._insert(Seen).on_conflict_do_nothing().returning(Seen.row_id)
        values = [{"source": source, "row_id": i, "recorded_at": at} for i, at in rows]
        return set(self.session.scalars(stmt, values).all())

    def seen_of(self, source: str, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these rows are counted already."""
        out: set[uuid.UUID] = set()
        for part in _chunks(ids):
            stmt = select(Seen.row_id).where(Seen.source == source, Seen.row_id.in_(part))
            out.update(self.session.scalars(stmt).all())
        return out

    def forget_seen(self, source: str, before: datetime) -> int:
        """Drop the record of rows far enough behind the watermark to never come again."""
        stmt = delete(Seen).where(Seen.source == source, Seen.recorded_at < before)
        return int(self.session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]

    def clear(self) -> None:
        """Empty the rollup (a rebuild starts from nothing)."""
        for table in (Figure, RegionFigure, Member, PeopleCell, Seen, Watermark):
            self.session.execute(delete(table))

    # -- increments ------------------------------------------------------------------------

    def _rows(self, table: Any, columns: list[str], values: list[dict[str, Any]]) -> Any:
        """Rows to insert: on PostgreSQL a SELECT from one array per column (`unnest`: one
        short statement for any number of rows; a multi-row VALUES of 20,000 rows cost the
        driver 135 µs a row to prepare, bench/notes.md), elsewhere the values themselves
        (run as executemany)."""
        if not self.postgres:
            return None
        arrays = [
            cast(bindparam(f"a{i}", [v[c] for v in values]), postgresql.ARRAY(table.c[c].type))
            for i, c in enumerate(columns)
        ]
        unnested = func.unnest(*arrays).table_valued(*columns).render_derived(name="u")
        return select(*(unnested.c[c] for c in columns))

    def _upsert(
        self, table: Any, key: list[str], value: str, values: list[dict[str, Any]]
    ) -> tuple[Any, Any]:
        """`INSERT … ON CONFLICT (key) DO UPDATE SET value = value + excluded.value` of the
        rows (keys unique among them) and the parameters to run it with."""
        columns = [*key, value]
        rows = self._rows(table.__table__, columns, values)
        stmt = (
            self._insert(table) if rows is None else self._insert(table).from_select(columns, rows)
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=key, set_={value: getattr(table, value) + stmt.excluded[value]}
        )
        return stmt, (values if rows is None else None)

    def _add(self, table: Any, key: list[str], cells: Mapping[FigureKey, int]) -> None:
        """Add to additive figures (upsert: commutative, so concurrent runs add up)."""
        values = [
            dict(zip(key, k, strict=True)) | {"value": v} for k, v in sorted(cells.items()) if v
        ]
        if values:
            self.session.execute(*self._upsert(table, key, "value", values))

    def add_figures(self, figures: Mapping[FigureKey, int]) -> None:
        """Add to communities' figures (and the city-wide id's)."""
        self._add(Figure, FIGURE_KEY, figures)

    def add_region_figures(self, figures: Mapping[FigureKey, int]) -> None:
        """Add to cities', districts' and streets' figures (`tally.lifted`)."""
        self._add(RegionFigure, REGION_KEY, figures)

    def add_members(self, members: dict[MemberKey, int]) -> None:
        """Add to residents' counted participations per community and month."""
        values = [
            {"community_id": c, "month": m, "resident_id": r, "n": n}
            for (c, m, r), n in sorted(members.items())
            if n
        ]
        if values:
            key = ["community_id", "month", "resident_id"]
            self.session.execute(*self._upsert(Member, key, "n", values))

    def add_people(self, cells: Mapping[Key, int]) -> None:
        """Add to the people aggregate; cells that come to 0 are deleted (a resident's
        `prev` moves when an earlier month arrives late)."""
        values = [
            dict(zip(PEOPLE_KEY, key, strict=True)) | {"n": n}
            for key, n in sorted(cells.items())
            if n
        ]
        if not values:
            return
        key = [getattr(PeopleCell, name) for name in PEOPLE_KEY]
        stmt, params = self._upsert(PeopleCell, PEOPLE_KEY, "n", values)
        rows = self.session.execute(stmt.returning(*key, PeopleCell.n), params).all()
        empty = [tuple(row[:-1]) for row in rows if not row[-1]]
        for part in _chunks(empty):
            self.session.execute(delete(PeopleCell).where(tuple_(*key).in_(part)))

    def members_page(self, after: tuple[uuid.UUID, str, uuid.UUID] | None, limit: int) -> list[Row]:
        """Membership rows in (resident, month, community) order, after a key (the rebuild
        of the people aggregate reads them page by page)."""
        order = (Member.resident_id, Member.month, Member.community_id)
        stmt = select(Member.community_id, Member.month, Member.resident_id, Member.n)
        if after is not None:
            stmt = stmt.where(tuple_(*order) > tuple_(*after))
        stmt = stmt.order_by(*order).limit(limit)
        return [(c, m, r, n) for c, m, r, n in self.session.execute(stmt).all()]

    # -- other domains' rows ------------------------------------------------------------

    def communities_of(self, resident_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """Each resident's community."""
        out: dict[uuid.UUID, uuid.UUID] = {}
        for part in _chunks(sorted(set(resident_ids))):
            stmt = select(Resident.id, Resident.community_id).where(Resident.id.in_(part))
            out.update({r: c for r, c in self.session.execute(stmt).all()})
        return out

    def people_of(self, resident_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[date, str]]:
        """Birth day and sex (as derived from the ID card at registration) of residents."""
        out: dict[uuid.UUID, tuple[date, str]] = {}
        for part in _chunks(sorted(set(resident_ids))):
            stmt = select(Resident.id, Resident.birth_date, Resident.sex).where(
                Resident.id.in_(part)
            )
            out.update({r: (b, s) for r, b, s in self.session.execute(stmt).all()})
        return out

    def channels_of(self, participation_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        """How each participation was recorded (app, offline, import)."""
        out: dict[uuid.UUID, str] = {}
        for part in _chunks(sorted(set(participation_ids))):
            stmt = select(Participation.id, Participation.source).where(Participation.id.in_(part))
            out.update({p: s for p, s in self.session.execute(stmt).all()})
        return out

    def _recorded(
        self,
        stmt: Any,
        at: Any,
        ident: Any,
        window: tuple[datetime, datetime],
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> Sequence[Any]:
        """A feed's rows recorded (`at`) in the window, keyset-paged by (at, id) after `after`."""
        stmt = stmt.where(at >= window[0], at < window[1]).order_by(at, ident).limit(limit)
        if after is not None:
            when, last = after
            stmt = stmt.where(or_(at > when, and_(at == when, ident > last)))
        return self.session.execute(stmt).all()

    def cases_recorded(
        self,
        since: datetime,
        until: datetime,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[CaseRow]:
        """Fraud cases decided in [since, until), keyset-paged by (decided_at, id)."""
        stmt = select(Case.id, Case.decided_at, Case.resident_id, Case.kind)
        rows = self._recorded(stmt, Case.decided_at, Case.id, (since, until), after, limit)
        return [CaseRow(*row) for row in rows]

    def residents_recorded(
        self,
        since: datetime,
        until: datetime,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[RegistrationRow]:
        """Residents registered in [since, until), keyset-paged by (created_at, id), with the
        community each belongs to now."""
        stmt = select(Resident.id, Resident.created_at, Resident.community_id)
        at = Resident.created_at
        rows = self._recorded(stmt, at, Resident.id, (since, until), after, limit)
        return [RegistrationRow(*row) for row in rows]

    # -- figures of a region -------------------------------------------------------------

    def _communities(self, region: Region) -> Any:
        """SQL: the ids of the communities (and other regions) in the region's subtree."""
        return select(Region.id).where(Region.path.startswith(region.path, autoescape=True))

    def subtree(self, region: Region) -> set[uuid.UUID]:
        """The ids of the region and every region below it (ids only: the whole tree as
        objects took 60 ms of a city's figures at 2,000 communities, bench/notes.md)."""
        return set(self.session.scalars(self._communities(region)).all())

    def _owned(self, column: Any, region: Region) -> ColumnElement[bool]:
        inside = column.in_(self._communities(region))
        return or_(inside, column == CITY) if region.parent_id is None else inside

    def _figure_rows(self, region: Region) -> tuple[Any, ColumnElement[bool]]:
        """Where a region's figures are: a city's, district's or street's own rows of
        `insights_region_figure`; a community's rows of `insights_figure` (any other region's,
        summed over its subtree)."""
        if region.level in AGGREGATED:
            return RegionFigure, RegionFigure.region_id == region.id
        return Figure, self._owned(Figure.community_id, region)

    def figures(self, region: Region, first: str, last: str) -> dict[tuple[str, str, str], int]:
        """Sums of every figure by (month, figure, key), months first..last."""
        t, owned = self._figure_rows(region)
        stmt = (
            select(t.month, t.figure, t.key, func.sum(t.value))
            .where(owned, t.month >= first, t.month <= last)
            .group_by(t.month, t.figure, t.key)
        )
        return {(m, f, k): int(v or 0) for m, f, k, v in self.session.execute(stmt).all()}

    def upto(self, region: Region, last: str) -> dict[tuple[str, str], int]:
        """Every points flow and the residents registered of the region, by (figure, key),
        over all months up to and including `last`."""
        t, owned = self._figure_rows(region)
        stmt = (
            select(t.figure, t.key, func.sum(t.value))
            .where(owned, t.figure.in_(CUMULATIVE), t.month <= last)
            .group_by(t.figure, t.key)
        )
        return {(f, k): int(v or 0) for f, k, v in self.session.execute(stmt).all()}

    def people(self, region_id: uuid.UUID, first: str, last: str) -> Grouped:
        """A city's or district's people aggregate over months first..last: people per
        (month, is first), and the period's people per (band, band change, sex) — the rows of
        each resident's first month in the period (`prev` before it, '' sorts first)."""
        cell = PeopleCell
        inside = (cell.region_id == region_id, cell.month >= first, cell.month <= last)
        by_month = select(cell.month, cell.is_first, func.sum(cell.n)).where(*inside)
        age = (cell.band, cell.band_change, cell.sex)
        by_age = select(*age, func.sum(cell.n)).where(*inside, cell.prev < first).group_by(*age)
        out = Grouped()
        for m, f, n in self.session.execute(by_month.group_by(cell.month, cell.is_first)):
            out.by_month[(m, bool(f))] += int(n)
        for b, c, x, n in self.session.execute(by_age):
            out.by_age[(b, c, x)] += int(n)
        return out

    def regions(self) -> list[tuple[uuid.UUID, str, str, bool]]:
        """Every region's id, path, level and whether it is a root."""
        stmt = select(Region.id, Region.path, Region.level, Region.parent_id.is_(None))
        return [(i, p, lv, bool(root)) for i, p, lv, root in self.session.execute(stmt).all()]

    def _live_members(
        self, region: Region, first: str, last: str, skip: Sequence[uuid.UUID]
    ) -> Any:
        stmt = select(Member).where(
            Member.community_id.in_(self._communities(region)),
            Member.month >= first,
            Member.month <= last,
            Member.n > 0,
        )
        if skip:
            stmt = stmt.where(Member.resident_id.not_in(skip))
        return stmt.subquery()

    def participants(
        self, region: Region, first: str, last: str, skip: Sequence[uuid.UUID]
    ) -> dict[str, tuple[int, int]]:
        """(participants, new volunteers) per month, leaving out the residents `skip`."""
        m = self._live_members(region, first, last, skip)
        earlier = aliased(Member)
        before = (
            select(earlier.resident_id)
            .where(earlier.resident_id == m.c.resident_id, earlier.month < m.c.month)
            .where(earlier.n > 0)
            .exists()
        )
        new = case((before, None), else_=m.c.resident_id)
        stmt = select(
            m.c.month,
            func.count(func.distinct(m.c.resident_id)),
            func.count(func.distinct(new)),
        ).group_by(m.c.month)
        return {mo: (int(p), int(n)) for mo, p, n in self.session.execute(stmt).all()}

    def cells(
        self, region: Region, first: str, last: str, skip: Sequence[uuid.UUID], on: date
    ) -> dict[tuple[str, str], int]:
        """The period's participants by (age band on `on`, sex), leaving out `skip`."""
        m = self._live_members(region, first, last, skip)
        people = select(func.distinct(m.c.resident_id).label("rid")).subquery()
        band = band_case(on)
        stmt = (
            select(band, Resident.sex, func.count())
            .join(people, people.c.rid == Resident.id)
            .group_by(band, Resident.sex)
        )
        return {(b, s): int(n) for b, s, n in self.session.execute(stmt).all()}

    def members_of(
        self, resident_ids: Sequence[uuid.UUID]
    ) -> list[tuple[uuid.UUID, str, uuid.UUID, int]]:
        """Every stored membership row of these residents (any community, any month)."""
        out: list[tuple[uuid.UUID, str, uuid.UUID, int]] = []
        for part in _chunks(sorted(set(resident_ids))):
            stmt = select(Member.community_id, Member.month, Member.resident_id, Member.n).where(
                Member.resident_id.in_(part)
            )
            out.extend((c, m, r, n) for c, m, r, n in self.session.execute(stmt).all())
        return out

    def backlog(self, region: Region) -> int:
        """Participation records of the region's residents waiting for a reviewer now."""
        stmt = (
            select(func.count())
            .select_from(Participation)
            .join(Resident, Resident.id == Participation.resident_id)
            .where(
                Participation.status == RecordStatus.PENDING_REVIEW,
                Resident.community_id.in_(self._communities(region)),
            )
        )
        return int(self.session.scalar(stmt) or 0)

    def region_by_code(self, code: str) -> Region | None:
        """A region by its code."""
        return self.session.scalars(select(Region).where(Region.code == code)).one_or_none()

    def population(self, region_id: uuid.UUID) -> int | None:
        """A region's population as entered, or None."""
        row = self.session.get(Population, region_id)
        return row.population if row else None

    def set_population(self, region_id: uuid.UUID, population: int, now: datetime) -> None:
        """Enter (or replace) a region's population."""
        row = self.session.get(Population, region_id)
        if row is None:
            self.session.add(Population(region_id=region_id, population=population, set_at=now))
        else:
            row.population, row.set_at = population, now


def band_case(on: date) -> Any:
    """The age band on `on` of `Resident.birth_date`, in SQL (as `privacy.band_of`)."""
    whens = [
        (Resident.birth_date > born_before(on, BANDS[i + 1][1]), BANDS[i][0])
        for i in range(len(BANDS) - 1)
    ]
    return case(*whens, else_=BANDS[-1][0])
