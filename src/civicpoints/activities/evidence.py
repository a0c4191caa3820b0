"""Evidence photos: check an upload is a real, decodable photo and read its EXIF facts. Pure.

The content decides the type, never the file name or the client's content-type. EXIF is
optional metadata that phones and editors write carelessly: any problem reading it means "no
EXIF", never a refused upload.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, TypeVar

from PIL import ExifTags, Image, UnidentifiedImageError

from civicpoints.activities.errors import (
    InvalidCoordinates,
    PhotoNotImage,
    PhotoTooLarge,
    PhotoTooManyPixels,
    PhotoUnreadable,
)
from civicpoints.activities.geo import validate_point
from civicpoints.kit.clock import BUSINESS_TZ

MAX_PIXELS = 50_000_000  # a 50 MP phone photo is fine; more is a scan or a decompression bomb
# Pillow format → (mime, extension). Phones' multi-picture JPEGs open as "MPO".
_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "MPO": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
T = TypeVar("T")


@dataclass(frozen=True)
class PhotoFacts:
    """What an accepted photo is: its hash, type, size in pixels and bytes, and EXIF facts."""

    sha256: str
    mime: str
    extension: str
    width: int
    height: int
    size: int
    taken_at: datetime | None  # aware, UTC
    gps: tuple[float, float] | None  # WGS-84 (lat, lon)
    software: str | None = None  # EXIF Software / ProcessingSoftware: what last wrote it


def inspect_photo(data: bytes, max_bytes: int) -> PhotoFacts:
    """Facts about an uploaded photo; Photo* errors when too large, not a photo, or damaged."""
    if len(data) > max_bytes:
        raise PhotoTooLarge(max_bytes)
    fmt, width, height, exif = _decode(data)
    mime, extension = _FORMATS[fmt]
    return PhotoFacts(
        sha256=hashlib.sha256(data).hexdigest(),
        mime=mime,
        extension=extension,
        width=width,
        height=height,
        size=len(data),
        taken_at=_quietly(_taken_at, exif),
        gps=_quietly(_gps, exif),
        software=_quietly(_software, exif),
    )


@contextmanager
def _photo_errors() -> Iterator[None]:
    # Pillow reports damaged files with many exception types; all mean "cannot decode".
    try:
        yield
    except UnidentifiedImageError:
        raise PhotoNotImage() from None
    except Image.DecompressionBombError:
        raise PhotoTooManyPixels(MAX_PIXELS) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
        raise PhotoUnreadable() from exc


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data), formats=["JPEG", "PNG", "WEBP"])


def _decode(data: bytes) -> tuple[str, int, int, Image.Exif]:
    """Format, width, height and EXIF of `data`, after proving the whole image decodes."""
    with _photo_errors():
        with _open(data) as probe:
            probe.verify()  # structure and checksums (PNG); cheap
        with _open(data) as image:
            fmt, (width, height) = str(image.format), image.size
            if width * height > MAX_PIXELS:
                raise PhotoTooManyPixels(MAX_PIXELS)
            exif = _quietly(Image.Image.getexif, image) or Image.Exif()
            # verify() does not decode JPEG or WebP; decoding does. Draft mode lets JPEG
            # decode at 1/8 scale, which still reads the whole stream.
            image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
            image.load()
    return fmt, width, height, exif


def _quietly(read: Callable[[Any], T | None], arg: Any) -> T | None:
    """`read(arg)`, or None when EXIF is malformed in any way (it must not fail an upload)."""
    try:
        return read(arg)
    except Exception:
        return None


def _taken_at(exif: Image.Exif) -> datetime | None:
    """When the photo was taken: DateTimeOriginal, else DateTime; UTC."""
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    original = _exif_time(sub.get(ExifTags.Base.DateTimeOriginal), sub.get(0x9011))
    return original or _exif_time(exif.get(ExifTags.Base.DateTime), sub.get(0x9010))


def _exif_time(value: object, offset: object) -> datetime | None:
    """An EXIF "YYYY:MM:DD HH:MM:SS" in UTC; zoneless times are Beijing time."""
    if not isinstance(value, str):
        return None
    try:
        naive = datetime.strptime(value.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None  # e.g. the "0000:00:00 00:00:00" placeholder
    return naive.replace(tzinfo=_exif_zone(offset)).astimezone(UTC)


def _exif_zone(offset: object) -> tzinfo:
    # EXIF 2.31 OffsetTime* ("+08:00") when the camera wrote one; else Beijing time.
    match = _OFFSET.match(offset.strip("\x00 ")) if isinstance(offset, str) else None
    if match is None:
        return BUSINESS_TZ
    sign = -1 if match[1] == "-" else 1
    return timezone(sign * timedelta(hours=int(match[2]), minutes=int(match[3])))


def _software(exif: Image.Exif) -> str | None:
    """What wrote the file last (Software, else ProcessingSoftware), trimmed; None if blank."""
    for tag in (ExifTags.Base.Software, ExifTags.Base.ProcessingSoftware):
        value = exif.get(tag)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        text = (
            "".join(ch for ch in value if ch.isprintable()).strip()
            if isinstance(value, str)
            else ""
        )
        if text:
            return text[:200]
    return None


def _gps(exif: Image.Exif) -> tuple[float, float] | None:
    """The WGS-84 (lat, lon) of the GPS IFD, or None when absent or malformed."""
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "NS")
    lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "EW")
    if lat is None or lon is None or (lat, lon) == (0.0, 0.0):  # (0, 0): an unset fix
        return None
    try:
        return validate_point(lat, lon)
    except InvalidCoordinates:
        return None


def _degrees(dms: object, ref: object, refs: str) -> float | None:
    """Signed decimal degrees from EXIF (degrees, minutes, seconds) rationals and a ref."""
    sign = _ref_sign(ref, refs)
    if sign is None or not (isinstance(dms, tuple) and len(dms) == 3):
        return None
    d, m, s = (float(part) for part in dms)
    if not all(math.isfinite(x) and x >= 0 for x in (d, m, s)) or m >= 60 or s >= 60:
        return None
    return sign * (d + m / 60 + s / 3600)


def _ref_sign(ref: object, refs: str) -> int | None:
    """+1 for the first of `refs` ("N" of "NS"), -1 for the second, None for anything else."""
    text = ref.decode("ascii", "replace") if isinstance(ref, bytes) else ref
    if not isinstance(text, str):
        return None
    return {refs[0]: 1, refs[1]: -1}.get(text.strip("\x00 ").upper())
