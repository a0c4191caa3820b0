"""A small map of an activity's geofence and a record's positions, drawn as SVG on the server.

Pure: values in, values out (no tiles, no script, nothing fetched). The map is a local flat
projection around the fence's centre, north up, scaled so the fence and every position near
it fit. A position far away (a photo taken in another city) would shrink the fence to a dot,
so it is drawn as an arrow at the map's edge pointing its way, with its distance in words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from civicpoints.activities import Circle, Geofence
from civicpoints.kit.earth import distance_m

SIZE = 300  # the SVG's viewBox is SIZE × SIZE
PAD = 28  # room at the edge for labels and arrows
M_PER_DEGREE = math.pi * 6_371_008.8 / 180
FAR_FACTOR, FAR_MIN_M = 8, 3_000  # beyond max(8 × the fence's size, 3 km): an arrow


@dataclass(frozen=True)
class Spot:
    """A position to show: what it is ("checkin", "checkout", "photo"), its number among
    its kind (photos 1, 2, …) and where it was reported."""

    kind: str
    n: int
    lat: float
    lon: float


@dataclass(frozen=True)
class Mark:
    """A spot placed on the map; `far` spots sit at the edge, `angle` (degrees, clockwise
    from north) says which way they lie; `from_centre_m` is their distance from the centre."""

    spot: Spot
    x: float
    y: float
    far: bool
    angle: float
    from_centre_m: float


@dataclass(frozen=True)
class FenceMap:
    """What the template draws: the fence (a circle or a polygon), the marks, a scale bar."""

    size: int
    circle: tuple[float, float, float] | None  # cx, cy, r
    polygon: str | None  # "x,y x,y …"
    marks: list[Mark]
    scale_m: int
    scale_px: float


def _centre(fence: Geofence) -> tuple[float, float]:
    if isinstance(fence, Circle):
        return fence.lat, fence.lon
    ring = _ring(fence.points)
    return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)


def _ring(points: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    """The polygon's vertices without the closing repeat."""
    closed = len(points) > 1 and points[0] == points[-1]
    return points[:-1] if closed else points


def _local(lat0: float, lon0: float, lat: float, lon: float) -> tuple[float, float]:
    """Metres east and north of the centre (equirectangular: exact enough within a few km)."""
    return (lon - lon0) * M_PER_DEGREE * math.cos(math.radians(lat0)), (lat - lat0) * M_PER_DEGREE


def nice_length(metres: float) -> int:
    """The largest 1, 2 or 5 × 10ⁿ metres not above `metres` (at least 1)."""
    if metres < 1:
        return 1
    power = 10 ** math.floor(math.log10(metres))
    if power > metres:  # log10 rounded up just below a power of ten
        power //= 10
    return int(max(step * power for step in (1, 2, 5) if step * power <= metres))


def draw(fence: Geofence, spots: list[Spot]) -> FenceMap:
    """The map of `fence` with `spots`, scaled to fit."""
    lat0, lon0 = _centre(fence)
    if isinstance(fence, Circle):
        extent = fence.radius_m
    else:
        extent = max(math.hypot(*_local(lat0, lon0, a, b)) for a, b in _ring(fence.points))
    extent = max(extent, 10.0)
    far_m = max(FAR_FACTOR * extent, FAR_MIN_M)
    placed = [
        (s, _local(lat0, lon0, s.lat, s.lon), distance_m(lat0, lon0, s.lat, s.lon)) for s in spots
    ]
    near = [math.hypot(*xy) for _s, xy, d in placed if d <= far_m]
    half = max([extent, *near]) * 1.1
    scale = (SIZE / 2 - PAD) / half  # px per metre

    def at(xy: tuple[float, float]) -> tuple[float, float]:
        return SIZE / 2 + xy[0] * scale, SIZE / 2 - xy[1] * scale

    marks = []
    for spot, xy, d in placed:
        angle = math.degrees(math.atan2(xy[0], xy[1])) % 360
        if d > far_m:
            rim = SIZE / 2 - PAD / 2
            xy_px = (
                SIZE / 2 + rim * math.sin(math.radians(angle)),
                SIZE / 2 - rim * math.cos(math.radians(angle)),
            )
            marks.append(Mark(spot, *_clamp(xy_px), far=True, angle=angle, from_centre_m=d))
        else:
            marks.append(Mark(spot, *at(xy), far=False, angle=angle, from_centre_m=d))
    scale_m = nice_length(half * 0.5)
    return FenceMap(
        size=SIZE,
        circle=(SIZE / 2, SIZE / 2, extent * scale) if isinstance(fence, Circle) else None,
        polygon=None
        if isinstance(fence, Circle)
        else " ".join(
            f"{x:.1f},{y:.1f}"
            for x, y in (at(_local(lat0, lon0, a, b)) for a, b in _ring(fence.points))
        ),
        marks=marks,
        scale_m=scale_m,
        scale_px=scale_m * scale,
    )


def _clamp(xy: tuple[float, float]) -> tuple[float, float]:
    """A point kept inside the drawing."""
    return min(max(xy[0], 0.0), float(SIZE)), min(max(xy[1], 0.0), float(SIZE))
