"""Geofences: points, circles, polygons, tolerance and the JSON form."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicpoints.activities.errors import InvalidCoordinates, InvalidGeofence
from civicpoints.activities.geo import (
    EARTH_RADIUS_M,
    Circle,
    Polygon,
    contains,
    distance_m,
    geofence_from_dict,
    geofence_to_dict,
    validate_point,
)

WEST_LAKE = (30.2590, 120.1388)
M_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180


def destination(lat: float, lon: float, bearing_deg: float, d_m: float) -> tuple[float, float]:
    """The point `d_m` metres from (lat, lon) along `bearing_deg`, on the same sphere."""
    phi, lmb, theta = math.radians(lat), math.radians(lon), math.radians(bearing_deg)
    delta = d_m / EARTH_RADIUS_M
    phi2 = math.asin(
        math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta)
    )
    lmb2 = lmb + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi),
        math.cos(delta) - math.sin(phi) * math.sin(phi2),
    )
    return math.degrees(phi2), (math.degrees(lmb2) + 540) % 360 - 180  # wrap into ±180


# A square of about 1.1 km around West Lake's centre, as (lat, lon).
SQUARE = Polygon(((30.254, 120.133), (30.254, 120.145), (30.264, 120.145), (30.264, 120.133)))


def test_validate_point_returns_floats() -> None:
    assert validate_point(30, 120) == (30.0, 120.0)
    assert validate_point(-90, 180) == (-90.0, 180.0)


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [
        (91, 120.0, "lat"),
        (-90.0001, 120.0, "lat"),
        (math.nan, 120.0, "lat"),
        (math.inf, 120.0, "lat"),
        (30.0, 180.5, "lon"),
        (30.0, -math.inf, "lon"),
        (30.0, math.nan, "lon"),
        (True, 120.0, "lat"),
        ("30.2", 120.0, "lat"),
    ],
)
def test_validate_point_names_the_bad_field(lat: float, lon: float, field: str) -> None:
    with pytest.raises(InvalidCoordinates) as caught:
        validate_point(lat, lon)
    assert caught.value.field == field
    assert caught.value.code == "activities.invalid_coordinates"
    assert caught.value.status == 422
    assert "定位" in caught.value.message("zh-CN")


def test_distance_of_one_degree_of_latitude() -> None:
    assert distance_m(30.0, 120.0, 31.0, 120.0) == pytest.approx(M_PER_DEG_LAT, rel=1e-12)
    assert distance_m(*WEST_LAKE, *WEST_LAKE) == 0.0


def test_circle_just_inside_and_just_outside() -> None:
    fence = Circle(*WEST_LAKE, radius_m=200)
    for bearing in (0, 90, 180, 270, 45):
        assert contains(fence, *destination(*WEST_LAKE, bearing, 199.5))
        assert not contains(fence, *destination(*WEST_LAKE, bearing, 200.5))


def test_circle_tolerance_widens_the_fence() -> None:
    fence = Circle(*WEST_LAKE, radius_m=200)
    outside = destination(*WEST_LAKE, 30, 230)
    assert not contains(fence, *outside)
    assert contains(fence, *outside, tolerance_m=31)
    assert not contains(fence, *outside, tolerance_m=29)


def test_contains_refuses_bad_coordinates_and_tolerance() -> None:
    fence = Circle(*WEST_LAKE, radius_m=200)
    with pytest.raises(InvalidCoordinates):
        contains(fence, 91, 120.0)
    with pytest.raises(ValueError):
        contains(fence, *WEST_LAKE, tolerance_m=-1)


@given(
    lat=st.floats(-80, 80),
    lon=st.floats(-179, 179),
    radius=st.floats(10, 50_000),
    bearing=st.floats(0, 360),
    fraction=st.floats(0, 0.9999),
)
def test_point_closer_than_radius_is_inside(
    lat: float, lon: float, radius: float, bearing: float, fraction: float
) -> None:
    assert contains(Circle(lat, lon, radius), *destination(lat, lon, bearing, radius * fraction))


@given(
    lat=st.floats(-80, 80),
    lon=st.floats(-179, 179),
    radius=st.floats(10, 50_000),
    bearing=st.floats(0, 360),
    extra=st.floats(1.001, 10_000),
)
def test_point_beyond_radius_plus_one_metre_is_outside(
    lat: float, lon: float, radius: float, bearing: float, extra: float
) -> None:
    assert not contains(Circle(lat, lon, radius), *destination(lat, lon, bearing, radius + extra))


def test_polygon_contains_inside_edge_and_not_outside() -> None:
    assert contains(SQUARE, *WEST_LAKE)
    assert contains(SQUARE, 30.254, 120.140)  # on the southern edge
    assert not contains(SQUARE, 30.2530, 120.140)  # ~111 m south of it
    assert not contains(SQUARE, 30.259, 120.150)  # east of it


def test_polygon_lat_lon_order_is_not_swapped() -> None:
    # A thin north-south strip: swapping (lat, lon) would put this point outside.
    strip = Polygon(((30.0, 120.0), (30.0, 120.001), (31.0, 120.001), (31.0, 120.0)))
    assert contains(strip, 30.5, 120.0005)
    assert not contains(strip, 30.0005, 120.5)


def test_polygon_tolerance_in_metres() -> None:
    south_of_edge = (30.254 - 50 / M_PER_DEG_LAT, 120.140)  # 50 m south
    assert not contains(SQUARE, *south_of_edge)
    assert contains(SQUARE, *south_of_edge, tolerance_m=51)
    assert not contains(SQUARE, *south_of_edge, tolerance_m=49)
    # East of the edge: a degree of longitude is shorter here (cos 30.26° ≈ 0.864).
    east_of_edge = (30.259, 120.145 + 50 / (M_PER_DEG_LAT * math.cos(math.radians(30.259))))
    assert contains(SQUARE, *east_of_edge, tolerance_m=51)
    assert not contains(SQUARE, *east_of_edge, tolerance_m=49)


def test_dict_round_trip() -> None:
    circle = {"type": "circle", "lat": 30.259, "lon": 120.1388, "radius_m": 200.0}
    assert geofence_to_dict(geofence_from_dict(circle)) == circle
    polygon = {
        "type": "polygon",
        "points": [[30.254, 120.133], [30.254, 120.145], [30.264, 120.145]],
    }
    fence = geofence_from_dict(polygon)
    assert fence == Polygon(((30.254, 120.133), (30.254, 120.145), (30.264, 120.145)))
    assert geofence_to_dict(fence) == polygon


def test_closed_ring_counts_its_vertices_once() -> None:
    ring = [[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]
    fence = geofence_from_dict({"type": "polygon", "points": ring})
    assert contains(fence, 0.2, 0.5)


def _bad(d: object) -> InvalidGeofence:
    with pytest.raises(InvalidGeofence) as caught:
        geofence_from_dict(d)
    assert caught.value.code == "activities.invalid_geofence"
    assert caught.value.status == 422
    return caught.value


@pytest.mark.parametrize(
    ("d", "field", "problem"),
    [
        (
            {"type": "circle", "lat": 30.0, "lon": 120.0, "radius_m": 9.9},
            "radius_m",
            "out_of_range",
        ),
        (
            {"type": "circle", "lat": 30.0, "lon": 120.0, "radius_m": 50_001},
            "radius_m",
            "out_of_range",
        ),
        ({"type": "circle", "lat": 30.0, "lon": 120.0}, "radius_m", "number"),
        ({"type": "circle", "lat": "30", "lon": 120.0, "radius_m": 200}, "lat", "number"),
        ({"type": "circle", "lat": 95.0, "lon": 120.0, "radius_m": 200}, "lat", "out_of_range"),
        ({"type": "circle", "lat": 30.0, "lon": math.nan, "radius_m": 200}, "lon", "out_of_range"),
        ({"type": "square"}, "type", "type"),
        ({"type": "polygon", "points": "30,120"}, "points", "points_list"),
        ({"type": "polygon", "points": [[30.0, 120.0], [30.1, 120.0]]}, "points", "point_count"),
        (
            {"type": "polygon", "points": [[30.0, 120.0]] * 2 + [[30.1, 120.1, 0]]},
            "points",
            "point",
        ),
        ({"type": "polygon", "points": [[0.0, 0.0], [0.0, 1.0], [91.0, 1.0]]}, "points", "point"),
        ({"type": "polygon", "points": [[0.0, float(i)] for i in range(3)]}, "points", "ring"),
    ],
)
def test_invalid_geofence_names_field_and_problem(d: object, field: str, problem: str) -> None:
    error = _bad(d)
    assert (error.field, error.problem) == (field, problem)
    assert error.message("zh-CN") and error.message("en")


def test_self_intersecting_polygon_refused() -> None:
    bowtie = [[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]]
    error = _bad({"type": "polygon", "points": bowtie})
    assert error.problem == "ring"
    assert "交叉" in error.message("zh-CN")


def test_polygon_point_limit() -> None:
    ring = [
        [30 + 0.01 * math.sin(2 * math.pi * i / 201), 120 + 0.01 * math.cos(2 * math.pi * i / 201)]
        for i in range(201)
    ]
    error = _bad({"type": "polygon", "points": ring})
    assert error.problem == "point_count"
    assert "201" in error.message("zh-CN")
    assert geofence_from_dict({"type": "polygon", "points": ring[:200]})


def test_not_an_object_refused() -> None:
    assert _bad([1, 2, 3]).problem == "not_object"


def test_out_of_range_message_is_filled_in() -> None:
    error = _bad({"type": "circle", "lat": 30.0, "lon": 120.0, "radius_m": 5})
    assert error.message("zh-CN") == "半径（米）必须在 10 到 50000 之间。"
    assert error.message("en") == "Radius (metres) must be between 10 and 50000."


# --- edges of every limit, and what the refusals say ---------------------------------------


def _fence_error(make: object) -> InvalidGeofence:
    with pytest.raises(InvalidGeofence) as caught:
        make()  # type: ignore[operator]
    return caught.value


def test_radius_limits_are_inclusive() -> None:
    assert Circle(30.0, 120.0, 10).radius_m == 10
    assert Circle(30.0, 120.0, 50_000).radius_m == 50_000


@pytest.mark.parametrize("lat", [-90, 90, -90.0, 89.5])
def test_circle_centre_latitude_to_the_poles(lat: float) -> None:
    assert Circle(lat, 120.0, 100).lat == lat


@pytest.mark.parametrize("lon", [-180, 180, 179.5])
def test_circle_centre_longitude_to_the_antimeridian(lon: float) -> None:
    assert Circle(30.0, lon, 100).lon == lon


@pytest.mark.parametrize(
    ("lat", "lon", "field", "en"),
    [
        (90.5, 120.0, "lat", "Latitude must be between -90 and 90."),
        (-90.5, 120.0, "lat", "Latitude must be between -90 and 90."),
        (30.0, 180.5, "lon", "Longitude must be between -180 and 180."),
        (30.0, -180.5, "lon", "Longitude must be between -180 and 180."),
    ],
)
def test_circle_centre_just_out_of_range(lat: float, lon: float, field: str, en: str) -> None:
    error = _fence_error(lambda: Circle(lat, lon, 100))
    assert (error.field, error.problem, error.message("en")) == (field, "out_of_range", en)


def test_polygon_vertices_may_reach_the_limits() -> None:
    near_pole = Polygon(((89.5, 0.0), (89.5, 1.0), (89.6, 1.0)))
    assert contains(near_pole, 89.55, 0.9)
    east = Polygon(((0.0, 179.0), (0.0, 179.5), (1.0, 179.5)))
    assert contains(east, 0.2, 179.4)


@pytest.mark.parametrize(
    ("points", "index"),
    [
        (((0.0, 0.0), (0.0, 1.0), (90.5, 1.0)), 3),  # latitude past 90
        (((0.0, 0.0), (0.0, 181.0), (1.0, 1.0)), 2),  # longitude past 180, latitude fine
        (((0.0, 0.0), (0.0, 1.0), (1.0, 1.0, 5.0)), 3),  # three numbers
        (((0.0, 0.0), [0.0, 1.0], (1.0, 1.0)), 2),  # a list: the polygon must stay hashable
    ],
)
def test_polygon_names_its_bad_vertex(points: tuple[object, ...], index: int) -> None:
    error = _fence_error(lambda: Polygon(points))  # type: ignore[arg-type]
    assert (error.field, error.problem) == ("points", "point")
    assert error.message("en").startswith(f"Point {index} is wrong")


@pytest.mark.parametrize(
    ("points", "index"),
    [
        ([[0.0, 0.0], [0.0, 1.0], [1.0, 1.0, 0.0]], 3),
        ([[0.0, 0.0, 0.0], [0.0, 1.0], [1.0, 1.0]], 1),
        ([[0.0, 0.0], [0.0], [1.0, 1.0]], 2),
        ([[0.0, 0.0], [0.0, 1.0], [95.0, 1.0]], 3),
    ],
)
def test_dict_polygon_names_its_bad_vertex(points: list[list[float]], index: int) -> None:
    error = _bad({"type": "polygon", "points": points})
    assert error.message("en").startswith(f"Point {index} is wrong")


@pytest.mark.parametrize(
    ("points", "count"),
    [
        (((1.0, 1.0),), 1),
        (((1.0, 1.0), (1.0, 1.0)), 1),  # closed: the repeated first point counts once
        (((1.0, 1.0), (1.0, 2.0)), 2),
        (((1.0, 1.0), (1.0, 2.0), (1.0, 1.0)), 2),
    ],
)
def test_too_few_points_are_counted_as_the_resident_drew_them(
    points: tuple[tuple[float, float], ...], count: int
) -> None:
    error = _fence_error(lambda: Polygon(points))
    assert error.problem == "point_count"
    assert error.message("en") == f"A polygon needs 3 to 200 points; this one has {count}."


def test_a_point_exactly_at_the_radius_is_inside() -> None:
    there = destination(*WEST_LAKE, 60, 150)
    exact = distance_m(*WEST_LAKE, *there)
    assert contains(Circle(*WEST_LAKE, radius_m=exact), *there)
    assert not contains(Circle(*WEST_LAKE, radius_m=exact - 1e-6), *there)


def test_polygon_tolerance_to_a_tenth_of_a_metre() -> None:
    """50 m south and 50 m east of the square: 49.9 m is not enough, 50.1 m is."""
    south = (30.254 - 50 / M_PER_DEG_LAT, 120.140)
    east = (30.259, 120.145 + 50 / (M_PER_DEG_LAT * math.cos(math.radians(30.259))))
    north = (30.264 + 50 / M_PER_DEG_LAT, 120.140)
    west = (30.259, 120.133 - 50 / (M_PER_DEG_LAT * math.cos(math.radians(30.259))))
    for point in (south, east, north, west):
        assert contains(SQUARE, *point, tolerance_m=50.1)
        assert not contains(SQUARE, *point, tolerance_m=49.9)


def test_a_small_tolerance_still_counts() -> None:
    """Tolerances under a metre are honoured too (30 cm outside, 50 cm allowed)."""
    just_south = (30.254 - 0.3 / M_PER_DEG_LAT, 120.140)
    assert contains(SQUARE, *just_south, tolerance_m=0.5)
    assert not contains(SQUARE, *just_south, tolerance_m=0.2)
