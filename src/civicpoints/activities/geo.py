"""Points and geofences for activity check-in: circles and polygons on a spherical Earth. Pure.

All coordinates here are WGS-84 (lat, lon) in decimal degrees, as phones' GPS reports them.
Consumer maps in China (AMap/Gaode, Tencent) display GCJ-02, which is offset from WGS-84 by up
to several hundred metres; converting is the client's job, so a fence drawn on such a map must
be converted to WGS-84 before it is sent here. Fences crossing the antimeridian or a pole are
not supported (no Chinese city needs them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeGuard

import shapely
from shapely import affinity

from civicpoints.activities.errors import InvalidCoordinates, InvalidGeofence
from civicpoints.kit.earth import EARTH_RADIUS_M, distance_m

MIN_RADIUS_M, MAX_RADIUS_M = 10, 50_000
MIN_POINTS, MAX_POINTS = 3, 200
_M_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180


def _is_number(value: object) -> TypeGuard[float]:
    # bool is an int subclass, but `true` is no coordinate.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _in_range(value: object, limit: float) -> bool:
    return _is_number(value) and math.isfinite(value) and -limit <= value <= limit


def validate_point(lat: float, lon: float) -> tuple[float, float]:
    """(lat, lon) as floats when finite and in range, else InvalidCoordinates naming the field."""
    if not _in_range(lat, 90):
        raise InvalidCoordinates("lat")
    if not _in_range(lon, 180):
        raise InvalidCoordinates("lon")
    return float(lat), float(lon)


def _check_fence_number(value: object, field: str, low: float, high: float) -> None:
    if not _is_number(value):
        raise InvalidGeofence(field, "number")
    if not (math.isfinite(value) and low <= value <= high):
        raise InvalidGeofence(field, "out_of_range", low=low, high=high)


@dataclass(frozen=True)
class Circle:
    """The disc of `radius_m` metres around (lat, lon); validated on construction."""

    lat: float
    lon: float
    radius_m: float

    def __post_init__(self) -> None:
        _check_fence_number(self.lat, "lat", -90, 90)
        _check_fence_number(self.lon, "lon", -180, 180)
        _check_fence_number(self.radius_m, "radius_m", MIN_RADIUS_M, MAX_RADIUS_M)


@dataclass(frozen=True)
class Polygon:
    """A simple polygon given by (lat, lon) vertices; the ring may be open or closed."""

    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        for index, point in enumerate(self.points, start=1):
            _check_vertex(point, index)
        closed = len(self.points) > 1 and self.points[0] == self.points[-1]
        count = len(self.points) - closed
        if not MIN_POINTS <= count <= MAX_POINTS:
            raise InvalidGeofence(
                "points", "point_count", low=MIN_POINTS, high=MAX_POINTS, count=count
            )
        if not _shape(self).is_valid:
            raise InvalidGeofence("points", "ring")


Geofence = Circle | Polygon


def _check_vertex(point: object, index: int) -> None:
    # Tuples only: the polygon is hashed to cache its shapely form.
    if not (isinstance(point, tuple) and len(point) == 2):
        raise InvalidGeofence("points", "point", index=index)
    if not (_in_range(point[0], 90) and _in_range(point[1], 180)):
        raise InvalidGeofence("points", "point", index=index)


@lru_cache(maxsize=1024)
def _shape(fence: Polygon) -> shapely.Polygon:
    # shapely works in (x, y) = (lon, lat).
    return shapely.Polygon([(lon, lat) for lat, lon in fence.points])


def contains(fence: Geofence, lat: float, lon: float, tolerance_m: float = 0.0) -> bool:
    """Whether (lat, lon) is inside `fence` or within `tolerance_m` metres of it."""
    lat, lon = validate_point(lat, lon)
    if not tolerance_m >= 0:
        raise ValueError("tolerance_m must be a non-negative number")
    if isinstance(fence, Circle):
        return distance_m(fence.lat, fence.lon, lat, lon) <= fence.radius_m + tolerance_m
    shape = _shape(fence)
    if shape.covers(shapely.Point(lon, lat)):
        return True
    return tolerance_m > 0 and _local_distance_m(shape, lat, lon) <= tolerance_m


def distance_to(fence: Geofence, lat: float, lon: float) -> float:
    """Metres from (lat, lon) to the edge of `fence` (0 inside it)."""
    lat, lon = validate_point(lat, lon)
    if isinstance(fence, Circle):
        return max(distance_m(fence.lat, fence.lon, lat, lon) - fence.radius_m, 0.0)
    shape = _shape(fence)
    return 0.0 if shape.covers(shapely.Point(lon, lat)) else _local_distance_m(shape, lat, lon)


def _local_distance_m(shape: shapely.Polygon, lat: float, lon: float) -> float:
    # An equirectangular map centred on the point: metres are exact enough within a few km.
    kx, ky = _M_PER_DEGREE * math.cos(math.radians(lat)), _M_PER_DEGREE
    local = affinity.affine_transform(shape, [kx, 0, 0, ky, -lon * kx, -lat * ky])
    return float(local.distance(shapely.Point(0, 0)))


def geofence_to_dict(fence: Geofence) -> dict[str, Any]:
    """The JSON form of `fence`: {"type": "circle", ...} or {"type": "polygon", "points": ...}."""
    if isinstance(fence, Circle):
        return {"type": "circle", "lat": fence.lat, "lon": fence.lon, "radius_m": fence.radius_m}
    return {"type": "polygon", "points": [[lat, lon] for lat, lon in fence.points]}


def geofence_from_dict(d: object) -> Geofence:
    """A validated geofence from its JSON form; InvalidGeofence naming the field otherwise."""
    if not isinstance(d, Mapping):
        raise InvalidGeofence(None, "not_object")
    if d.get("type") == "circle":
        return Circle(_number(d, "lat"), _number(d, "lon"), _number(d, "radius_m"))
    if d.get("type") == "polygon":
        return Polygon(_points(d.get("points")))
    raise InvalidGeofence("type", "type")


def _number(d: Mapping[Any, Any], field: str) -> float:
    value = d.get(field)
    if not _is_number(value):
        raise InvalidGeofence(field, "number")
    return float(value)


def _points(value: object) -> tuple[tuple[float, float], ...]:
    if not isinstance(value, list | tuple):
        raise InvalidGeofence("points", "points_list")
    return tuple(_vertex(item, index) for index, item in enumerate(value, start=1))


def _vertex(item: object, index: int) -> tuple[float, float]:
    if not (isinstance(item, list | tuple) and len(item) == 2 and all(map(_is_number, item))):
        raise InvalidGeofence("points", "point", index=index)
    return float(item[0]), float(item[1])


def distance_outside_m(fence: Geofence, lat: float, lon: float) -> float:
    """How far (lat, lon) lies outside `fence`, in metres; 0 inside it."""
    lat, lon = validate_point(lat, lon)
    if isinstance(fence, Circle):
        return max(0.0, distance_m(fence.lat, fence.lon, lat, lon) - fence.radius_m)
    shape = _shape(fence)
    if shape.covers(shapely.Point(lon, lat)):
        return 0.0
    return _local_distance_m(shape, lat, lon)
