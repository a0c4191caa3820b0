"""Pure: counts of people from membership rows (community, month, resident, n).

The database counts everyone the rollup holds; this module counts the few residents that
today's live delta touches, from their stored rows merged with the delta, so the page adds
them without counting anyone twice (service.py). For cities and districts the database's
count is the people aggregate (`insights_people`): what each resident's rows add to it is
`contribution`, the one function the rollup, the rebuild and the live delta all use."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from civicpoints.insights.privacy import BANDS, band_of

Row = tuple[uuid.UUID, str, uuid.UUID, int]  # community, month, resident, n


@dataclass
class People:
    """Participants and new volunteers per month, and the period's participants by
    (age band, sex)."""

    participants: Counter[str] = field(default_factory=Counter)
    new: Counter[str] = field(default_factory=Counter)
    cells: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, other: People) -> None:
        """Add another group's counts (the groups share nobody)."""
        self.participants.update(other.participants)
        self.new.update(other.new)
        self.cells.update(other.cells)


def merge(
    stored: Iterable[Row], delta: Mapping[tuple[uuid.UUID, str, uuid.UUID], int]
) -> list[Row]:
    """Stored membership rows with the live delta's counts added."""
    n: Counter[tuple[uuid.UUID, str, uuid.UUID]] = Counter()
    for c, m, r, k in stored:
        n[(c, m, r)] += k
    n.update(delta)
    return [(c, m, r, k) for (c, m, r), k in n.items()]


def count(
    rows: Iterable[Row],
    in_region: Callable[[uuid.UUID], bool],
    months: list[str],
    who: Mapping[uuid.UUID, tuple[date, str]],
    on: date,
) -> People:
    """People among `rows` (every row of the residents concerned, any community): a
    participant of a month has n > 0 in one of the region's communities; a new volunteer's
    first such month (anywhere) is that month; the period's participants are banded by age
    on `on` and by sex."""
    live = [(c, m, r) for c, m, r, k in rows if k > 0]
    first: dict[uuid.UUID, str] = {}
    for _, m, r in live:
        first[r] = min(first.get(r, m), m)
    wanted = set(months)
    out, seen_month, seen = People(), set(), set()
    for c, m, r in live:
        if m not in wanted or not in_region(c) or (m, r) in seen_month:
            continue
        seen_month.add((m, r))
        out.participants[m] += 1
        out.new[m] += first[r] == m
        if r not in seen and r in who:
            seen.add(r)
            birth, sex = who[r]
            out.cells[(band_of(birth, on), sex)] += 1
    return out


# -- the people aggregate of cities and districts (insights_people) -----------------------

# Levels whose people are pre-aggregated: counting a street's 20,000 residents' memberships
# took ~90 ms of its figures, a district's 0.6 s (bench/notes.md); communities are counted live.
AGGREGATED = ("city", "district", "street")
SPAN = 36  # the longest range of months the figures are asked for (service.MAX_MONTHS)
NONE = ""  # no previous month (or none within SPAN); no band change; a resident not on record
# region, month, prev (the resident's previous month in the region within SPAN, else NONE),
# first month anywhere, age band at the month's end, the month whose end first sees the next
# band (within SPAN, else NONE), sex
Key = tuple[uuid.UUID, str, str, bool, str, str, str]


