"""Small-cell suppression, age bands and rates (insights/privacy.py, people.py, tally.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from civicpoints.hours import HoursRow
from civicpoints.insights.people import count, merge
from civicpoints.insights.privacy import (
    BANDS,
    THRESHOLD,
    Shown,
    band_of,
    born_before,
    grid,
    hidden,
    rate,
    split,
)
from civicpoints.insights.tally import CITY, of_flows, of_hours, outstanding, owner_community
from civicpoints.ledger import FlowRow

counts = st.integers(min_value=0, max_value=60)


def peel(values: list[Shown], lines: list[list[int]]) -> list[int | None]:
    """The subtraction attack: solve every line with one unknown, again until nothing changes."""
    known: list[int | None] = [v if isinstance(v, int) else None for v in values]
    changed = True
    while changed:
        changed = False
        for line in lines:
            unknown = [i for i in line if known[i] is None]
            if len(unknown) == 1:
                *cells, total = line
                i = unknown[0]
                if i == total:
                    known[i] = sum(known[c] or 0 for c in cells)
                else:
                    known[i] = (known[total] or 0) - sum(known[c] or 0 for c in cells if c != i)
                changed = True
    return known


def grid_lines(rows: int, cols: int) -> list[list[int]]:
    """The additive lines of a grid flattened as privacy.grid does."""
    rt, ct, gt = rows * cols, rows * cols + rows, rows * cols + rows + cols
    lines = [[*(r * cols + c for c in range(cols)), rt + r] for r in range(rows)]
    lines += [[*(r * cols + c for r in range(rows)), ct + c] for c in range(cols)]
    return [*lines, [*(rt + r for r in range(rows)), gt], [*(ct + c for c in range(cols)), gt]]


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda r: st.lists(st.lists(counts, min_size=2, max_size=2), min_size=r, max_size=r)
    )
)
def test_no_suppressed_cell_is_recovered_by_subtracting_from_totals(cells: list[list[int]]) -> None:
    """Every count under 10 is hidden, and peeling the row and column sums (margins and
    grand total included) recovers no hidden value."""
    g = grid(cells)
    rows, cols = len(cells), 2
    published = [v for row in g.cells for v in row] + g.row_totals + g.col_totals + [g.total]
    true = [v for row in cells for v in row]
    true += [sum(r) for r in cells] + [sum(r[c] for r in cells) for c in range(cols)]
    true += [sum(map(sum, cells))]
    for shown_value, value in zip(published, true, strict=True):
        assert shown_value in ("<10", "x") or shown_value == value
        assert (shown_value == "<10") == (value < THRESHOLD)
    recovered = peel(published, grid_lines(rows, cols))
    assert [i for i, v in enumerate(recovered) if v is not None] == [
        i for i, v in enumerate(published) if isinstance(v, int)
    ]


def test_one_small_cell_takes_a_complement_with_it() -> None:
    """A row with one small cell hides its next smallest too (and the columns follow)."""
    g = grid([[3, 40], [25, 30]])
    assert g.cells[0] == ["<10", "x"]  # 3 is small; 40 is its row's complement
    assert g.row_totals == [43, 55] and g.total == 98
    assert g.cells[1] == ["x", "x"]  # the columns' sums would give 3 and 40 back
    assert g.col_totals == [28, 70]


def test_new_and_returning_volunteers() -> None:
    """new + returning = participants: one small part hides the other."""
    assert split(50, 4) == (50, "<10", "x")
    assert split(50, 20) == (50, 20, 30)
    assert split(8, 8) == ("<10", "<10", "<10")
    assert split(12, 12) == (12, "x", "<10")


@given(st.lists(counts, min_size=2, max_size=6))
def test_hidden_lines_never_hold_exactly_one(values: list[int]) -> None:
    """After suppression no line has exactly one hidden value."""
    line = list(range(len(values)))
    gone = hidden([*values, sum(values)], [[*line, len(values)]])
    assert len(gone) != 1


@given(
    st.dates(date(1920, 1, 1), date(2026, 12, 31)), st.dates(date(2000, 1, 1), date(2030, 12, 31))
)
def test_bands_in_sql_form_agree_with_age(birth: date, on: date) -> None:
    """The SQL's birth-day cut-offs (born_before) put everyone in the band of their age."""
    by_cutoff = BANDS[-1][0]
    for i in range(len(BANDS) - 1):
        if birth > born_before(on, BANDS[i + 1][1]):
            by_cutoff = BANDS[i][0]
            break
    assert band_of(birth, on) == by_cutoff


def test_leap_day_birthdays() -> None:
    """Born on 29 February: 18 on 1 March of a common year, not on 28 February."""
    assert band_of(date(2000, 2, 29), date(2018, 2, 28)) == "0-17"
    assert band_of(date(2000, 2, 29), date(2018, 3, 1)) == "18-34"


