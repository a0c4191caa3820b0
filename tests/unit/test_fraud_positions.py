"""Position signals: impossible travel, implausible accuracy, many residents at one exact spot,
and the GCJ-02 datum; fraud caught and honest residents (GPS noise, GCJ-02) left alone."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicpoints.fraud import DEFAULT_POLICY, DEFAULT_WEIGHTS
from civicpoints.fraud.positions import (
    ACCURACY_CAP_M,
    GCJ02_MAX_OFFSET_M,
    SHARED_SPOT_MAX_ACCURACY_M,
    Fix,
    distance_m,
    gcj02_to_wgs84,
    implausible_accuracy,
    impossible_travel,
    in_china,
    readings,
    shared_spot_signal,
    spot_key,
    wgs84_to_gcj02,
)

T0 = datetime(2026, 3, 5, 1, 0, tzinfo=UTC)
WEST_LAKE = (30.2590, 120.1388)
M_PER_DEG_LAT = math.pi * 6_371_008.8 / 180
# (WGS-84 lat, lon, GCJ-02 lat, lon) in Shanghai, Shenzhen and Beijing: the reference values
# of the widely used eviltransform library's tests.
REFERENCE = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]


def north(lat: float, lon: float, metres: float) -> tuple[float, float]:
    """The point `metres` due north (south when negative)."""
    return lat + metres / M_PER_DEG_LAT, lon


def moved(point: tuple[float, float], dn: float, de: float) -> tuple[float, float]:
    """The point moved dn metres north and de metres east (locally flat)."""
    lat, lon = point
    return lat + dn / M_PER_DEG_LAT, lon + de / (M_PER_DEG_LAT * math.cos(math.radians(lat)))


# --- impossible travel ---------------------------------------------------------------------


def test_two_check_ins_31_km_apart_in_9_minutes() -> None:
    far = north(*WEST_LAKE, 31_200)
    signal = impossible_travel(
        Fix(T0, *WEST_LAKE, 10.0), Fix(T0 + timedelta(minutes=9), *far, 10.0), DEFAULT_POLICY
    )
    assert signal is not None and signal.code == "impossible_travel"
    assert "31.2 公里" in signal.zh and "9 分钟" in signal.zh and "208 公里/小时" in signal.zh
    assert "31.2 km apart only 9 min apart (about 208 km/h)" in signal.en


def test_far_apart_at_the_same_moment() -> None:
    far = north(*WEST_LAKE, 20_000)
    signal = impossible_travel(Fix(T0, *WEST_LAKE), Fix(T0, *far), DEFAULT_POLICY)
    assert signal is not None and "同一时刻" in signal.zh and "same moment" in signal.en


def test_fixes_a_few_seconds_apart_at_the_same_place_are_one_stay() -> None:
    near = north(*WEST_LAKE, 40)
    assert impossible_travel(Fix(T0, *WEST_LAKE), Fix(T0, *near), DEFAULT_POLICY) is None
    later = T0 + timedelta(seconds=20)
    assert impossible_travel(Fix(T0, *WEST_LAKE, 15), Fix(later, *near, 15), DEFAULT_POLICY) is None


def test_a_huge_claimed_accuracy_does_not_excuse_a_teleport() -> None:
    far = north(*WEST_LAKE, 30_000)
    prev, cur = Fix(T0, *WEST_LAKE, 50_000.0), Fix(T0 + timedelta(minutes=5), *far, 50_000.0)
    assert impossible_travel(prev, cur, DEFAULT_POLICY) is not None
    # ...because each fix's claim is capped
    assert 2 * ACCURACY_CAP_M + GCJ02_MAX_OFFSET_M < 30_000


@pytest.mark.parametrize("accuracy", [math.inf, math.nan, -400.0])
def test_a_nonsensical_accuracy_excuses_nothing(accuracy: float) -> None:
    """1.5 km in 10 s: 750 m unexplained by the datum; a real 500 m error would excuse it."""
    far = north(*WEST_LAKE, 1_500)
    later = T0 + timedelta(seconds=10)
    assert (
        impossible_travel(Fix(T0, *WEST_LAKE, 500), Fix(later, *far, 500), DEFAULT_POLICY) is None
    )
    signal = impossible_travel(Fix(T0, *WEST_LAKE, accuracy), Fix(later, *far), DEFAULT_POLICY)
    assert signal is not None


def test_half_a_second_apart_is_judged_by_speed() -> None:
    """10 m beyond the allowance in half a second is 72 km/h; 20 km is a teleport."""
    half = T0 + timedelta(milliseconds=500)
    step = north(*WEST_LAKE, GCJ02_MAX_OFFSET_M + 10)
    assert impossible_travel(Fix(T0, *WEST_LAKE), Fix(half, *step), DEFAULT_POLICY) is None
    signal = impossible_travel(
        Fix(T0, *WEST_LAKE), Fix(half, *north(*WEST_LAKE, 20_000)), DEFAULT_POLICY
    )
    assert signal is not None and "不到 1 秒" in signal.zh and "公里/小时" in signal.zh
    assert "only under 1 s apart" in signal.en


def test_a_bus_ride_between_two_activities_is_honest() -> None:
    far = north(*WEST_LAKE, 15_000)  # 15 km in 25 minutes: 36 km/h
    later = T0 + timedelta(minutes=25)
    assert impossible_travel(Fix(T0, *WEST_LAKE, 8), Fix(later, *far, 8), DEFAULT_POLICY) is None


def test_a_gcj02_position_right_after_a_wgs84_one_is_honest() -> None:
    """The phone's GPS (WGS-84), then the map SDK's position of the very spot (GCJ-02)."""
    gcj = wgs84_to_gcj02(*WEST_LAKE)
    assert distance_m(*WEST_LAKE, *gcj) > 450  # the datum alone is a 'jump' of ~500 m
    later = T0 + timedelta(seconds=5)
    assert impossible_travel(Fix(T0, *WEST_LAKE, 5), Fix(later, *gcj, 5), DEFAULT_POLICY) is None


fixes_noise = st.tuples(st.floats(-1, 1), st.floats(-1, 1), st.floats(1, 150))


@given(fixes_noise, fixes_noise, st.integers(0, 86_400), st.booleans())
def test_gps_noise_within_accuracy_never_travels(
    a: tuple[float, float, float], b: tuple[float, float, float], gap_s: int, gcj: bool
) -> None:
    """Two honest fixes of one place: each off by up to its accuracy, maybe one in GCJ-02."""
    pa = moved(WEST_LAKE, a[0] * a[2] / 1.5, a[1] * a[2] / 1.5)
    pb = moved(
        wgs84_to_gcj02(*WEST_LAKE) if gcj else WEST_LAKE, b[0] * b[2] / 1.5, b[1] * b[2] / 1.5
    )
    prev, cur = Fix(T0, *pa, a[2]), Fix(T0 + timedelta(seconds=gap_s), *pb, b[2])
    assert impossible_travel(prev, cur, DEFAULT_POLICY) is None


@given(st.floats(0, 80_000), st.floats(1, DEFAULT_POLICY.max_speed_kmh), st.booleans())
def test_travel_at_an_allowed_speed_is_honest(metres: float, kmh: float, gcj: bool) -> None:
    end = north(*WEST_LAKE, metres)
    end = wgs84_to_gcj02(*end) if gcj else end
    seconds = metres / (kmh / 3.6)
    later = T0 + timedelta(seconds=seconds)
    assert impossible_travel(Fix(T0, *WEST_LAKE, 20), Fix(later, *end, 20), DEFAULT_POLICY) is None


@given(st.floats(5_000, 200_000), st.floats(2, 50), st.booleans())
def test_travel_at_twice_the_limit_and_more_is_flagged(
    metres: float, factor: float, rev: bool
) -> None:
    seconds = metres / (factor * DEFAULT_POLICY.max_speed_kmh / 3.6)
    a = Fix(T0, *WEST_LAKE, 30)
    b = Fix(T0 + timedelta(seconds=seconds), *north(*WEST_LAKE, metres), 30)
    signal = (
        impossible_travel(b, a, DEFAULT_POLICY) if rev else impossible_travel(a, b, DEFAULT_POLICY)
    )
    assert signal is not None and signal.code in DEFAULT_WEIGHTS


# --- GCJ-02 --------------------------------------------------------------------------------


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), REFERENCE)
def test_gcj02_against_reference_values(wlat: float, wlon: float, glat: float, glon: float) -> None:
    assert wgs84_to_gcj02(wlat, wlon) == pytest.approx((glat, glon), abs=1e-6)  # ~0.1 m
    assert gcj02_to_wgs84(glat, glon) == pytest.approx((wlat, wlon), abs=1e-6)


@pytest.mark.parametrize(
    "point", [(48.8566, 2.3522), (40.7128, -74.006), (-33.87, 151.21), (35.68, 139.77)]
)
def test_gcj02_is_the_identity_outside_china(point: tuple[float, float]) -> None:
    assert gcj02_to_wgs84(*point) == point == wgs84_to_gcj02(*point)
    assert readings(*point) == (point, point)


@given(st.floats(18, 53), st.floats(74, 134))
def test_gcj02_round_trip_within_a_millimetre(lat: float, lon: float) -> None:
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon))
    assert distance_m(lat, lon, *back) < 0.001


def test_the_allowance_covers_the_largest_shift_in_china() -> None:
    """Scan the transform's whole domain every 0.25°: the largest shift is about 733 m."""
    largest = max(
        distance_m(lat, lon, *wgs84_to_gcj02(lat, lon))
        for lat in [0.83 + i * 0.25 for i in range(221)]
        for lon in [72.01 + j * 0.25 for j in range(264)]
        if in_china(lat, lon)
    )
    assert 700 < largest <= GCJ02_MAX_OFFSET_M


