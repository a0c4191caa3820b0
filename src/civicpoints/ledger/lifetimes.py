"""Pure rules of a carried point's life: no session, no clock (DESIGN.md §3 pure modules)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from civicpoints.kit.clock import as_utc, expiry_instant, local_date, start_of_local_day

# The rule of an education account's lots (教育积分): they end with the enrolment year in which
# the points were first earned, the year ending on a region's "MM-DD" (e.g. "year_end:08-31").
YEAR_END = "year_end"


def carried_expiry(expires_at: datetime, earned_at: datetime, extend_months: int) -> datetime:
    """The expiry of points carried out of a lot ending at `expires_at`, first earned at
    `earned_at`: kept as it is, or (`extend_months` > 0, the points bank) the end of the Beijing
    day `extend_months` after earning when that is later. Never earlier, never beyond the rule."""
    kept = as_utc(expires_at)
    if extend_months <= 0:
        return kept
    return max(kept, expiry_instant(as_utc(earned_at), extend_months))


def extension_months(extends: str) -> int:
    """The months of a carry's recorded rule ("months:24" → 24; "" → 0)."""
    if not extends:
        return 0
    kind, _, value = extends.partition(":")
    if kind != "months" or not value.isdigit():
        raise ValueError(f"unknown extension rule {extends!r}")
    return int(value)


def year_end_day(month_day: str, year: int) -> date:
    """The date "MM-DD" in `year` (ValueError for anything else, 02-29 included: every year
    must have the day)."""
    if len(month_day) != 5 or month_day[2] != "-" or month_day == "02-29":
        raise ValueError(f"not a month and day: {month_day!r}")
    month, day = month_day.split("-")
    if not (month.isdigit() and day.isdigit()):
        raise ValueError(f"not a month and day: {month_day!r}")
    return date(year, int(month), int(day))


def year_end_expiry(earned_at: datetime, month_day: str) -> datetime:
    """When education points first earned at `earned_at` expire: at the end of the Beijing day
    `month_day` that closes the enrolment year they were earned in (that day itself included)."""
    earned = local_date(as_utc(earned_at))
    last = year_end_day(month_day, earned.year)
    if last < earned:
        last = year_end_day(month_day, earned.year + 1)
    return start_of_local_day(last + timedelta(days=1))


def year_end_rule(month_day: str) -> str:
    """The carry rule that sets an education lot's expiry ("year_end:08-31"), checked."""
    year_end_day(month_day, 2001)
    return f"{YEAR_END}:{month_day}"


def rule_expiry(extends: str, expires_at: datetime, earned_at: datetime) -> datetime:
    """The expiry a carry's recorded rule gives a slice of a lot ending at `expires_at`, first
    earned at `earned_at`: kept (""), extended ("months:N"), or the end of the enrolment year
    ("year_end:MM-DD", which replaces the lot's own date: education points last to the end of
    the child's enrolment year instead of 12 months). ValueError for an unknown rule."""
    kind, _, value = extends.partition(":")
    if kind == YEAR_END:
        return year_end_expiry(earned_at, value)
    return carried_expiry(expires_at, earned_at, extension_months(extends))
