"""Evidence photos as risk signals: the perceptual hash and what EXIF says. Pure.

The hash is the `imagehash` pHash (the 8×8 lowest DCT frequencies against their median) of
a centre-weighted luminance square: the photo's grey levels, mean removed, times a cos^1.5
window. The window is why a copy cropped by a few percent on each side still matches: what a
crop removes lies where the window is near zero, and the DCT's phase errors from the changed
framing shrink with it. Copies cropped by 3–5 % each side are caught by probing with two
re-framed hashes besides the photo's own (`probe_hashes`). Measured on 240 synthetic photos
(tests/fraud_images.py, tests/unit/test_fraud_photo_robustness.py; docs/fraud.md).

A photo without EXIF is never a reason on its own: WeChat and iOS strip it from uploads.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import imagehash
import numpy as np
from PIL import Image, ImageOps

from civicpoints.fraud import words
from civicpoints.fraud.checks import Signal
from civicpoints.fraud.schemas import PolicySettings

MASK64 = (1 << 64) - 1
WORK = 64  # side of the luminance square the hash is computed from
REDUCE = 256  # photos are decoded and reduced to about this size first (JPEG: in the decoder)
REFRAME = 0.04  # the probes' re-framing: as if 4 % was cropped from, or added to, each side
# cos^1.5 from 1 at the centre to 0 at the edges: of the powers 1, 1.5, 2 (Hann), 2.5 and 3
# measured, the best at catching copies while keeping distinct photos apart (docs/fraud.md).
_TAPER = np.cos(np.pi * ((np.arange(WORK) + 0.5) / WORK - 0.5)) ** 1.5
_WINDOW = np.outer(_TAPER, _TAPER)


def perceptual_hash(data: bytes) -> int:
    """The photo's 64-bit perceptual hash, as a signed int64 (the stored form).

    `data` is a photo `activities.inspect_photo` accepted; anything else raises Pillow's error.
    """
    return _hash(_luminance(data))


def probe_hashes(data: bytes) -> tuple[int, int, int]:
    """The hashes to look a photo up with: its own, as if uncropped, and as if cropped.

    A copy cropped by 3–5 % each side is found by the second from the stored original; an
    original whose cropped copy was stored first, by the third.
    """
    grey = _luminance(data)
    return _hash(grey), _hash(_reframe(grey, -REFRAME)), _hash(_reframe(grey, REFRAME))


def bands(h: int) -> tuple[int, int, int, int]:
    """The hash's four 16-bit bands, most significant first (fraud.models.PhotoHash.b0..b3)."""
    u = h & MASK64
    return (u >> 48) & 0xFFFF, (u >> 32) & 0xFFFF, (u >> 16) & 0xFFFF, u & 0xFFFF


def hamming(a: int, b: int) -> int:
    """How many of the two 64-bit hashes' bits differ (signed or unsigned alike)."""
    return ((a ^ b) & MASK64).bit_count()


def to_signed(u: int) -> int:
    """A 64-bit unsigned value as the int64 a BIGINT column stores."""
    u &= MASK64
    return u - (1 << 64) if u >> 63 else u


