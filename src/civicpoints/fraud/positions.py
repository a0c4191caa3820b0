"""Positions residents report as risk signals: impossible travel, implausible accuracy, many
residents at one exact spot; and the GCJ-02 datum of Chinese map apps. Pure.

Phones' GPS reports WGS-84. Map SDKs in China (AMap/Gaode, Tencent, Baidu's base) report
GCJ-02, offset from WGS-84 by a smooth, secret-but-published function: up to 733 m within
China's bounding box (about 480–560 m in Hangzhou, Shanghai, Beijing), nothing outside China.
A client cannot always tell which it got, so the signals never flag what the datum alone
explains: travel allows GCJ02_MAX_OFFSET_M on top of both fixes' accuracy, and a photo's EXIF
point is judged by the nearer of its two readings (`readings`). docs/fraud.md, "Positions
and GCJ-02".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from civicpoints.fraud import words
from civicpoints.fraud.checks import Signal
from civicpoints.fraud.schemas import PolicySettings
from civicpoints.kit.earth import distance_m

GCJ02_MAX_OFFSET_M = 750.0  # the transform's largest shift in its domain is 733 m (tested)
ACCURACY_CAP_M = 500.0  # a fix's claimed error excuses at most this much of a jump
_A, _EE = 6_378_245.0, 0.00669342162296594323  # Krasovsky 1940 ellipsoid, as GCJ-02 uses


@dataclass(frozen=True)
class Fix:
    """One reported position: when, where (WGS-84 or GCJ-02 degrees) and its claimed error."""

    at: datetime
    lat: float
    lon: float
    accuracy_m: float | None = None


def _error_allowance(fix: Fix) -> float:
    """How much of a jump the fix's claimed error excuses (a nonsensical claim: nothing)."""
    acc = fix.accuracy_m
    if acc is None or not math.isfinite(acc):
        return 0.0
    return min(max(acc, 0.0), ACCURACY_CAP_M)


def impossible_travel(prev: Fix, cur: Fix, policy: PolicySettings) -> Signal | None:
    """impossible_travel: faster than policy.max_speed_kmh between two consecutive fixes.

    Both fixes' accuracy (at most ACCURACY_CAP_M each) and GCJ02_MAX_OFFSET_M come off the
    distance first, so GPS error and a datum mix-up never make an honest resident a traveller.
    """
    metres = distance_m(prev.lat, prev.lon, cur.lat, cur.lon)
    unexplained = metres - _error_allowance(prev) - _error_allowance(cur) - GCJ02_MAX_OFFSET_M
    if unexplained <= 0:
        return None  # one place within error and datum: no travel, however short the time
    seconds = abs((cur.at - prev.at).total_seconds())
    if seconds > 0 and unexplained / seconds * 3.6 <= policy.max_speed_kmh:
        return None
    kmh = metres / seconds * 3.6 if seconds > 0 else math.inf
    d_zh, d_en = words.distance(metres)
    t_zh, t_en = words.duration(seconds)
    speed_zh, speed_en = (
        (f"约 {kmh:,.0f} 公里/小时", f"about {kmh:,.0f} km/h")
        if math.isfinite(kmh)
        else ("同一时刻", "at the same moment")
    )
    return Signal(
        "impossible_travel",
        f"两次定位相距 {d_zh}，仅隔 {t_zh}（{speed_zh}）",
        f"two positions {d_en} apart only {t_en} apart ({speed_en})",
    )


def implausible_accuracy(accuracy_m: float | None, policy: PolicySettings) -> Signal | None:
    """implausible_accuracy: a claimed error finer or coarser than a phone's (None: no claim)."""
    if accuracy_m is None:
        return None
    if math.isnan(accuracy_m) or accuracy_m < 0:
        zh, en = "不是有效数值", "is not a real value"
    elif accuracy_m < policy.accuracy_min_m:
        zh, en = (
            "手机定位不可能这样精确，常见于模拟定位软件",
            ("is finer than any phone's GPS, as location-faking apps report"),
        )
    elif accuracy_m > policy.accuracy_max_m:
        zh, en = "过于粗略，无法说明本人在场", "is too coarse to show presence"
    else:
        return None
    shown = f"{accuracy_m:,.1f}".removesuffix(".0") if accuracy_m >= 10 else f"{accuracy_m:.1f}"
    return Signal(
        "implausible_accuracy",
        f"定位精度报告为 {shown} 米，{zh}",
        f"the reported accuracy of {shown} m {en}",
    )


