"""Pure rules of 教育积分 (education points): who may be linked, how many guardians, which
enrolment-year setting applies. No session, no clock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

MAX_GUARDIANS = 2  # two guardians may credit one child
ADULT_AGE = 18
DEFAULT_YEAR_END = "08-31"  # the enrolment (school) year ends on 31 August


@dataclass(frozen=True)
class YearEndVersion:
    """One stored enrolment-year setting."""

    region_id: uuid.UUID | None
    effective_from: date
    year_end: str


def age_on(birth: date, today: date) -> int:
    """Whole years of age on `today`."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def is_minor(birth: date, today: date) -> bool:
    """Whether someone born on `birth` is under 18 on `today`."""
    return age_on(birth, today) < ADULT_AGE


def room_for_guardian(live_guardians: int) -> bool:
    """Whether a child with `live_guardians` (linked or asking) may take one more."""
    return live_guardians < MAX_GUARDIANS


def year_end_in_force(versions: list[YearEndVersion], region_ids: list[uuid.UUID]) -> str:
    """The year end of the most specific region with a version (`region_ids` most specific
    first; city-wide rows last), its latest version; the default without any."""
    rank = {rid: i for i, rid in enumerate(region_ids)}
    mine = [v for v in versions if v.region_id is None or v.region_id in rank]
    if not mine:
        return DEFAULT_YEAR_END
    best = min(
        mine,
        key=lambda v: (
            rank.get(v.region_id, len(rank)) if v.region_id else len(rank),
            -v.effective_from.toordinal(),
        ),
    )
    return best.year_end