def _luminance(data: bytes) -> np.ndarray:
    """The photo upright, in grey levels, reduced to about REDUCE pixels a side."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("L", (REDUCE, REDUCE))  # JPEG: decode at 1/2…1/8 scale, luma only
        image.thumbnail((REDUCE, REDUCE), Image.Resampling.BOX)  # in place, EXIF kept
        # Phones store pixels sideways with an Orientation tag; editors save them upright.
        grey = ImageOps.exif_transpose(image.convert("L"))
    return np.asarray(grey, dtype=np.float32)


def _reframe(grey: np.ndarray, fraction: float) -> np.ndarray:
    """Crop `fraction` from each side (> 0), or pad each side by -`fraction` with the mean."""
    h, w = grey.shape
    dy, dx = round(h * abs(fraction)), round(w * abs(fraction))
    if fraction > 0:
        return grey[dy : h - dy, dx : w - dx]
    padded = np.full((h + 2 * dy, w + 2 * dx), grey.mean(), dtype=np.float32)
    padded[dy : dy + h, dx : dx + w] = grey
    return padded


def _hash(grey: np.ndarray) -> int:
    small = Image.fromarray(np.ascontiguousarray(grey, dtype=np.float32))
    square = np.asarray(small.resize((WORK, WORK), Image.Resampling.BOX), dtype=np.float64)
    centred = (square - square.mean()) * _WINDOW
    span = float(np.ptp(centred))
    scaled = (centred - centred.min()) * (255 / span) if span > 0 else np.zeros_like(centred)
    bits = imagehash.phash(Image.fromarray(np.rint(scaled).astype(np.uint8))).hash
    return to_signed(int.from_bytes(np.packbits(bits.flatten()).tobytes(), "big"))


def photo_time_signal(
    taken_at: datetime | None, starts: datetime, ends: datetime, slack: timedelta
) -> Signal | None:
    """photo_time_mismatch: the EXIF time lies outside the activity's window ± `slack`."""
    if taken_at is None:
        return None
    if starts - slack <= taken_at <= ends + slack:
        return None
    off_zh, off_en = words.duration(
        (starts - taken_at if taken_at < starts else taken_at - ends).total_seconds()
    )
    slack_zh, slack_en = words.duration(slack.total_seconds())
    (at_zh, at_en), (span_zh, span_en) = words.moment(taken_at), words.span(starts, ends)
    return Signal(
        "photo_time_mismatch",
        f"照片拍摄于 {at_zh}，不在活动时间 {span_zh} 前后 {slack_zh} 内（相差 {off_zh}）",
        f"the photo was taken at {at_en}, not within {slack_en} of the activity's time "
        f"{span_en} ({off_en} off)",
    )


def photo_place_signal(distance_outside_m: float | None, policy: PolicySettings) -> Signal | None:
    """photo_far_from_site: the EXIF place lies more than policy.photo_far_m outside the area.

    Pass the smaller distance of the EXIF point read as WGS-84 and as GCJ-02 (some phones
    write GCJ-02; `positions.readings`), so that an honest photo is never flagged for the datum.
    """
    if distance_outside_m is None or distance_outside_m <= policy.photo_far_m:
        return None
    zh, en = words.distance(distance_outside_m)
    return Signal(
        "photo_far_from_site",
        f"照片拍摄地点在活动范围外 {zh}",
        f"the photo was taken {en} outside the activity's area",
    )


# Editing software as it names itself in EXIF Software / ProcessingSoftware. A phone's own
# firmware ("HDR+ 1.0.540104767zd", "iOS 17.1", "17.1", "MediaTek Camera Application",
# "G998BXXU5CVDD") names no editor and is no reason.
_EDITORS = re.compile(
    r"photoshop|lightroom|\bgimp\b|snapseed|picsart|meitu|美图|\bmtxx\b|醒图|hypic|黄油相机"
    r"|\bvsco\b|pixlr|\bfotor\b|\bcanva\b|可画|facetune|polarr|泼辣修图|affinity photo"
    r"|paint\.net|luminar|capture one|photodirector|pixelmator|darktable|rawtherapee"
    r"|acdsee|光影魔术手|neoimaging|稿定|inshot|remini",
    re.IGNORECASE,
)


def edited_signal(software: str | None) -> Signal | None:
    """photo_edited: EXIF names a photo editor (Photoshop, 美图秀秀, Snapseed, 醒图, …)."""
    if not software or not _EDITORS.search(software):
        return None
    name = "".join(ch for ch in software if ch.isprintable()).strip()[:60]
    return Signal(
        "photo_edited",
        f"照片的 EXIF 显示经修图软件处理（{name}）",
        f"the photo's EXIF says it was processed by editing software ({name})",
    )


def near_duplicate_signal(bits: int, same_resident: bool, policy: PolicySettings) -> Signal | None:
    """photo_near_duplicate: another record's photo is at most policy.photo_near_bits apart."""
    if bits > policy.photo_near_bits:
        return None
    whose_zh, whose_en = (
        ("本人另一条记录中", "a photo in another of the resident's own records")
        if same_resident
        else ("另一位居民此前上传", "a photo another resident uploaded earlier")
    )
    return Signal(
        "photo_near_duplicate",
        f"照片与{whose_zh}的照片几乎相同（64 位感知哈希仅差 {bits} 位）",
        f"the photo is nearly the same as {whose_en} "
        f"(perceptual hashes only {bits} of 64 bits apart)",
    )
