"""Pure: small-cell suppression of counts of people, age bands, rates (docs/insights.md).

A count of people under 10 is never shown (PIPL): it reads "<10". Where counts add up to a
total that is shown (new + returning = participants; age band × sex with its margins),
suppressing one cell alone would let anyone subtract it back out of the total, so a line
with exactly one hidden value also hides its smallest other cell (complementary suppression,
shown as "x": it is 10 or more, but hidden), until no line has exactly one hidden value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

THRESHOLD = 10
SUPPRESSED = "<10"
COMPLEMENT = "x"
Shown = int | str  # a count, "<10" (suppressed) or "x" (hidden as a complement)
# Age bands (years reached on the reference day); the last is open-ended.
BANDS: tuple[tuple[str, int], ...] = (
    ("0-17", 0),
    ("18-34", 18),
    ("35-59", 35),
    ("60-69", 60),
    ("70+", 70),
)
SEXES = ("F", "M")


def hidden(values: Sequence[int], lines: Sequence[Sequence[int]]) -> set[int]:
    """Indexes of `values` to hide: every value under the threshold, then complements, so
    that no line (indexes of values that add up: cells and their total) has exactly one."""
    out = {i for i, v in enumerate(values) if v < THRESHOLD}
    changed = True
    while changed:
        changed = False
        for line in lines:
            inside = [i for i in line if i in out]
            if len(inside) == 1:
                rest = [i for i in line if i not in out]
                if rest:  # a cell rather than the line's total (the last), the smallest
                    out.add(min(rest, key=lambda i: (i == line[-1], values[i], i)))
                    changed = True
    return out


def shown(values: Sequence[int], lines: Sequence[Sequence[int]]) -> list[Shown]:
    """The values as published: "<10" where small, "x" where hidden as a complement."""
    gone = hidden(values, lines)
    return [_mark(v) if i in gone else v for i, v in enumerate(values)]


def _mark(v: int) -> str:
    return SUPPRESSED if v < THRESHOLD else COMPLEMENT


@dataclass(frozen=True)
class Grid:
    """A table of counts with its row totals, column totals and grand total, as published
    ("<10" or "x": hidden)."""

    cells: list[list[Shown]]
    row_totals: list[Shown]
    col_totals: list[Shown]
    total: Shown


def grid(cells: Sequence[Sequence[int]]) -> Grid:
    """Suppress a table of counts of people shown with its margins."""
    rows, cols = len(cells), len(cells[0]) if cells else 0
    flat = [v for row in cells for v in row]
    row_tot = [sum(row) for row in cells]
    col_tot = [sum(cells[r][c] for r in range(rows)) for c in range(cols)]
    values = [*flat, *row_tot, *col_tot, sum(flat)]
    rt, ct, gt = rows * cols, rows * cols + rows, rows * cols + rows + cols
    lines = [[*(r * cols + c for c in range(cols)), rt + r] for r in range(rows)]
    lines += [[*(r * cols + c for r in range(rows)), ct + c] for c in range(cols)]
    lines += [[*(rt + r for r in range(rows)), gt], [*(ct + c for c in range(cols)), gt]]
    out = shown(values, lines)
    return Grid(
        cells=[out[r * cols : (r + 1) * cols] for r in range(rows)],
        row_totals=out[rt:ct],
        col_totals=out[ct:gt],
        total=out[gt],
    )


def split(total: int, first: int) -> tuple[Shown, Shown, Shown]:
    """(total, first, rest) as published, where first + rest = total (new and returning
    volunteers of the participants)."""
    out = shown([total, first, total - first], [[1, 2, 0]])
    return out[0], out[1], out[2]


def band_of(birth: date, on: date) -> str:
    """The age band of someone born on `birth`, on the day `on`."""
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    name = BANDS[0][0]
    for label, lowest in BANDS:
        if age >= lowest:
            name = label
    return name


def born_before(on: date, age: int) -> date:
    """The latest birth day of someone who has reached `age` on `on` (29 February born
    reach their years on 1 March in common years)."""
    try:
        return on.replace(year=on.year - age)
    except ValueError:
        return date(on.year - age, 2, 28)


def rate(part: Shown | None, whole: Shown | None) -> float | None:
    """A percentage to one decimal, or None when either side is hidden or the whole is 0."""
    if not isinstance(part, int) or not isinstance(whole, int) or not whole:
        return None
    return round(100 * part / whole, 1)
