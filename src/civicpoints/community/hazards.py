"""隐患随手拍, the decisions: which department a report goes to, which reports are the same
hazard, and whether the photo was taken far from the place claimed. Pure: values in, values out.

* Routing: safety hazards go to 公安 (public security), environmental ones to 环保
  (environment); of the organizations of that line, the one seated in the most specific region
  of the report's community and its ancestors (a district's own bureau before the city's).
* Duplicates (same place, same hazard): the same category, reported within `DUPLICATE_HOURS`
  of each other, and within `DUPLICATE_METRES` when both have a position; without a position
  on either side, the same community and the same address text.
* A photo whose EXIF position lies more than `PHOTO_FAR_M` from the claimed position (read as
  WGS-84 or as GCJ-02, the nearer) was not taken there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from civicpoints.kit import earth

DUPLICATE_METRES = 100.0
DUPLICATE_HOURS = 48
PHOTO_FAR_M = 500.0


class HazardCategory(StrEnum):
    """What kind of hazard: 安全隐患 (to 公安) or 环境问题 (to 环保)."""

    SAFETY = "safety"
    ENVIRONMENT = "environment"


# The government line (regions.Department value) responsible for each category.
DEPARTMENT_OF = {
    HazardCategory.SAFETY: "public_security",
    HazardCategory.ENVIRONMENT: "environment",
}


class HazardStatus(StrEnum):
    """Where a report stands: waiting, confirmed, merged into an earlier one, or rejected."""

    OPEN = "open"
    CONFIRMED = "confirmed"
    MERGED = "merged"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Office:
    """An organization that may receive reports: its id, line and seat."""

    id: uuid.UUID
    department: str
    region_id: uuid.UUID


def route(
    category: HazardCategory, ancestry: Sequence[uuid.UUID], offices: Iterable[Office]
) -> uuid.UUID | None:
    """The office responsible for a report in the region whose ancestry (most specific first)
    is given; None when no office of the category's line sits on that path."""
    line = DEPARTMENT_OF[category]
    depth = {rid: i for i, rid in enumerate(ancestry)}
    mine = [o for o in offices if o.department == line and o.region_id in depth]
    if not mine:
        return None
    return min(mine, key=lambda o: (depth[o.region_id], str(o.id))).id


@dataclass(frozen=True)
class Sighting:
    """What duplicate matching knows of one report."""

    id: uuid.UUID
    category: str
    reported_at: datetime
    position: tuple[float, float] | None
    community_id: uuid.UUID
    address: str


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (lat, lon) points."""
    return earth.distance_m(a[0], a[1], b[0], b[1])


def _address_key(text: str) -> str:
    return "".join(text.split()).casefold()


def same_hazard(a: Sighting, b: Sighting) -> float | None:
    """The distance in metres (0.0 when matched by address) if `a` and `b` report the same
    hazard; None when they do not."""
    if a.id == b.id or a.category != b.category:
        return None
    if abs(a.reported_at - b.reported_at) > timedelta(hours=DUPLICATE_HOURS):
        return None
    if a.position is not None and b.position is not None:
        metres = distance_m(a.position, b.position)
        return metres if metres <= DUPLICATE_METRES else None
    key = _address_key(a.address)
    same_place = a.community_id == b.community_id and key and key == _address_key(b.address)
    return 0.0 if same_place else None


def duplicates(report: Sighting, others: Iterable[Sighting]) -> list[tuple[Sighting, float]]:
    """The other reports of the same hazard, nearest first, then earliest."""
    found = [(o, d) for o in others if (d := same_hazard(report, o)) is not None]
    return sorted(found, key=lambda pair: (pair[1], pair[0].reported_at, str(pair[0].id)))


def photo_distance(
    claimed: tuple[float, float] | None, photo: Sequence[tuple[float, float]]
) -> float | None:
    """How far the photo's EXIF position (its readings) lies from the claimed position, the
    nearer reading; None when either is unknown."""
    if claimed is None or not photo:
        return None
    return min(distance_m(claimed, p) for p in photo)


def photo_far(claimed: tuple[float, float] | None, photo: Sequence[tuple[float, float]]) -> bool:
    """Whether the photo was taken farther than `PHOTO_FAR_M` from the claimed position."""
    metres = photo_distance(claimed, photo)
    return metres is not None and metres > PHOTO_FAR_M
