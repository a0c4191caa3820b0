"""Beijing calendar months: the last full month, recent months, and months as SQL buckets.

Reports count by the month an instant falls in in Beijing time (DESIGN.md §4). Grouping is
done with a CASE over each month's UTC bounds, which every database runs the same way.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, case, literal

from civicpoints.kit.clock import add_months, start_of_local_day


def first_of(d: date) -> date:
    """The first day of `d`'s month."""
    return d.replace(day=1)


def last_full_month(today: date) -> date:
    """The first day of the last calendar month that has ended before `today`."""
    return add_months(first_of(today), -1)


def recent_months(today: date, n: int) -> list[date]:
    """The first days of the `n` months up to and including `today`'s, oldest first."""
    this = first_of(today)
    return [add_months(this, i - n + 1) for i in range(n)]


def key_of(first: date) -> str:
    """'YYYY-MM' of a month."""
    return f"{first.year:04d}-{first.month:02d}"


def bounds(first: date) -> tuple[datetime, datetime]:
    """The UTC instants at which the Beijing month starting `first` begins and ends."""
    return start_of_local_day(first), start_of_local_day(add_months(first, 1))


def month_of_instant(
    column: SQLColumnExpression[datetime], months: list[date]
) -> ColumnElement[str | None]:
    """SQL: the 'YYYY-MM' key of the month (among `months`) an instant column falls in."""
    whens = [
        (and_(column >= a, column < b), literal(key_of(m))) for m in months for a, b in [bounds(m)]
    ]
    return case(*whens, else_=None)


def month_of_day(
    column: SQLColumnExpression[date], months: list[date]
) -> ColumnElement[str | None]:
    """SQL: the 'YYYY-MM' key of the month (among `months`) a date column falls in."""
    whens = [(and_(column >= m, column < add_months(m, 1)), literal(key_of(m))) for m in months]
    return case(*whens, else_=None)
