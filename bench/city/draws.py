"""What a resident does in the city's two years, drawn from their community's generator (the
same draws whichever worker writes them): whether they take part in the year before and in
the year, and at which of their community's activities, for how long, in the app or on paper."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

PARTICIPATING = 0.45
PARTICIPATED_BEFORE = 0.18  # the seed's participation before the scheme grew (18 % → 45 %)
MORE = 0.3  # chance of one more participation: 1/(1-0.3) ≈ 1.4 a participant a year …
# … except 骨干志愿者 (core volunteers): every activity of their community in two running
# months, long shifts: about 45 hours a month, so many reach the monthly cap (月度上限).
CORE = 0.02
CORE_MINUTES = (180, 240)
MINUTES = (45, 210)  # a participation's real duration, uniform
OFFLINE = 0.25  # share recorded on paper slips at a service point (the rest in the app)


def community_rng(seed: int, index: int) -> random.Random:
    """The generator of one community: the same residents whichever worker draws them."""
    return random.Random(seed * 1_000_003 + index)


Draws = list[tuple[Any, int, int, bool]]  # (activity, minutes, check-in delay, offline)


def draws(rng: random.Random, c: Any, registered: datetime) -> Draws:
    """A resident's participations: the year before (fewer took part, only after they
    registered), then the year."""
    before: Draws = []
    if rng.random() < PARTICIPATED_BEFORE:
        before = [p for p in pick(rng, c.earlier) if p[0].starts_at > registered]
    if rng.random() >= PARTICIPATING:
        return before
    return before + pick(rng, c.activities)


def pick(rng: random.Random, activities: list[Any]) -> Draws:
    """A participant's year at `activities` (a year of their community's, time order):
    1 + geometric(0.3) random ones; or, for 骨干志愿者, every one of two running months."""
    if rng.random() < CORE:
        per = len(activities) // 12
        first = rng.randint(0, 10) * per
        return [
            (a, rng.randint(*CORE_MINUTES), rng.randint(0, 15), rng.random() < OFFLINE)
            for a in activities[first : first + 2 * per]
        ]
    n = 1
    while rng.random() < MORE and n < 12:
        n += 1
    chosen = rng.sample(activities, min(n, len(activities)))
    return [(a, rng.randint(*MINUTES), rng.randint(0, 15), rng.random() < OFFLINE) for a in chosen]
