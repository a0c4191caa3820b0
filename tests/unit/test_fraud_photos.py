"""Photo signals: the perceptual hash and its bands, EXIF time, place, editing software, and
near-duplicates; true positives and the honest cases beside them."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from civicpoints.activities.evidence import inspect_photo
from civicpoints.fraud import DEFAULT_POLICY, DEFAULT_WEIGHTS
from civicpoints.fraud.photo_index import MAX_BITS, _probe_values
from civicpoints.fraud.photos import (
    MASK64,
    bands,
    edited_signal,
    hamming,
    near_duplicate_signal,
    perceptual_hash,
    photo_place_signal,
    photo_time_signal,
    probe_hashes,
    to_signed,
)
from tests.fraud_images import EDITS, jpeg, photo, scene

INT64 = st.integers(-(1 << 63), (1 << 63) - 1)
MB = 1024 * 1024
SOFTWARE, PROCESSING_SOFTWARE, ORIENTATION = 0x0131, 0x000B, 0x0112
STARTS = datetime(2026, 3, 5, 1, 0, tzinfo=UTC)  # 09:00 Beijing time
ENDS = STARTS + timedelta(hours=3)
SLACK = timedelta(minutes=DEFAULT_POLICY.photo_time_slack_min)


# --- the hash ------------------------------------------------------------------------------


def test_hash_is_a_signed_int64_and_stable() -> None:
    data = photo(1)
    h = perceptual_hash(data)
    assert -(1 << 63) <= h < (1 << 63)
    assert perceptual_hash(data) == h
    assert probe_hashes(data)[0] == h


def test_a_resized_recompressed_copy_is_near_and_another_photo_is_far() -> None:
    original = photo(3)
    copy = EDITS["resize80_q70"](original, random.Random(0))
    assert hamming(perceptual_hash(original), perceptual_hash(copy)) <= 2
    assert hamming(perceptual_hash(original), perceptual_hash(photo(4))) > 16


def test_the_same_photo_as_png_matches_its_jpeg() -> None:
    buf = io.BytesIO()
    scene(5).save(buf, "PNG")
    assert hamming(perceptual_hash(buf.getvalue()), perceptual_hash(photo(5))) <= 2


def test_a_sideways_phone_photo_hashes_as_upright() -> None:
    """Pixels stored sideways with Orientation=6 (rotate 90° clockwise to view), as phones do."""
    upright = scene(6)
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    sideways = jpeg_with(upright.transpose(Image.Transpose.ROTATE_90), exif)
    assert hamming(perceptual_hash(sideways), perceptual_hash(jpeg(upright, 92))) <= 2
    unrotated = jpeg(upright.transpose(Image.Transpose.ROTATE_90), 92)
    assert hamming(perceptual_hash(unrotated), perceptual_hash(jpeg(upright, 92))) > 8


def test_a_blank_photo_hashes_to_zero() -> None:
    """No detail, no bits: blank photos match each other (a reviewer should see them anyway)."""
    blank = jpeg(Image.new("RGB", (64, 48), (200, 200, 200)), 90)
    assert perceptual_hash(blank) == 0


def golden() -> bytes:
    """A lossless test card drawn with numpy alone: the same bytes on every machine."""
    y, x = np.mgrid[0:240, 0:320]
    grey = (x * 0.5 + y * 0.3).astype(float)
    grey[40:120, 60:200], grey[150:220, 100:160], grey[20:60, 240:300] = 220, 30, 160
    rgb = np.stack([grey, grey * 0.8, 255 - grey], axis=2).clip(0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue()


def test_the_hash_is_pinned() -> None:
    """Stored hashes must stay comparable: a change here means re-hashing every stored photo."""
    assert [h & MASK64 for h in probe_hashes(golden())] == [
        0x99CD7232CEC9C13C,  # the photo (the stored hash)
        0x9BCC7032CCCBC33C,  # as if 4 % were added to each side
        0x99CD7232CEC1313E,  # as if 4 % were cut from each side
    ]


def test_the_probes_frame_a_cropped_copy_like_its_original() -> None:
    """Cut exactly 4 % from each side: the copy's 'uncropped' probe is the original's framing,
    and the original's 'cropped' probe is the copy's."""
    original = scene(11)
    w, h = original.size
    copy = original.crop(
        (round(w * 0.04), round(h * 0.04), w - round(w * 0.04), h - round(h * 0.04))
    )
    own, _, cropped = probe_hashes(jpeg(original, 92))
    c_own, c_uncropped, _ = probe_hashes(jpeg(copy, 92))
    assert hamming(own, c_uncropped) <= 2 < hamming(own, c_own)
    assert hamming(cropped, c_own) <= 2 < hamming(own, c_own)


def test_literal_64_bit_facts() -> None:
    assert hamming(-1, 0) == 64 == hamming(-1, (1 << 64) - 1) + 64
    assert to_signed((1 << 64) - 1) == -1 and to_signed(1 << 63) == -(1 << 63)
    assert bands(-1) == (0xFFFF,) * 4 and bands(0x0001_0002_0003_0004) == (1, 2, 3, 4)


@given(INT64)
def test_bands_hold_the_hash(h: int) -> None:
    b0, b1, b2, b3 = bands(h)
    assert all(0 <= b < 1 << 16 for b in (b0, b1, b2, b3))
    assert to_signed(b0 << 48 | b1 << 32 | b2 << 16 | b3) == h
    assert bands(h & MASK64) == bands(h)


@given(INT64, INT64, INT64)
def test_hamming_is_a_metric_on_signed_and_unsigned_alike(a: int, b: int, c: int) -> None:
    assert hamming(a, a) == 0
    assert hamming(a, b) == hamming(b, a) == hamming(a & MASK64, b)
    assert hamming(a, c) <= hamming(a, b) + hamming(b, c)
    assert 0 <= hamming(a, b) <= 64


@given(INT64, st.sets(st.integers(0, 63), max_size=MAX_BITS))
def test_every_hash_within_7_bits_shares_a_probed_band_value(h: int, flips: set[int]) -> None:
    """The pigeonhole the index relies on: one band differs by at most one bit."""
    other = h
    for bit in flips:
        other ^= 1 << bit
    probed = _probe_values([h], len(flips) if len(flips) > 3 else 3)
    assert any(value in band for value, band in zip(bands(other), probed, strict=True))


def test_the_default_threshold_keeps_the_pigeonhole() -> None:
    assert DEFAULT_POLICY.photo_near_bits <= MAX_BITS


# --- EXIF time -----------------------------------------------------------------------------


def test_no_exif_time_is_no_signal() -> None:
    assert photo_time_signal(None, STARTS, ENDS, SLACK) is None


def test_a_photo_days_before_the_activity_is_flagged_with_the_numbers() -> None:
    taken = STARTS - timedelta(days=3, hours=2)
    signal = photo_time_signal(taken, STARTS, ENDS, SLACK)
    assert signal is not None and signal.code == "photo_time_mismatch"
    assert "2026年3月2日 07:00" in signal.zh and "3 天 2 小时" in signal.zh
    assert "5 Mar 2026 09:00–12:00" in signal.en and "3 d 2 h off" in signal.en


@given(st.integers(-int(SLACK.total_seconds()), int((ENDS - STARTS + SLACK).total_seconds())))
def test_a_photo_within_the_window_and_its_slack_is_honest(offset_s: int) -> None:
    assert photo_time_signal(STARTS + timedelta(seconds=offset_s), STARTS, ENDS, SLACK) is None


@given(st.integers(1, 10**8), st.booleans())
def test_a_photo_beyond_the_slack_is_flagged(beyond_s: int, before: bool) -> None:
    taken = (
        STARTS - SLACK - timedelta(seconds=beyond_s)
        if before
        else ENDS + SLACK + timedelta(seconds=beyond_s)
    )
    assert photo_time_signal(taken, STARTS, ENDS, SLACK) is not None


# --- EXIF place ----------------------------------------------------------------------------


@pytest.mark.parametrize("distance", [None, 0.0, 120.0, float(DEFAULT_POLICY.photo_far_m)])
def test_no_gps_or_a_photo_near_the_site_is_honest(distance: float | None) -> None:
    assert photo_place_signal(distance, DEFAULT_POLICY) is None


def test_a_photo_taken_far_away_is_flagged_in_km() -> None:
    signal = photo_place_signal(12_345.0, DEFAULT_POLICY)
    assert signal is not None and signal.code == "photo_far_from_site"
    assert "12.3 公里" in signal.zh and "12.3 km outside" in signal.en


# --- editing software ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "software",
    [
        "Adobe Photoshop 25.0 (Windows)",
        "Adobe Photoshop Lightroom Classic 13.0 (Macintosh)",
        "美图秀秀",
        "Meitu",
        "Snapseed 2.0",
        "PicsArt",
        "GIMP 2.10.34",
        "醒图",
        "VSCO",
        "Canva",
    ],
)
def test_editing_software_is_flagged(software: str) -> None:
    signal = edited_signal(software)
    assert signal is not None and signal.code == "photo_edited"
    assert software in signal.zh and software in signal.en


@pytest.mark.parametrize(
    "software",
    [
        None,
        "",
        "HDR+ 1.0.540104767zd",
        "iOS 17.1",
        "17.1",
        "MediaTek Camera Application",
        "G998BXXU5CVDD",
        "HUAWEI P60 Pro",
        "Xiaomi 14",
        "ILCE-7M3 v2.00",
        "Canvas 3",
        "Picasa",
    ],
)
def test_a_phones_own_firmware_is_no_editing(software: str | None) -> None:
    assert edited_signal(software) is None


def test_a_long_software_name_is_cut_to_60_characters() -> None:
    signal = edited_signal("Adobe Photoshop " + "x" * 100)
    assert signal is not None and "Adobe Photoshop " + "x" * 44 + "）" in signal.zh


def jpeg_with(image: Image.Image, exif: Image.Exif) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90, exif=exif)
    return buf.getvalue()


@pytest.mark.parametrize("tag", [SOFTWARE, PROCESSING_SOFTWARE])
def test_inspect_photo_reads_the_software_that_edited_it(tag: int) -> None:
    exif = Image.Exif()
    exif[tag] = "Adobe Photoshop 25.0 (Windows)"
    facts = inspect_photo(jpeg_with(scene(7), exif), 10 * MB)
    assert facts.software == "Adobe Photoshop 25.0 (Windows)"
    assert edited_signal(facts.software) is not None


def test_software_is_none_without_exif_and_for_blank_or_odd_values() -> None:
    assert inspect_photo(photo(8), 10 * MB).software is None
    for value in ["", "\x00\x00 "]:
        exif = Image.Exif()
        exif[SOFTWARE] = value
        assert inspect_photo(jpeg_with(scene(8), exif), 10 * MB).software is None


def test_a_phone_photo_names_its_firmware_and_is_not_flagged() -> None:
    exif = Image.Exif()
    exif[SOFTWARE] = "HDR+ 1.0.540104767zd"
    facts = inspect_photo(jpeg_with(scene(9), exif), 10 * MB)
    assert facts.software == "HDR+ 1.0.540104767zd"
    assert edited_signal(facts.software) is None


# --- near-duplicates -----------------------------------------------------------------------


@given(st.integers(0, 64), st.booleans())
def test_near_duplicate_fires_exactly_within_the_threshold(bits: int, same: bool) -> None:
    signal = near_duplicate_signal(bits, same, DEFAULT_POLICY)
    assert (signal is not None) == (bits <= DEFAULT_POLICY.photo_near_bits)
    if signal is not None:
        assert signal.code == "photo_near_duplicate" and f"{bits} 位" in signal.zh


def test_near_duplicate_says_whose_photo() -> None:
    other = near_duplicate_signal(4, False, DEFAULT_POLICY)
    own = near_duplicate_signal(0, True, DEFAULT_POLICY)
    assert other is not None and "另一位居民" in other.zh and "another resident" in other.en
    assert own is not None and "本人" in own.zh and "resident's own" in own.en


def test_every_photo_signal_code_has_a_weight() -> None:
    signals = [
        photo_time_signal(STARTS - timedelta(days=9), STARTS, ENDS, SLACK),
        photo_place_signal(9_999.0, DEFAULT_POLICY),
        edited_signal("Snapseed"),
        near_duplicate_signal(0, False, DEFAULT_POLICY),
    ]
    assert all(s is not None and s.code in DEFAULT_WEIGHTS for s in signals)
