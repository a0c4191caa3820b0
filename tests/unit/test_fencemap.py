"""The reviewer's map (web/pages/fencemap.py): everything drawn fits the picture, far spots
sit at the edge pointing their way, and the scale bar is a round number of metres."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from civicpoints.activities import Circle, Polygon
from civicpoints.web.pages.fencemap import SIZE, Spot, distance_m, draw, nice_length

LAT, LON = 30.26, 120.14
offsets = st.tuples(st.floats(-0.05, 0.05), st.floats(-0.05, 0.05))
spots = st.lists(offsets, max_size=6).map(
    lambda xs: [Spot("photo", n, LAT + a, LON + b) for n, (a, b) in enumerate(xs, start=1)]
)


@given(st.floats(10, 5_000), spots)
def test_everything_fits_the_picture(radius: float, shown: list[Spot]) -> None:
    drawn = draw(Circle(LAT, LON, radius), shown)
    assert drawn.circle is not None
    cx, cy, r = drawn.circle
    assert cx - r >= 0 and cx + r <= SIZE and cy - r >= 0 and cy + r <= SIZE
    for m in drawn.marks:
        assert 0 <= m.x <= SIZE and 0 <= m.y <= SIZE
    assert 0 < drawn.scale_px <= SIZE / 2
    assert len(drawn.marks) == len(shown)


def test_north_is_up_and_east_is_right() -> None:
    drawn = draw(Circle(LAT, LON, 200), [Spot("checkin", 1, LAT + 0.001, LON + 0.001)])
    (m,) = drawn.marks
    assert m.x > SIZE / 2 and m.y < SIZE / 2 and not m.far
    assert 40 < m.angle < 50  # north-east


def test_a_photo_from_shanghai_is_an_arrow_at_the_edge_not_a_shrunken_fence() -> None:
    drawn = draw(Circle(LAT, LON, 200), [Spot("photo", 1, 31.24, 121.49)])
    (m,) = drawn.marks
    assert m.far and 150_000 < m.from_centre_m < 180_000
    assert math.hypot(m.x - SIZE / 2, m.y - SIZE / 2) > SIZE / 2 - 30  # at the rim
    assert drawn.circle is not None and drawn.circle[2] > SIZE / 4  # the fence stays large


def test_a_polygon_is_drawn_around_its_centre() -> None:
    square = Polygon(
        ((LAT, LON), (LAT, LON + 0.002), (LAT + 0.002, LON + 0.002), (LAT + 0.002, LON))
    )
    drawn = draw(square, [])
    assert drawn.circle is None and drawn.polygon is not None
    points = [tuple(map(float, p.split(","))) for p in drawn.polygon.split()]
    assert len(points) == 4 and all(0 <= x <= SIZE and 0 <= y <= SIZE for x, y in points)


@given(st.floats(1, 1e7))
def test_the_scale_bar_is_a_round_number_not_above_the_length(metres: float) -> None:
    n = nice_length(metres)
    assert n <= metres < n * 2.5 + 1e-9
    assert str(n).lstrip("125").strip("0") == ""


def test_distance_is_the_great_circle() -> None:
    assert abs(distance_m(30.0, 120.0, 31.0, 120.0) - 111_195) < 5
