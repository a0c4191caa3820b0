"""Pure rules of 教育积分 (education points): who may be linked, how many guardians, which
enrolment-year setting applies. No session, no clock."""

from __future__ import annotations

from datetime import date

MAX_GUARDIANS = 2  # two guardians may credit one child
ADULT_AGE = 18
DEFAULT_YEAR_END = "08-31"  # the enrolment (school) year ends on 31 August


def age_on(birth: date, today: date) -> int:
    """Whole years of age on `today`."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def is_minor(birth: date, today: date) -> bool:
    """Whether someone born on `birth` is under 18 on `today`."""
    return age_on(birth, today) < ADULT_AGE


def room_for_guardian(live_guardians: int) -> bool:
    """Whether a child with `live_guardians` (linked or asking) may take one more."""
    return live_guardians < MAX_GUARDIANS