def test_rates() -> None:
    """Percentages to one decimal; unknown or zero wholes give None."""
    assert rate(50, 3000) == 1.7
    assert rate("<10", 10) is None and rate(5, 0) is None and rate(5, None) is None
    assert rate(20, "x") is None


def _at(day: int) -> datetime:
    return datetime(2026, 3, day, 4, tzinfo=UTC)


def test_flows_go_to_the_owners_community() -> None:
    """Wallets count in their resident's community, pools in theirs, the rest city-wide;
    2,000 points issued then 300 redeemed leave 1,700 outstanding."""
    zhang, home, pool = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    wallet = f"wallet:resident:{zhang}"
    rows = [
        FlowRow(uuid.uuid4(), _at(2), _at(1), "award", "issued", 2000, wallet),
        FlowRow(uuid.uuid4(), _at(3), _at(3), "post", "redeemed", 300, wallet),
        FlowRow(uuid.uuid4(), _at(4), _at(4), "donate", "carried_out", 100, wallet),
        FlowRow(
            uuid.uuid4(), _at(4), _at(4), "donate", "carried_in", 100, f"pool:community:{pool}"
        ),
        FlowRow(
            uuid.uuid4(), _at(5), _at(5), "award", "issued", 50, f"team_pool:team:{uuid.uuid4()}"
        ),
    ]
    inc = of_flows(rows, {zhang: home})
    mine = {k: v for (c, m, f, k), v in inc.figures.items() if c == home and f == "points"}
    assert mine == {"issued": 2000, "redeemed": 300, "carried_out": 100, "donated": 100}
    assert inc.figures[(pool, "2026-03", "points", "carried_in")] == 100
    assert inc.figures[(CITY, "2026-03", "points", "issued")] == 50
    assert outstanding(mine) == 1600
    assert owner_community("system:expiry", {}) == CITY


def test_a_clawback_takes_back_what_the_entry_added() -> None:
    """Entry then correction: participations, hours and membership back to 0; restore: 1."""
    r, c, p = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    day = date(2026, 3, 8)
    entry = HoursRow(uuid.uuid4(), _at(9), "entry", r, p, "environmental", day, 240)
    fix = HoursRow(uuid.uuid4(), _at(20), "correct", r, p, "environmental", day, -240)
    inc = of_hours([entry, fix], {r: c}, {p: "app"})
    at = (c, "2026-03")
    assert inc.figures[(*at, "participations", "environmental")] == 0
    assert inc.figures[(*at, "hours", "minutes")] == 0
    assert inc.figures[(*at, "channel", "app")] == 0
    assert inc.figures[(*at, "clawbacks", "correct")] == 1
    assert inc.members[(*at, r)] == 0


def test_people_from_rows() -> None:
    """Participants per month, new volunteers in their first month anywhere, bands on a day."""
    a, b, home, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    rows = [(other, "2026-01", a, 1), (home, "2026-02", a, 2), (home, "2026-02", b, 1)]
    rows = merge(rows, {(home, "2026-02", b): -1, (home, "2026-03", b): 1})
    who = {a: (date(1958, 3, 15), "F"), b: (date(2000, 1, 1), "M")}
    people = count(rows, lambda c: c == home, ["2026-02", "2026-03"], who, date(2026, 3, 31))
    assert people.participants == {"2026-02": 1, "2026-03": 1}
    assert people.new == {"2026-02": 0, "2026-03": 1}
    assert people.cells == {("60-69", "F"): 1, ("18-34", "M"): 1}


def test_months_are_beijing_months() -> None:
    """A transfer at 23:30 Beijing on 31 March counts in March (15:30 UTC)."""
    r, c = uuid.uuid4(), uuid.uuid4()
    late = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)
    row = FlowRow(uuid.uuid4(), late, late, "award", "issued", 10, f"wallet:resident:{r}")
    assert (c, "2026-03", "points", "issued") in of_flows([row], {r: c}).figures
    row = FlowRow(
        uuid.uuid4(), late, late + timedelta(hours=1), "award", "issued", 10, f"wallet:resident:{r}"
    )
    assert (c, "2026-04", "points", "issued") in of_flows([row], {r: c}).figures


def test_the_rollup_slot_is_its_five_minutes() -> None:
    """`insights.rollup` runs every five minutes: its slot is the five minutes (Beijing)."""
    from civicpoints.jobs import scheduled_jobs, slot_of
    from civicpoints.kit.settings import Settings

    cron = scheduled_jobs(Settings())["insights.rollup"][1]
    assert slot_of(cron, datetime(2026, 12, 7, 1, 7, 59, tzinfo=UTC)) == "2026-12-07T09:05"
    assert slot_of(cron, datetime(2026, 12, 7, 1, 10, tzinfo=UTC)) == "2026-12-07T09:10"
    assert slot_of({"minute": 5}, datetime(2026, 12, 7, 1, 7, tzinfo=UTC)) == "2026-12-07T09"
