"""Pure: a simulated city for the offline evaluation of 为您推荐 (seeded, deterministic).

How it is made (docs/insights.md, "Recommendations"; every constant below is an assumption):
- a 20 × 20 km city of 8 × 8 communities; residents live uniformly inside their community's
  cell; communities nearer the centre hold more residents;
- age bands in the shares of an urban population (18-34 30 %, 35-59 40 %, 60-69 18 %,
  70+ 12 %); each band has its own category tastes and hours (pensioners on weekday
  mornings, working ages in evenings and at weekends) and each resident draws personal
  category preferences around the band's (Dirichlet, concentration 2) and an activity rate
  (log-normal: many take part rarely, a few weekly);
- organizers run *series*: one category at one place, in one time slot, weekly or every
  other week, for the 26 weeks; places are clustered near community centres; each series
  has a quality (log-normal) that makes it more or less popular;
- each week each resident takes part in Poisson(rate) activities of that week, chosen with
  probability ∝ category preference × slot preference × exp(−km from the *true* home / 1.5)
  × quality — preference, distance and popularity, nothing else (no habit term: a resident
  who returns to a series does so because it still suits them).

The model sees only what the platform knows: the community's centre (not the true home),
the age band and past participations. Values in, values out: no clock, no session.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from civicpoints.insights.recs_rules import SLOTS

CATEGORIES = (
    "volunteer_service",
    "environmental",
    "public_supervision",
    "education_support",
    "high_risk",
)
BANDS = ("18-34", "35-59", "60-69", "70+")
BAND_SHARE = (0.30, 0.40, 0.18, 0.12)
# Category tastes per band (rows: BANDS; columns: CATEGORIES).
BAND_TASTE = np.array(
    [
        [0.25, 0.35, 0.10, 0.20, 0.10],
        [0.30, 0.25, 0.15, 0.20, 0.10],
        [0.40, 0.20, 0.25, 0.10, 0.05],
        [0.45, 0.15, 0.30, 0.08, 0.02],
    ]
)
# Time-slot preferences per band (columns: SLOTS).
BAND_HOURS = np.array(
    [
        [0.05, 0.05, 0.30, 0.20, 0.25, 0.15],
        [0.05, 0.05, 0.30, 0.25, 0.25, 0.10],
        [0.35, 0.25, 0.10, 0.15, 0.10, 0.05],
        [0.45, 0.25, 0.05, 0.15, 0.08, 0.02],
    ]
)
CATEGORY_SHARE = np.array([0.35, 0.30, 0.15, 0.15, 0.05])  # of series
GRID, CITY_KM, WEEKS = 8, 20.0, 26
DECAY_KM = 1.5
ORIGIN = (30.25, 120.10)  # south-west corner (a city of the seed's size)
KM_PER_DEG_LAT = 111.195


@dataclass(frozen=True)
class City:
    """Residents, series, activities and participations (in time order)."""

    band: np.ndarray  # resident → index into BANDS
    community: np.ndarray  # resident → community
    home_km: np.ndarray  # resident → true (x, y) km
    centre_km: np.ndarray  # community → (x, y) km
    series_category: np.ndarray  # series → index into CATEGORIES
    series_slot: np.ndarray  # series → index into SLOTS
    series_km: np.ndarray  # series → (x, y) km
    activity_series: np.ndarray  # activity → series
    activity_day: np.ndarray  # activity → day of the half-year
    participations: list[tuple[int, int]]  # (resident, activity), by activity start

    def point(self, xy: np.ndarray) -> tuple[float, float]:
        """(lat, lon) of a point given in km from the south-west corner."""
        lat = ORIGIN[0] + float(xy[1]) / KM_PER_DEG_LAT
        lon = ORIGIN[1] + float(xy[0]) / (KM_PER_DEG_LAT * math.cos(math.radians(lat)))
        return lat, lon


def generate(seed: int, residents: int = 6000, series: int = 360) -> City:
    """A city of `residents` over 26 weeks (the same city for the same arguments)."""
    rng = np.random.default_rng(seed)
    cell = CITY_KM / GRID
    cx, cy = np.meshgrid(np.arange(GRID), np.arange(GRID))
    centre = np.stack([(cx.ravel() + 0.5) * cell, (cy.ravel() + 0.5) * cell], axis=1)
    pull = np.exp(-np.linalg.norm(centre - CITY_KM / 2, axis=1) / 6)
    community = rng.choice(len(centre), size=residents, p=pull / pull.sum())
    home = centre[community] + rng.uniform(-cell / 2, cell / 2, size=(residents, 2))
    band = rng.choice(len(BANDS), size=residents, p=BAND_SHARE)
    taste = np.stack([rng.dirichlet(2 * BAND_TASTE[b] * len(CATEGORIES)) for b in band])
    rate = np.minimum(rng.lognormal(math.log(0.25), 0.9, size=residents), 3.0)
    s_cat = rng.choice(len(CATEGORIES), size=series, p=CATEGORY_SHARE)
    s_slot = rng.choice(len(SLOTS), size=series, p=BAND_HOURS.mean(axis=0))
    s_home = rng.choice(len(centre), size=series, p=pull / pull.sum())
    s_km = np.clip(centre[s_home] + rng.normal(0, cell / 2, size=(series, 2)), 0, CITY_KM)
    quality = rng.lognormal(0, 0.6, size=series)
    every = rng.choice([1, 2], size=series, p=[0.6, 0.4])
    weekday = np.where(s_slot >= 3, rng.integers(5, 7, size=series), rng.integers(0, 5, series))
    a_series, a_day = [], []
    for week in range(WEEKS):
        for s in np.flatnonzero(week % every == 0):
            a_series.append(int(s))
            a_day.append(week * 7 + int(weekday[s]))
    act_series, act_day = np.array(a_series), np.array(a_day)
    dist = np.linalg.norm(home[:, None, :] - s_km[None, :, :], axis=2)
    appeal = (
        taste[:, s_cat] * BAND_HOURS[band][:, s_slot] * np.exp(-dist / DECAY_KM) * quality[None, :]
    )
    taken = _take(rng, appeal, rate, act_series, act_day)
    return City(band, community, home, centre, s_cat, s_slot, s_km, act_series, act_day, taken)


def _take(
    rng: np.random.Generator,
    appeal: np.ndarray,
    rate: np.ndarray,
    act_series: np.ndarray,
    act_day: np.ndarray,
) -> list[tuple[int, int]]:
    """Each week each resident takes part in Poisson(rate) of the week's activities."""
    out: list[tuple[int, int]] = []
    for week in range(WEEKS):
        acts = np.flatnonzero((act_day // 7) == week)
        how_many = rng.poisson(rate)
        for r in np.flatnonzero(how_many):
            p = appeal[r, act_series[acts]]
            k = min(int(how_many[r]), len(acts))
            chosen = rng.choice(acts, size=k, replace=False, p=p / p.sum())
            out.extend((int(r), int(a)) for a in chosen)
    out.sort(key=lambda ra: (int(act_day[ra[1]]), ra[1], ra[0]))
    return out
