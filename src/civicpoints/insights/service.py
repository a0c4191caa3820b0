"""The figures of a region and a range of months, for those whose scope covers the region:
the rollup plus the live delta (rollup.py), people counts suppressed (privacy.py)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.insights.errors import InvalidRange, RegionUnknown
from civicpoints.insights.people import (
    AGGREGATED,
    SPAN,
    People,
    contribution,
    count,
    grouped,
    merge,
)
from civicpoints.insights.privacy import BANDS, SEXES, SUPPRESSED, THRESHOLD, grid, rate, shown
from civicpoints.insights.privacy import split as split_new
from civicpoints.insights.repository import InsightsRepository
from civicpoints.insights.rollup import SOURCES, Delta, Rollup
from civicpoints.insights.schemas import (
    DemographicsRead,
    FiguresRead,
    MonthRead,
    PointsRead,
    RegionRef,
    Shown,
    TotalsRead,
)
from civicpoints.insights.tally import CITY, CUMULATIVE, outstanding
from civicpoints.kit.clock import add_months, local_date
from civicpoints.kit.errors import Forbidden
from civicpoints.kit.months import key_of
from civicpoints.regions import Region, RegionService
from civicpoints.rewards import CatalogService

MAX_MONTHS = SPAN  # the people aggregate keeps what ranges this long need
OFFLINE = ("offline", "import")  # paper slips at the service point, typed or imported


def months_of(first: date, last: date) -> list[date]:
    """First days of the months first..last, refused when reversed or too long."""
    out: list[date] = []
    m = first.replace(day=1)
    while m <= last and len(out) <= MAX_MONTHS:
        out.append(m)
        m = add_months(m, 1)
    if not out or len(out) > MAX_MONTHS:
        raise InvalidRange(field="from", most=MAX_MONTHS)
    return out


def month_start(text: str) -> date:
    """The first day of a 'YYYY-MM' month (the pattern is checked at the edge)."""
    return date(int(text[:4]), int(text[5:7]), 1)


def default_range(now: datetime) -> tuple[date, date]:
    """The last twelve Beijing months, this one included."""
    this = local_date(now).replace(day=1)
    return add_months(this, -11), this


def month_end(first: date) -> date:
    """The last day of the month starting `first` (the day ages are taken on)."""
    return add_months(first, 1) - timedelta(days=1)


def _shown(v: int | str) -> Shown:
    return v if isinstance(v, int) else ("<10" if v == SUPPRESSED else "x")


def _one(v: int) -> Shown:
    return _shown(shown([v], [])[0])


class InsightsService:
    """Reads the figures; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repo = InsightsRepository(session)
        self.regions = RegionService(session)

    def region_for(self, who: Principal, region_id: uuid.UUID | None) -> Region:
        """The region asked for (None: the caller's widest), once the caller's admin or
        auditor scope is known to cover it (scope before existence, as everywhere)."""
        if not {Role.ADMIN, Role.AUDITOR} & set(who.roles):
            raise Forbidden()
        if region_id is None:
            tops = self.tops(who)
            if not tops:
                raise Forbidden()
            region_id = tops[0].id
        self.regions.require_role_over(who, Role.AUDITOR, region_id)
        return self.regions.get(region_id)

    def readable(
        self, who: Principal, region_id: uuid.UUID, role: str = Role.AUDITOR
    ) -> Region | None:
        """The region, if the caller may read its figures (or holds `role` over it); None
        for one outside the caller's scope or unknown alike (a picker falls back quietly)."""
        region = self.regions.find(region_id)
        return region if region is not None and who.may(role, region.path) else None

    def tops(self, who: Principal, role: str = Role.AUDITOR) -> list[Region]:
        """The widest regions the caller may read figures of (or holds `role` over), in tree
        order; none for a caller without the role anywhere."""
        return self.regions.widest(who, role)

    def picker(self, who: Principal, region: Region, role: str = Role.AUDITOR) -> list[Region]:
        """The regions a picker offers around `region`, in tree order: the caller's widest,
        and for each region on the way down from them to `region` (itself included) its
        children — a few dozen (a city's districts, a district's streets, a street's
        communities), not the whole tree (a city has thousands of communities)."""
        near = {r.id: r for r in self.tops(who, role)}
        for r in self.regions.ancestry(region):
            if who.may(role, r.path):
                near[r.id] = r
                near |= {c.id: c for c in self.regions.children(r.id)}
        return sorted(near.values(), key=lambda r: r.path)

    def set_population(self, code: str, population: int, now: datetime) -> None:
        """Enter a region's population by the region's code (operators: the CLI)."""
        region = self.repo.region_by_code(code)
        if region is None:
            raise RegionUnknown(field="region", code=code)
        self.repo.set_population(region.id, population, now)

    def figures(self, region: Region, first: date, last: date, now: datetime) -> FiguresRead:
        """The region's figures for months first..last (Beijing), as of `now`."""
        months = [key_of(m) for m in months_of(first, last)]
        inside = self.inside(region)
        delta = Rollup(self.session).live(now)
        sums = self._sums(region, months, delta, inside)
        people = self.people(region, months, delta, inside, month_end(months_of(last, last)[0]))
        return self._assemble(region, months, sums, people, delta, now)

    def inside(self, region: Region) -> set[uuid.UUID]:
        """The ids of the region and every region below it (and the city-wide id at the root)."""
        ids = self.repo.subtree(region)
        return ids | {CITY} if region.parent_id is None else ids

    def _sums(
        self, region: Region, months: list[str], delta: Delta, inside: set[uuid.UUID]
    ) -> Counter[tuple[str, str, str]]:
        """Figures by (month, figure, key); the keys ('upto', figure, key) hold each points
        flow and the residents registered up to the last month (what is outstanding, the
        registered residents)."""
        sums: Counter[tuple[str, str, str]] = Counter(
            self.repo.figures(region, months[0], months[-1])
        )
        upto = Counter(self.repo.upto(region, months[-1]))
        for (c, m, f, k), v in delta.increments.figures.items():
            if c not in inside:
                continue
            if months[0] <= m <= months[-1]:
                sums[(m, f, k)] += v
            if f in CUMULATIVE and m <= months[-1]:
                upto[(f, k)] += v
        for (f, k), v in upto.items():
            sums[("upto", f, k)] = v
        return sums

    def people(
        self, region: Region, months: list[str], delta: Delta, inside: set[uuid.UUID], on: date
    ) -> People:
        """The region's people in `months` (unsuppressed; ages on `on`, a month's last day):
        counted by the database (all but the residents the delta touches) plus
        those residents counted here from their rows merged with the delta. A city's or a
        district's come from the people aggregate less what the delta's residents' stored
        rows add to it; a street's or a community's from the memberships themselves."""
        skip = sorted(delta.residents)
        stored = self.repo.members_of(skip) if skip else []
        who = self.repo.people_of(skip) if skip else {}
        if region.level in AGGREGATED:
            table = self.repo.people(region.id, months[0], months[-1])
            theirs = contribution(stored, {c: (region.id,) for c in inside}, who)
            table.subtract(grouped(theirs, region.id, months))
            out = table.people(months[-1])
        else:
            out = People()
            for m, (p, n) in self.repo.participants(region, months[0], months[-1], skip).items():
                out.participants[m], out.new[m] = p, n
            out.cells.update(self.repo.cells(region, months[0], months[-1], skip, on))
        if skip:
            rows = merge(stored, delta.increments.members)
            rows = [row for row in rows if row[2] in delta.residents]
            out.add(count(rows, lambda c: c in inside, months, who, on))
        return out

    def _assemble(
        self,
        region: Region,
        months: list[str],
        sums: Counter[tuple[str, str, str]],
        people: People,
        delta: Delta,
        now: datetime,
    ) -> FiguresRead:
        rows = [self._month(m, sums, people) for m in months]
        demo = self._demographics(people)
        total = Counter[tuple[str, str]]()
        for (m, f, k), v in sums.items():
            if m != "upto":
                total[(f, k)] += v
        marks = self.repo.watermarks()
        return FiguresRead(
            region=RegionRef(
                id=region.id, name=region.name, name_en=region.name_en, level=region.level
            ),
            first=months[0],
            last=months[-1],
            generated_at=now,
            rolled_up_to=min((marks[s] for s in SOURCES if s in marks), default=None),
            live_rows=delta.rows,
            suppressed_below=THRESHOLD,
            months=rows,
            totals=self._totals(region, total, sums, demo.total, now),
            demographics=demo,
        )

    def _points(self, get: dict[str, int]) -> PointsRead:
        return PointsRead(
            issued=get.get("issued", 0),
            redeemed=get.get("redeemed", 0),
            expired=get.get("expired", 0),
            donated=get.get("donated", 0),
            clawed_back=get.get("clawed", 0) - get.get("restored", 0),
        )

    def _month(self, m: str, sums: Counter[tuple[str, str, str]], people: People) -> MonthRead:
        p, new, back = split_new(people.participants[m], people.new[m])
        flows = {k: v for (mo, f, k), v in sums.items() if mo == m and f == "points"}
        return MonthRead(
            month=m,
            participants=_shown(p),
            new_volunteers=_shown(new),
            returning_volunteers=_shown(back),
            hours=round(sums[(m, "hours", "minutes")] / 60, 1),
            participations=sum(
                v for (mo, f, _), v in sums.items() if mo == m and f == "participations"
            ),
            points=self._points(flows),
        )

    def _demographics(self, people: People) -> DemographicsRead:
        table = grid([[people.cells[(b, s)] for s in SEXES] for b, _ in BANDS])
        return DemographicsRead(
            bands=[b for b, _ in BANDS],
            sexes=list(SEXES),
            cells=[[_shown(v) for v in row] for row in table.cells],
            band_totals=[_shown(v) for v in table.row_totals],
            sex_totals=[_shown(v) for v in table.col_totals],
            total=_shown(table.total),
        )

    def _totals(
        self,
        region: Region,
        total: Counter[tuple[str, str]],
        sums: Counter[tuple[str, str, str]],
        participants: Shown,
        now: datetime,
    ) -> TotalsRead:
        def part(figure: str) -> dict[str, int]:
            return {k: v for (f, k), v in total.items() if f == figure}

        points = self._points(part("points"))
        held = outstanding({k: v for (m, f, k), v in sums.items() if (m, f) == ("upto", "points")})
        # Registered before the end of the range (or now): Beijing months up to the last.
        registered = sums[("upto", "registered", "residents")]
        population = self.repo.population(region.id)
        fen = held * CatalogService(self.session).fen_per_point(now)
        shown_registered = _one(registered)
        channels = part("channel")
        return TotalsRead(
            participants=participants,
            registered_residents=shown_registered,
            participation_rate=rate(participants, shown_registered),
            population=population,
            population_rate=rate(participants, population),
            hours=round(total[("hours", "minutes")] / 60, 1),
            participations=sum(part("participations").values()),
            by_category={k: v for k, v in sorted(part("participations").items()) if v},
            by_channel={
                "app": channels.get("app", 0),
                "offline": sum(channels.get(k, 0) for k in OFFLINE),
            },
            points=points,
            outstanding=held,
            redemption_rate=rate(points.redeemed, points.issued),
            liability_fen=fen,
            liability_yuan=round(fen / 100, 2),
            clawbacks=_one(total[("clawbacks", "correct")] - total[("clawbacks", "restore")]),
            fraud_flags=_one(sum(part("fraud").values())),
            review_backlog=self.repo.backlog(region),
        )