# --- accuracy ------------------------------------------------------------------------------


@pytest.mark.parametrize("accuracy", [None, 1.0, 3.9, 25.0, 650.0, 2_000.0])
def test_plausible_or_missing_accuracy_is_no_signal(accuracy: float | None) -> None:
    assert implausible_accuracy(accuracy, DEFAULT_POLICY) is None


@pytest.mark.parametrize(
    ("accuracy", "zh", "en"),
    [
        (0.0, "0.0 米，手机定位不可能", "0.0 m is finer than any phone's GPS"),
        (0.5, "0.5 米，手机定位不可能", "0.5 m is finer"),
        (5_000.0, "5,000 米，过于粗略", "5,000 m is too coarse"),
        (math.inf, "inf 米，过于粗略", "inf m is too coarse"),
        (-3.0, "-3.0 米，不是有效数值", "-3.0 m is not a real value"),
        (math.nan, "nan 米，不是有效数值", "nan m is not a real value"),
    ],
)
def test_implausible_accuracy_is_flagged(accuracy: float, zh: str, en: str) -> None:
    signal = implausible_accuracy(accuracy, DEFAULT_POLICY)
    assert signal is not None and signal.code == "implausible_accuracy"
    assert zh in signal.zh and en in signal.en


# --- identical coordinates -----------------------------------------------------------------


