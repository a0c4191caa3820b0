"""Synthetic photo-like images and the edits fraudsters make to re-use one.

A scene is a gradient sky with light and shade, 5–14 shapes, some text, maybe blur, and
sensor noise, drawn from a seed: the same seed always gives the same photo. Used by
`civicpoints fraud simulate` and by the tests (tests/fraud_images.py).
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable
from datetime import datetime

import numpy as np
from PIL import ExifTags, Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from civicpoints.kit.clock import BUSINESS_TZ

SIZES = [(320, 240), (240, 320), (360, 240), (300, 300)]


def scene(seed: int) -> Image.Image:
    """A photo-like RGB image drawn from `seed`."""
    rng, nrng = random.Random(seed), np.random.default_rng(seed)
    w, h = SIZES[seed % len(SIZES)]
    yy, xx = np.mgrid[0:h, 0:w] / max(w, h)
    c1, c2 = (np.array([rng.randrange(256) for _ in range(3)], float) for _ in range(2))
    a = rng.uniform(0, 2 * math.pi)
    t = xx * math.cos(a) + yy * math.sin(a)
    t = (t - t.min()) / (t.max() - t.min())
    pixels = c1 * (1 - t[..., None]) + c2 * t[..., None]
    for _ in range(rng.randint(2, 5)):  # light and shade
        f, b, phase = rng.uniform(1, 6), rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi)
        wave = np.sin(2 * math.pi * f * (xx * math.cos(b) + yy * math.sin(b)) + phase)
        pixels += rng.uniform(10, 40) * wave[..., None] * nrng.uniform(0.5, 1, 3)
    image = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    _shapes(ImageDraw.Draw(image), rng, w, h)
    if rng.random() < 0.5:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2)))
    noisy = np.asarray(image, float) + nrng.normal(0, rng.uniform(2, 12), (h, w, 3))
    return Image.fromarray(noisy.clip(0, 255).astype(np.uint8))


def _shapes(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int) -> None:
    def colour() -> tuple[int, int, int]:
        return rng.randrange(256), rng.randrange(256), rng.randrange(256)

    def point() -> tuple[float, float]:
        return rng.uniform(0, w), rng.uniform(0, h)

    for _ in range(rng.randint(5, 14)):
        x0, y0 = rng.uniform(-40, w), rng.uniform(-40, h)
        box = (x0, y0, x0 + rng.uniform(15, 160), y0 + rng.uniform(15, 120))
        kind = rng.randrange(4)
        if kind == 0:
            draw.ellipse(box, fill=colour())
        elif kind == 1:
            draw.rectangle(box, fill=colour())
        elif kind == 2:
            draw.polygon([point() for _ in range(rng.randint(3, 6))], fill=colour())
        else:
            line = [point() for _ in range(rng.randint(2, 5))]
            draw.line(line, fill=colour(), width=rng.randint(2, 12))
    for _ in range(rng.randint(0, 3)):
        font = ImageFont.load_default(size=rng.randint(14, 36))
        text = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789 ") for _ in range(8))
        draw.text((rng.uniform(0, w - 60), rng.uniform(0, h - 30)), text, colour(), font)


def jpeg(image: Image.Image, quality: int) -> bytes:
    """The image as JPEG bytes."""
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def load(data: bytes) -> Image.Image:
    """Decoded RGB pixels."""
    return Image.open(io.BytesIO(data)).convert("RGB")


def photo(seed: int) -> bytes:
    """The original upload: the scene as a phone's JPEG (quality 92)."""
    return jpeg(scene(seed), 92)


def shrink(image: Image.Image) -> Image.Image:
    """Resized to 80 %."""
    return image.resize(
        (round(image.width * 0.8), round(image.height * 0.8)), Image.Resampling.LANCZOS
    )


def crop(image: Image.Image, rng: random.Random) -> Image.Image:
    """3–5 % cut from each side, each side its own amount."""
    w, h = image.size

    def cut(n: int) -> int:
        return round(n * rng.uniform(0.03, 0.05))

    return image.crop((cut(w), cut(h), w - cut(w), h - cut(h)))


def colour(image: Image.Image, rng: random.Random) -> Image.Image:
    """Brightness ±10–15 %, saturation ±20–30 %, hue turned by 3–6° (PIL's HSV: 2–4 of 256)."""
    sign = rng.choice([-1, 1])
    image = ImageEnhance.Brightness(image).enhance(1 + sign * rng.uniform(0.10, 0.15))
    image = ImageEnhance.Color(image).enhance(1 + rng.choice([-1, 1]) * rng.uniform(0.2, 0.3))
    hsv = np.asarray(image.convert("HSV")).copy()
    hsv[..., 0] = (hsv[..., 0].astype(int) + rng.choice([-1, 1]) * rng.randint(2, 4)) % 256
    return Image.fromarray(hsv, "HSV").convert("RGB")


Edit = Callable[[bytes, random.Random], bytes]
EDITS: dict[str, Edit] = {
    "resize80_q70": lambda d, r: jpeg(shrink(load(d)), 70),
    "crop": lambda d, r: jpeg(crop(load(d), r), 90),
    "colour": lambda d, r: jpeg(colour(load(d), r), 90),
    "recompress": lambda d, r: jpeg(load(jpeg(load(d), 60)), 50),
    "crop_resize80_q70": lambda d, r: jpeg(shrink(crop(load(d), r)), 70),
    "colour_resize80_q70": lambda d, r: jpeg(shrink(colour(load(d), r)), 70),
    "crop_colour": lambda d, r: jpeg(colour(crop(load(d), r), r), 90),
    "all": lambda d, r: jpeg(shrink(colour(crop(load(d), r), r)), 70),
}


def with_exif(
    image: Image.Image,
    where: tuple[float, float],
    taken: datetime,
    make: str = "CivicPoints simulation",
    quality: int = 88,
) -> bytes:
    """The image as a phone's JPEG whose EXIF says where and when (Beijing time) it was taken
    (the demo city's photos are written by this too)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = make
    local = taken.astimezone(BUSINESS_TZ)
    exif.get_ifd(ExifTags.IFD.Exif).update(
        {ExifTags.Base.DateTimeOriginal: f"{local:%Y:%m:%d %H:%M:%S}", 0x9011: "+08:00"}
    )
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: _dms(where[0]),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: _dms(where[1]),
        }
    )
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality, exif=exif)
    return buf.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    """Decimal degrees as EXIF (degrees, minutes, seconds)."""
    degrees, rest = divmod(value * 3600, 3600)
    minutes, seconds = divmod(rest, 60)
    return float(degrees), float(minutes), round(seconds, 4)
