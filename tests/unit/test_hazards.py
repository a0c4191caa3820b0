"""隐患随手拍's pure decisions: routing by category and region, duplicates within 100 m and
48 h (and not at 101 m or 49 h), and a photo far from the claimed place."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from civicpoints.community.hazards import (
    HazardCategory,
    Office,
    Sighting,
    distance_m,
    duplicates,
    photo_far,
    route,
    same_hazard,
)

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
HERE = (30.2590, 120.1388)
COMMUNITY = uuid.uuid4()
M_PER_DEG_LAT = math.pi * 6_371_008.8 / 180


def north(metres: float) -> tuple[float, float]:
    return HERE[0] + metres / M_PER_DEG_LAT, HERE[1]


def sighting(
    at: datetime = T0,
    where: tuple[float, float] | None = HERE,
    category: str = "safety",
    address: str = "保俶路 12 号",
) -> Sighting:
    return Sighting(uuid.uuid4(), category, at, where, COMMUNITY, address)


def test_within_100_m_and_48_h_is_the_same_hazard() -> None:
    first = sighting()
    assert same_hazard(first, sighting(T0 + timedelta(hours=48), north(100))) is not None
    assert same_hazard(first, sighting(T0 - timedelta(hours=48), north(99.5))) is not None


def test_at_101_m_or_49_h_it_is_not() -> None:
    first = sighting()
    assert same_hazard(first, sighting(T0, north(101))) is None
    assert same_hazard(first, sighting(T0 + timedelta(hours=49), HERE)) is None


def test_another_category_or_itself_is_not_a_duplicate() -> None:
    first = sighting()
    assert same_hazard(first, sighting(category="environment")) is None
    assert same_hazard(first, first) is None


def test_without_a_position_the_community_and_address_decide() -> None:
    first = sighting(where=None)
    assert same_hazard(first, sighting(where=HERE, address=" 保俶路12号 ")) == 0.0
    assert same_hazard(first, sighting(where=None, address="北山街 3 号")) is None


def test_candidates_come_nearest_first() -> None:
    first = sighting()
    near, nearer = sighting(where=north(80)), sighting(where=north(10))
    far = sighting(where=north(300))
    found = duplicates(first, [near, far, nearer])
    assert [s.id for s, _ in found] == [nearer.id, near.id]


def test_routing_picks_the_line_then_the_most_specific_seat() -> None:
    city, district, street = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    ga_city = Office(uuid.uuid4(), "public_security", city)
    ga_district = Office(uuid.uuid4(), "public_security", district)
    hb_city = Office(uuid.uuid4(), "environment", city)
    offices = [ga_city, ga_district, hb_city]
    assert route(HazardCategory.SAFETY, [street, district, city], offices) == ga_district.id
    assert route(HazardCategory.ENVIRONMENT, [street, district, city], offices) == hb_city.id
    assert route(HazardCategory.SAFETY, [uuid.uuid4()], offices) is None


def test_a_photo_far_from_the_claimed_place() -> None:
    assert not photo_far(HERE, [north(499)])
    assert photo_far(HERE, [north(501)])
    assert photo_far(HERE, [north(600), north(450)]) is False  # the nearer reading counts
    assert not photo_far(None, [north(5000)]) and not photo_far(HERE, [])


@given(st.floats(0, 5000), st.floats(0, 5000))
def test_distance_is_symmetric_and_grows(a: float, b: float) -> None:
    assert math.isclose(distance_m(north(a), HERE), distance_m(HERE, north(a)))
    if a < b:
        assert distance_m(HERE, north(a)) <= distance_m(HERE, north(b)) + 1e-6