def test_spot_key_has_six_decimals_and_one_zero() -> None:
    assert spot_key(*WEST_LAKE) == "30.259000,120.138800"
    assert spot_key(-0.0000001, 0.0000004) == "0.000000,0.000000"
    assert spot_key(-90, -180) == "-90.000000,-180.000000"


@given(st.floats(-90, 90), st.floats(-180, 180))
def test_spot_key_rounds_to_the_point(lat: float, lon: float) -> None:
    key = spot_key(lat, lon)
    klat, klon = (float(part) for part in key.split(","))
    assert abs(klat - lat) <= 5.01e-7 and abs(klon - lon) <= 5.01e-7
    assert len(key) <= 32  # fraud_observation.spot


def test_many_residents_at_one_exact_spot() -> None:
    n = DEFAULT_POLICY.same_spot_residents
    assert shared_spot_signal(n - 1, DEFAULT_POLICY) is None
    signal = shared_spot_signal(n, DEFAULT_POLICY, accuracy_m=5.0)
    assert signal is not None and signal.code == "shared_coordinates"
    assert f"{n} 位居民" in signal.zh and f"{n} residents" in signal.en


def test_china_is_the_transform_s_customary_box() -> None:
    for lat, lon in [(0.8293, 100), (55.8271, 100), (30, 72.004), (30, 137.8347)]:
        assert in_china(lat, lon)
    for lat, lon in [(0.8292, 100), (55.8272, 100), (30, 72.0039), (30, 137.8348)]:
        assert not in_china(lat, lon)


def test_a_shared_network_position_is_honest() -> None:
    """Phones without a GPS fix report their cell's or Wi-Fi's position: shared, coarse."""
    coarse = SHARED_SPOT_MAX_ACCURACY_M + 1
    assert shared_spot_signal(40, DEFAULT_POLICY, accuracy_m=coarse) is None
    fine = SHARED_SPOT_MAX_ACCURACY_M
    assert shared_spot_signal(40, DEFAULT_POLICY, accuracy_m=fine) is not None
