"""Property tests of the people aggregate (insights/people.py): what it says a city's or a
district's participants, new volunteers and age × sex cells are equals `people.count` over the
same membership rows; kept incrementally (rows arriving in any order, residents in several
communities) it equals the aggregate computed from all rows at once; and the live delta's
correction (aggregate − the delta residents' stored rows + their merged rows) is exact."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from civicpoints.insights.people import (
    AGGREGATED,
    SPAN,
    Key,
    People,
    Row,
    above,
    age_key,
    band_at,
    contribution,
    count,
    grouped,
    merge,
)
from civicpoints.insights.privacy import band_of
from civicpoints.insights.tally import CITY

# city → 2 districts → 2 streets each → 2 communities each
REGIONS: list[tuple[uuid.UUID, str, str, bool]] = [(uuid.uuid4(), "33/", "city", True)]
for d in range(2):
    REGIONS.append((uuid.uuid4(), f"33/{d}/", "district", False))
    for s in range(2):
        REGIONS.append((uuid.uuid4(), f"33/{d}/{s}/", "street", False))
        for c in range(2):
            REGIONS.append((uuid.uuid4(), f"33/{d}/{s}/{c}/", "community", False))
COMMUNITIES = [i for i, _, level, _ in REGIONS if level == "community"] + [CITY]
RESIDENTS = [uuid.UUID(int=i + 1) for i in range(6)]
MONTHS = [f"{2023 + i // 12}-{i % 12 + 1:02d}" for i in range(48)]  # more than SPAN
UP = above(REGIONS, CITY)


def inside(region: uuid.UUID) -> set[uuid.UUID]:
    """What the service counts in a region: its subtree, and the city-wide id at the root."""
    path = next(p for i, p, _, _ in REGIONS if i == region)
    ids = {i for i, p, _, _ in REGIONS if p.startswith(path)}
    return ids | {CITY} if path == "33/" else ids


def plain(p: People) -> tuple[dict[str, int], dict[str, int], dict[tuple[str, str], int]]:
    """A People without its zero entries."""
    return +p.participants, +p.new, +p.cells


births = st.one_of(
    st.dates(date(1930, 1, 1), date(2024, 12, 31)),
    st.sampled_from([date(1956, 2, 29), date(2008, 2, 29), date(1966, 3, 1), date(1991, 1, 31)]),
    # residents who reach 18, 35, 60 or 70 during the months of the rows
    st.sampled_from([2005, 1988, 1963, 1953]).flatmap(
        lambda y: st.dates(date(y, 1, 1), date(y + 4, 12, 31))
    ),
)
who_of = st.dictionaries(
    st.sampled_from(RESIDENTS), st.tuples(births, st.sampled_from(["F", "M"])), max_size=6
)
keys = st.tuples(st.sampled_from(COMMUNITIES), st.sampled_from(MONTHS), st.sampled_from(RESIDENTS))
rows_of = st.dictionaries(keys, st.integers(-1, 3), max_size=30).map(
    lambda d: [(c, m, r, n) for (c, m, r), n in d.items()]
)
window = st.tuples(st.integers(0, 47), st.integers(0, SPAN - 1)).map(
    lambda t: MONTHS[t[0] : t[0] + t[1] + 1]
)


def month_end(m: str) -> date:
    """The last day of a month 'YYYY-MM'."""
    y, mo = int(m[:4]), int(m[5:])
    nxt = date(y + mo // 12, mo % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


@settings(max_examples=500)
@given(
    st.one_of(births, st.dates(date(1900, 1, 1), date(2030, 12, 31))),
    st.dates(date(1990, 1, 1), date(2040, 12, 1)),
    st.integers(0, SPAN - 1),
)
def test_the_age_key_gives_the_band_at_the_end_of_any_month_in_range(
    birth: date, month: date, later: int
) -> None:
    """Keyed at month m, the band at the end of any month m..m + SPAN − 1 is band_of's."""
    index = month.year * 12 + month.month - 1 + later
    last = date(index // 12, index % 12 + 1, 1)
    band, change = age_key(birth, key(month))
    assert band_at(band, change, key(last)) == band_of(birth, month_end(key(last)))


@settings(max_examples=300)
@given(rows=rows_of, who=who_of, months=window)
def test_the_aggregate_counts_what_count_counts(
    rows: list[Row], who: dict[uuid.UUID, tuple[date, str]], months: list[str]
) -> None:
    on = month_end(months[-1])
    table = contribution(rows, UP, who)
    for region, _, level, _ in REGIONS:
        if level not in AGGREGATED:
            continue
        got = grouped(table, region, months).people(months[-1])
        want = count(rows, inside(region).__contains__, months, who, on)
        assert plain(got) == plain(want)


@settings(max_examples=300)
@given(
    batches=st.lists(st.dictionaries(keys, st.integers(-1, 2), max_size=8), max_size=8),
    who=who_of,
    months=window,
    delta=st.dictionaries(keys, st.integers(-1, 2), max_size=6),
)
def test_kept_incrementally_it_equals_a_rebuild_and_the_live_correction_is_exact(
    batches: list[dict[tuple[uuid.UUID, str, uuid.UUID], int]],
    who: dict[uuid.UUID, tuple[date, str]],
    months: list[str],
    delta: dict[tuple[uuid.UUID, str, uuid.UUID], int],
) -> None:
    stored: list[Row] = []
    table: Counter[Key] = Counter()
    for batch in batches:  # the rollup's pages: any months, any communities, any order
        touched = {r for _, _, r in batch}
        before = [row for row in stored if row[2] in touched]
        after = merge(before, batch)
        table.update(contribution(after, UP, who))
        table.subtract(contribution(before, UP, who))
        stored = [row for row in stored if row[2] not in touched] + after
    assert +table == +contribution(stored, UP, who)  # incremental == rebuild
    index = lambda m: int(m[:4]) * 12 + int(m[5:])  # noqa: E731
    # the table stays small: `prev` only within SPAN months (older ones read as none)
    assert all(not k[2] or index(k[1]) - index(k[2]) < SPAN for k in +table)
    # The live delta: the aggregate less the delta's residents' stored rows, plus their
    # merged rows counted by `count`, equals counting every row after the merge.
    theirs = {r for _, _, r in delta}
    mine = [row for row in stored if row[2] in theirs]
    merged = merge(mine, delta)
    on = month_end(months[-1])
    for region, _, level, _ in REGIONS:
        if level not in AGGREGATED:
            continue
        here = inside(region)
        got = grouped(table, region, months)
        got.subtract(grouped(contribution(mine, {c: (region,) for c in here}, who), region, months))
        out = got.people(months[-1])
        out.add(count(merged, here.__contains__, months, who, on))
        everyone = [row for row in stored if row[2] not in theirs] + merged
        assert plain(out) == plain(count(everyone, here.__contains__, months, who, on))
