"""Field types shared by the request schemas of every domain."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

EARLIEST, LATEST = 1970, 2200


def _plausible(value: datetime) -> datetime:
    """Refuse instants the platform can never mean (and that overflow when moved to UTC)."""
    try:
        year = value.astimezone(UTC).year
    except OverflowError:
        year = value.year
    if not EARLIEST <= year <= LATEST:
        raise ValueError(
            f"时间须在 {EARLIEST}–{LATEST} 年之间 / the time must lie in the years "
            f"{EARLIEST}–{LATEST}"
        )
    return value


# A time with its offset, within years the platform can mean; use it for every input time.
Instant = Annotated[AwareDatetime, AfterValidator(_plausible)]