def spot_key(lat: float, lon: float) -> str:
    """A position to 6 decimals (about 0.1 m), the key for counting identical reports."""
    # + 0.0 turns a rounded -0.0 into 0.0, so one spot never has two keys.
    return f"{round(lat, 6) + 0.0:.6f},{round(lon, 6) + 0.0:.6f}"


SHARED_SPOT_MAX_ACCURACY_M = 100.0  # coarser fixes are network positions, shared honestly


def shared_spot_signal(
    residents_at_spot: int, policy: PolicySettings, accuracy_m: float | None = None
) -> Signal | None:
    """shared_coordinates: policy.same_spot_residents or more residents at one 6-decimal spot.

    Real GPS fixes scatter by metres; identical ones come from a faking app's preset. A
    coarse fix (accuracy above SHARED_SPOT_MAX_ACCURACY_M) is a cell or Wi-Fi position that
    every phone in the building shares honestly, so it is no signal.
    """
    if residents_at_spot < policy.same_spot_residents:
        return None
    if accuracy_m is not None and accuracy_m > SHARED_SPOT_MAX_ACCURACY_M:
        return None
    return Signal(
        "shared_coordinates",
        f"{residents_at_spot} 位居民报告了完全相同的坐标（精确到小数点后 6 位），"
        "真实定位几乎不会如此",
        f"{residents_at_spot} residents reported exactly the same coordinates "
        "(to 6 decimals), which real GPS fixes almost never do",
    )


def in_china(lat: float, lon: float) -> bool:
    """Whether GCJ-02 applies: the transform's customary bounding box of China."""
    return 0.8293 <= lat <= 55.8271 and 72.004 <= lon <= 137.8347


def _delta(lat: float, lon: float) -> tuple[float, float]:
    """The GCJ-02 shift (dlat, dlon) in degrees at a WGS-84 point (the published transform)."""
    x, y = lon - 105.0, lat - 35.0
    wave = (20 * math.sin(6 * x * math.pi) + 20 * math.sin(2 * x * math.pi)) * 2 / 3
    dlat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x)) + wave
    dlat += (20 * math.sin(y * math.pi) + 40 * math.sin(y / 3 * math.pi)) * 2 / 3
    dlat += (160 * math.sin(y / 12 * math.pi) + 320 * math.sin(y * math.pi / 30)) * 2 / 3
    dlon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x)) + wave
    dlon += (20 * math.sin(x * math.pi) + 40 * math.sin(x / 3 * math.pi)) * 2 / 3
    dlon += (150 * math.sin(x / 12 * math.pi) + 300 * math.sin(x / 30 * math.pi)) * 2 / 3
    rad = math.radians(lat)
    magic = 1 - _EE * math.sin(rad) ** 2
    dlat = dlat * 180 / ((_A * (1 - _EE)) / (magic * math.sqrt(magic)) * math.pi)
    dlon = dlon * 180 / (_A / math.sqrt(magic) * math.cos(rad) * math.pi)
    return dlat, dlon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """A WGS-84 point as Chinese map apps show it (identity outside China)."""
    if not in_china(lat, lon):
        return lat, lon
    dlat, dlon = _delta(lat, lon)
    return lat + dlat, lon + dlon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """A GCJ-02 point back in WGS-84 (identity outside China), to well under a centimetre.

    The transform has no closed inverse; a fixed-point iteration converges because the
    shift changes by far less than the point moves.
    """
    if not in_china(lat, lon):
        return lat, lon
    w_lat, w_lon = lat, lon
    for _ in range(30):
        g_lat, g_lon = wgs84_to_gcj02(w_lat, w_lon)
        e_lat, e_lon = g_lat - lat, g_lon - lon
        w_lat, w_lon = w_lat - e_lat, w_lon - e_lon
        if abs(e_lat) < 1e-10 and abs(e_lon) < 1e-10:
            break
    return w_lat, w_lon


def readings(lat: float, lon: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """The two WGS-84 points a reported position may mean: as given, and as GCJ-02 converted."""
    return (lat, lon), gcj02_to_wgs84(lat, lon)
