"""Pure rules of donations: the monthly limit, the 爱心榜's masked names (no session, no clock)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DonationSettings:
    """A region's donation and points-bank settings in force."""

    monthly_donation_limit: int = 500
    savings_months: int = 24
    savings_cap: int = 5000


DEFAULT_SETTINGS = DonationSettings()


def room_this_month(given: int, limit: int) -> int:
    """How many more points a resident who gave `given` this month may still give."""
    return max(limit - given, 0)


def mask_name(name: str) -> str:
    """A name as the 爱心榜 shows it: the first character, the rest masked (张** / J***)."""
    name = name.strip()
    if not name:
        return "*"
    return name[0] + "*" * max(len(name) - 1, 1)
