"""Evidence photos: content sniffing, size and pixel limits, damaged files, EXIF facts."""

from __future__ import annotations

import hashlib
import io
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from civicpoints.activities import evidence
from civicpoints.activities.errors import (
    PhotoNotImage,
    PhotoTooLarge,
    PhotoTooManyPixels,
    PhotoUnreadable,
)
from civicpoints.activities.evidence import inspect_photo

MB = 1024 * 1024
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME, DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x0132, 0x9003, 0x9011
LAT_REF, LAT, LON_REF, LON = 1, 2, 3, 4


def encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def noise(width: int = 160, height: int = 120) -> Image.Image:
    """An incompressible image, so a JPEG of it is long enough to cut in half."""
    rng = random.Random(7)
    return Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))


def west_lake_exif(**gps_overrides: Any) -> Image.Exif:
    """EXIF of a photo taken 2026-03-01 09:30 Beijing time at West Lake (30.2590, 120.1388)."""
    exif = Image.Exif()
    exif[DATETIME] = "2026:03:05 12:00:00"  # modified later: must lose to DateTimeOriginal
    exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = "2026:03:01 09:30:00"
    gps = exif.get_ifd(GPS_IFD)
    gps[LAT_REF] = "N"
    gps[LAT] = (IFDRational(30), IFDRational(15), IFDRational(324, 10))  # 30°15'32.4"
    gps[LON_REF] = "E"
    gps[LON] = (IFDRational(120), IFDRational(8), IFDRational(1968, 100))  # 120°8'19.68"
    for tag, value in gps_overrides.items():
        gps[{"lat_ref": LAT_REF, "lat": LAT, "lon_ref": LON_REF, "lon": LON}[tag]] = value
    return exif


def test_jpeg_with_exif_time_and_gps() -> None:
    data = encode(noise(), "JPEG", exif=west_lake_exif())
    facts = inspect_photo(data, max_bytes=10 * MB)
    assert (facts.mime, facts.extension) == ("image/jpeg", "jpg")
    assert (facts.width, facts.height, facts.size) == (160, 120, len(data))
    assert facts.sha256 == hashlib.sha256(data).hexdigest()
    assert facts.taken_at == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)  # 09:30 Beijing
    assert facts.gps == pytest.approx((30.2590, 120.1388), abs=1e-9)


def test_southern_and_western_refs_are_negative() -> None:
    exif = west_lake_exif(lat_ref="S", lon_ref="W")
    facts = inspect_photo(encode(noise(), "JPEG", exif=exif), max_bytes=10 * MB)
    assert facts.gps == pytest.approx((-30.2590, -120.1388), abs=1e-9)


@pytest.mark.parametrize(
    "overrides",
    [
        {"lat_ref": "X"},
        {"lat_ref": ""},
        {"lat": (IFDRational(1, 0), IFDRational(0), IFDRational(0))},
        {"lat": (IFDRational(30), IFDRational(75), IFDRational(0))},
        {"lon": (IFDRational(200), IFDRational(0), IFDRational(0))},
        {"lon": (IFDRational(120),)},
    ],
)
def test_malformed_gps_is_ignored_not_refused(overrides: dict[str, Any]) -> None:
    facts = inspect_photo(encode(noise(), "JPEG", exif=west_lake_exif(**overrides)), 10 * MB)
    assert facts.gps is None
    assert facts.taken_at == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)


def test_datetime_is_the_fallback_and_placeholders_are_ignored() -> None:
    exif = Image.Exif()
    exif[DATETIME] = "2026:03:05 12:00:00"
    exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = "0000:00:00 00:00:00"
    facts = inspect_photo(encode(noise(), "JPEG", exif=exif), 10 * MB)
    assert facts.taken_at == datetime(2026, 3, 5, 4, 0, tzinfo=UTC)
    assert facts.gps is None


def test_exif_offset_time_wins_over_beijing_time() -> None:
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = "2026:03:01 09:30:00"
    exif.get_ifd(EXIF_IFD)[OFFSET_TIME_ORIGINAL] = "+09:00"
    facts = inspect_photo(encode(noise(), "JPEG", exif=exif), 10 * MB)
    assert facts.taken_at == datetime(2026, 3, 1, 0, 30, tzinfo=UTC)


def test_png_without_exif() -> None:
    data = encode(Image.new("RGBA", (33, 21), (0, 128, 0, 255)), "PNG")
    facts = inspect_photo(data, max_bytes=MB)
    assert (facts.mime, facts.extension, facts.width, facts.height) == ("image/png", "png", 33, 21)
    assert facts.taken_at is None
    assert facts.gps is None


def test_webp_accepted() -> None:
    facts = inspect_photo(encode(noise(40, 30), "WEBP"), max_bytes=MB)
    assert (facts.mime, facts.extension, facts.width, facts.height) == (
        "image/webp",
        "webp",
        40,
        30,
    )


@pytest.mark.parametrize(
    "data",
    [
        b"This is a text file renamed to photo.jpg\n",
        b"",
        encode(Image.new("RGB", (8, 8)), "GIF"),
        encode(Image.new("RGB", (8, 8)), "BMP"),
    ],
)
def test_non_photos_are_refused(data: bytes) -> None:
    with pytest.raises(PhotoNotImage) as caught:
        inspect_photo(data, max_bytes=MB)
    assert (caught.value.code, caught.value.status, caught.value.field) == (
        "activities.photo_not_image",
        415,
        "photo",
    )
    assert "JPG" in caught.value.message("zh-CN")


def test_too_large_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded a payload over the limit")

    monkeypatch.setattr(evidence.Image, "open", no_decoding)
    with pytest.raises(PhotoTooLarge) as caught:
        inspect_photo(b"\xff\xd8\xff" + bytes(20 * MB), max_bytes=10 * MB)
    error = caught.value
    assert (error.code, error.status, error.field) == ("activities.photo_too_large", 413, "photo")
    assert "10 MB" in error.message("zh-CN")
    assert "10 MB" in error.message("en")


def test_limit_is_inclusive() -> None:
    data = encode(noise(), "JPEG")
    assert inspect_photo(data, max_bytes=len(data)).size == len(data)
    with pytest.raises(PhotoTooLarge):
        inspect_photo(data, max_bytes=len(data) - 1)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_photo_is_refused(fmt: str) -> None:
    data = encode(noise(), fmt)
    with pytest.raises(PhotoUnreadable) as caught:
        inspect_photo(data[: len(data) // 2], max_bytes=MB)
    assert (caught.value.code, caught.value.field) == ("activities.photo_unreadable", "photo")


def test_too_many_pixels_refused() -> None:
    data = encode(Image.new("1", (8000, 7000)), "PNG")  # 56 MP, a few kB
    with pytest.raises(PhotoTooManyPixels) as caught:
        inspect_photo(data, max_bytes=10 * MB)
    assert caught.value.status == 413
    assert "50" in caught.value.message("zh-CN")


def test_decompression_bomb_refused() -> None:
    data = encode(Image.new("1", (14_000, 14_000)), "PNG")  # 196 MP: Pillow itself objects
    with pytest.raises(PhotoTooManyPixels):
        inspect_photo(data, max_bytes=10 * MB)