def _index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _month(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _end(index: int) -> date:
    """The last day of a month by index."""
    nxt = index + 1
    return date(nxt // 12, nxt % 12 + 1, 1) - timedelta(days=1)


def age_key(birth: date, month: str) -> tuple[str, str]:
    """(age band at the end of `month`, the month at whose end the next band is reached if
    within SPAN − 1 months, else NONE): with it the band at the end of any month up to SPAN − 1
    later is known (bands are ten years or more apart: at most one change in that time)."""
    at = _index(month)
    band = band_of(birth, _end(at))
    names = [name for name, _ in BANDS]
    if band == names[-1]:
        return band, NONE
    age = BANDS[names.index(band) + 1][1]
    try:  # the birthday reaching the next band (29 February: 1 March in a common year)
        day = birth.replace(year=birth.year + age)
    except ValueError:
        day = date(birth.year + age, 3, 1)
    change = day.year * 12 + day.month - 1
    return band, _month(change) if change - at < SPAN else NONE


def band_at(band: str, change: str, last: str) -> str:
    """The age band at the end of month `last` of a row keyed (band, change) by `age_key`."""
    if change == NONE or change > last:
        return band
    names = [name for name, _ in BANDS]
    return names[names.index(band) + 1]


def above(
    regions: Iterable[tuple[uuid.UUID, str, str, bool]], city: uuid.UUID
) -> dict[uuid.UUID, tuple[uuid.UUID, ...]]:
    """For every region (id, path, level, is a root), the aggregated regions it lies in (itself
    included); the city-wide id `city` lies in the aggregated roots (as `inside` says)."""
    regions = list(regions)
    tops = [(i, p) for i, p, level, _ in regions if level in AGGREGATED]
    out = {i: tuple(t for t, tp in tops if p.startswith(tp)) for i, p, _, _ in regions}
    out[city] = tuple(i for i, _, level, root in regions if root and level in AGGREGATED)
    return out


def contribution(
    rows: Iterable[Row],
    regions_of: Mapping[uuid.UUID, Sequence[uuid.UUID]],
    who: Mapping[uuid.UUID, tuple[date, str]],
) -> Counter[Key]:
    """What residents' membership rows (all of each one's rows, any community) add to the
    aggregate: one per resident, aggregated region and month with n > 0 there, keyed by the
    resident's previous such month in that region, whether it is their first month anywhere,
    their age band (`age_key`) and sex."""
    n: Counter[tuple[uuid.UUID, str, uuid.UUID]] = Counter()
    for c, m, r, k in rows:
        n[(c, m, r)] += k
    months: dict[uuid.UUID, dict[uuid.UUID, set[str]]] = {}
    first: dict[uuid.UUID, str] = {}
    for (c, m, r), k in n.items():
        if k > 0:
            first[r] = min(first.get(r, m), m)
            for region in regions_of.get(c, ()):
                months.setdefault(r, {}).setdefault(region, set()).add(m)
    out: Counter[Key] = Counter()
    for r, by_region in months.items():
        ages: dict[str, tuple[str, str]] = {}
        for region, ms in by_region.items():
            prev = NONE
            for m in sorted(ms):
                if m not in ages:
                    ages[m] = age_key(who[r][0], m) if r in who else (NONE, NONE)
                sex = who[r][1] if r in who else NONE
                near = prev if prev and _index(m) - _index(prev) < SPAN else NONE
                out[(region, m, near, m == first[r], *ages[m], sex)] += 1
                prev = m
    return out


@dataclass
class Grouped:
    """A region's aggregate over months a..b as the figures need it: people per (month, is
    first) and the period's people (rows whose `prev` is before a) per (band, change, sex)."""

    by_month: Counter[tuple[str, bool]] = field(default_factory=Counter)
    by_age: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def subtract(self, other: Grouped) -> None:
        """Take another group's counts out (residents counted again elsewhere)."""
        self.by_month.subtract(other.by_month)
        self.by_age.subtract(other.by_age)

    def people(self, last: str) -> People:
        """Participants, new volunteers and the age × sex cells, ages at the end of month
        `last` (the period's last)."""
        out = People()
        for (m, is_first), k in self.by_month.items():
            out.participants[m] += k
            out.new[m] += k if is_first else 0
        for (band, change, sex), k in self.by_age.items():
            if band != NONE:
                out.cells[(band_at(band, change, last), sex)] += k
        return out


def grouped(keys: Mapping[Key, int], region: uuid.UUID, months: list[str]) -> Grouped:
    """The `Grouped` form of aggregate rows of one region (the SQL's two sums, in Python)."""
    out = Grouped()
    for (r, m, prev, is_first, band, change, sex), k in keys.items():
        if r != region or not months[0] <= m <= months[-1]:
            continue
        out.by_month[(m, is_first)] += k
        if prev < months[0]:
            out.by_age[(band, change, sex)] += k
    return out
