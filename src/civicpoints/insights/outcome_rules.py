"""Pure rules of outcome indicators: units and their bounds, values in thousandths, months
that may be entered, and the before/after comparison around a region's join month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

WINDOW = 12  # months compared on each side of the join month
MAX_VALUE = 1_000_000_000  # counts: at most a billion (thousandths fit a BIGINT)


class Unit(StrEnum):
    """Units an indicator may have."""

    PERCENT = "%"
    COUNT = "件"
    PER_10K = "件/万人"
    SCORE = "分"


def upper_bound(unit: str) -> int:
    """The largest value an indicator of `unit` may hold (percent: 100)."""
    return 100 if unit == Unit.PERCENT else MAX_VALUE


def to_milli(text: str, unit: str) -> int | None:
    """The value in thousandths, or None when not a number in [0, bound] with at most three
    decimals."""
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not d.is_finite() or d < 0 or d > upper_bound(unit) or d != d.quantize(Decimal("0.001")):
        return None
    return int(d * 1000)


def shown(milli: int) -> float:
    """Thousandths as a number (65500 → 65.5)."""
    return milli / 1000


def month_key(d: date) -> str:
    """'YYYY-MM' of a date."""
    return f"{d.year:04d}-{d.month:02d}"


def plus(month: str, n: int) -> str:
    """The 'YYYY-MM' month `n` months after `month` (n may be negative)."""
    i = int(month[:4]) * 12 + int(month[5:7]) - 1 + n
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


@dataclass(frozen=True)
class Comparison:
    """Averages of the WINDOW months before the join month and of the join month and the
    WINDOW − 1 after it (only months with a value count); change = after − before."""

    joined: str
    before: float | None
    after: float | None
    months_before: int
    months_after: int

    @property
    def change(self) -> float | None:
        """after − before (None when either side has no value)."""
        if self.before is None or self.after is None:
            return None
        return round(self.after - self.before, 3)

    @property
    def change_pct(self) -> float | None:
        """The change relative to before, % (None without a positive before)."""
        if self.change is None or not self.before:
            return None
        return round(self.change / self.before * 100, 1)


def compare(values: dict[str, int], joined: str) -> Comparison:
    """Before/after averages of monthly values (thousandths by 'YYYY-MM') around `joined`."""
    before = [v for m, v in values.items() if plus(joined, -WINDOW) <= m < joined]
    after = [v for m, v in values.items() if joined <= m < plus(joined, WINDOW)]

    def avg(xs: list[int]) -> float | None:
        return round(sum(xs) / len(xs) / 1000, 3) if xs else None

    return Comparison(joined, avg(before), avg(after), len(before), len(after))
