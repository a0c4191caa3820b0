"""Time: store UTC, decide in Asia/Shanghai business time (DESIGN.md §4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """`value` in UTC; a naive value is taken as already UTC (how SQLite returns it)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local_date(value: datetime) -> date:
    """The calendar date in Beijing time of an instant."""
    return as_utc(value).astimezone(BUSINESS_TZ).date()


def month_key(value: datetime) -> str:
    """'YYYY-MM' of an instant in Beijing time: the month a cap counts in."""
    d = local_date(value)
    return f"{d.year:04d}-{d.month:02d}"


def add_months(d: date, months: int) -> date:
    """`d` plus whole months, clamped to the month's last day (Jan 31 + 1 → Feb 28/29)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    return min(
        d.replace(year=year, month=month, day=1) + timedelta(days=d.day - 1),
        first_next - timedelta(days=1),
    )


def start_of_local_day(d: date) -> datetime:
    """The UTC instant at which the Beijing calendar day `d` begins."""
    return datetime.combine(d, time.min, BUSINESS_TZ).astimezone(UTC)


def expiry_instant(earned_at: datetime, months: int) -> datetime:
    """When points earned at `earned_at` expire: the end of the Beijing day `months` later.

    Stored as the first instant of the following day, so a lot is expired when
    `as_of >= expires_at`.
    """
    last_day = add_months(local_date(earned_at), months)
    return start_of_local_day(last_day + timedelta(days=1))


def parse_local_datetime(text: str) -> datetime:
    """An ISO 8601 string; without an offset it is Beijing time. Returns UTC."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=BUSINESS_TZ)
    return value.astimezone(UTC)
