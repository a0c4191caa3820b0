"""The pure rules of 教育积分: the enrolment-year expiry the ledger recomputes, and which
region's year end applies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest

from civicpoints.identity.education_rules import DEFAULT_YEAR_END, is_minor, room_for_guardian
from civicpoints.kit.clock import BUSINESS_TZ
from civicpoints.kit.versions import in_force
from civicpoints.ledger.lifetimes import rule_expiry, year_end_expiry, year_end_rule


def beijing(y: int, m: int, d: int, h: int = 12) -> datetime:
    """An instant at hour `h` Beijing time, in UTC."""
    return datetime(y, m, d, h, tzinfo=BUSINESS_TZ).astimezone(UTC)


def test_points_end_with_the_enrolment_year_they_were_earned_in() -> None:
    """Earned before or on 08-31: that year's 08-31; after it: next year's; to the day's end."""
    assert year_end_expiry(beijing(2026, 12, 7), "08-31") == beijing(2027, 9, 1, 0)
    assert year_end_expiry(beijing(2026, 8, 31, 23), "08-31") == beijing(2026, 9, 1, 0)
    assert year_end_expiry(beijing(2026, 9, 1, 0), "08-31") == beijing(2027, 9, 1, 0)
    # 2026-08-31 16:30 UTC is 09-01 00:30 in Beijing: the next year
    assert year_end_expiry(datetime(2026, 8, 31, 16, 30, tzinfo=UTC), "08-31") == beijing(
        2027, 9, 1, 0
    )


def test_the_rule_replaces_the_lots_own_date_and_other_rules_stay() -> None:
    """`year_end:` ignores the 12-month date; "" keeps it; "months:24" extends it."""
    earned, kept = beijing(2026, 12, 7), beijing(2027, 12, 8, 0)
    assert rule_expiry("year_end:07-15", kept, earned) == beijing(2027, 7, 16, 0)
    assert rule_expiry("", kept, earned) == kept
    assert rule_expiry("months:24", kept, earned) == beijing(2028, 12, 8, 0)


@pytest.mark.parametrize("bad", ["02-29", "8-31", "13-01", "08-32", "aa-bb", "", "08/31"])
def test_a_year_end_every_year_does_not_have_is_refused(bad: str) -> None:
    """Not MM-DD, or not a day of every year: ValueError (verify reports the rule unknown)."""
    with pytest.raises(ValueError):
        year_end_rule(bad)
    with pytest.raises(ValueError):
        rule_expiry(f"year_end:{bad}", beijing(2027, 1, 1), beijing(2026, 1, 1))


@dataclass(frozen=True)
class YearEndVersion:
    """One stored enrolment-year setting, as the repository returns it."""

    region_id: uuid.UUID | None
    effective_from: date
    year_end: str
    id: uuid.UUID = field(default_factory=uuid.uuid4)


def year_end_in_force(versions: list[YearEndVersion], chain: list[uuid.UUID]) -> str:
    """What GuardianService.year_end decides from the rows (kit.versions' precedence)."""
    row = in_force(versions, chain, date(2026, 12, 7))
    return DEFAULT_YEAR_END if row is None else row.year_end


def test_the_most_specific_region_wins_then_the_latest_version() -> None:
    """Community over street over city-wide; within one region the latest start."""
    community, street = uuid.uuid4(), uuid.uuid4()
    chain = [community, street]
    versions = [
        YearEndVersion(None, date(2026, 1, 1), "06-30"),
        YearEndVersion(street, date(2026, 1, 1), "07-31"),
    ]
    assert year_end_in_force([], chain) == DEFAULT_YEAR_END
    assert year_end_in_force(versions[:1], chain) == "06-30"
    assert year_end_in_force(versions, chain) == "07-31"
    versions += [
        YearEndVersion(community, date(2026, 1, 1), "07-01"),
        YearEndVersion(community, date(2026, 6, 1), "07-15"),
    ]
    assert year_end_in_force(versions, chain) == "07-15"
    assert year_end_in_force(versions, [uuid.uuid4()]) == "06-30"


def test_minors_and_two_guardians() -> None:
    """Under 18 on the day; at most two guardians (linked or asking)."""
    assert is_minor(date(2008, 12, 8), date(2026, 12, 7))
    assert not is_minor(date(2008, 12, 7), date(2026, 12, 7))
    assert room_for_guardian(1) and not room_for_guardian(2)
