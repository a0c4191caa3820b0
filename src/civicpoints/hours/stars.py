"""Star levels (星级志愿者) from service hours: a pure rule, no I/O.

After the community-volunteer registration rules: 100 / 300 / 600 / 1000 / 1500 hours of
recorded service make one to five stars. A region may set its own thresholds (a versioned
region setting, `hours_star_policy`); this module only decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from pydantic import BaseModel, Field, field_validator

LEVELS = 5
NAMES_ZH = ("", "一星志愿者", "二星志愿者", "三星志愿者", "四星志愿者", "五星志愿者")
NAMES_EN = (
    "",
    "1-star volunteer",
    "2-star volunteer",
    "3-star volunteer",
    "4-star volunteer",
    "5-star volunteer",
)


class StarThresholds(BaseModel):
    """The hours needed for one to five stars: five whole numbers, strictly rising."""

    hours: list[int] = Field(min_length=LEVELS, max_length=LEVELS)

    @field_validator("hours")
    @classmethod
    def _rising(cls, v: list[int]) -> list[int]:
        if v[0] <= 0 or any(b <= a for a, b in pairwise(v)):
            raise ValueError("thresholds must be positive and strictly rising")
        return v


DEFAULT_STARS = StarThresholds(hours=[100, 300, 600, 1000, 1500])


@dataclass(frozen=True)
class StarLevel:
    """A level (0: none yet, 1–5) and how far the next one is (None at five stars)."""

    level: int
    minutes_to_next: int | None

    @property
    def hours_to_next(self) -> float | None:
        """Hours still to serve for the next level, to the hundredth (rounded up)."""
        if self.minutes_to_next is None:
            return None
        return -(-self.minutes_to_next * 100 // 60) / 100

    @property
    def name_zh(self) -> str:
        """一星志愿者 … 五星志愿者; empty below the first level."""
        return NAMES_ZH[self.level]

    @property
    def name_en(self) -> str:
        """The level's English name; empty below the first level."""
        return NAMES_EN[self.level]


def star_level(minutes: int, thresholds: StarThresholds) -> StarLevel:
    """The star level of `minutes` of service under `thresholds`."""
    level = sum(1 for h in thresholds.hours if minutes >= h * 60)
    if level == LEVELS:
        return StarLevel(level, None)
    return StarLevel(level, thresholds.hours[level] * 60 - minutes)
