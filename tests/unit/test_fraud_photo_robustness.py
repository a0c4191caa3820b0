"""The measurement behind the default near-duplicate threshold (docs/fraud.md).

240 synthetic photos (seeds 0–239, tests/fraud_images.py) and eight edited copies of each:
resized to 80 % and re-encoded at JPEG quality 70, cropped 3–5 % on each side, colour-shifted
(brightness ±10–15 %, saturation ±20–30 %, hue 3–6°), recompressed twice, and combinations.
Each copy is looked up as the service looks an upload up (its three probe hashes) against the
original's stored hash; every ordered pair of distinct photos is looked up the same way.
`python -m tests.fraud_images` prints the whole table.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from civicpoints.fraud import DEFAULT_POLICY
from civicpoints.fraud.photo_index import MAX_BITS
from tests.fraud_images import EDITS, measure

PHOTOS = 240
MIN_RECALL = 0.95


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    """The measurement at the default threshold (about 30 s: computed once)."""
    result = measure(PHOTOS, DEFAULT_POLICY.photo_near_bits)
    print(json.dumps(result, indent=1))  # the figures, with `pytest -s`
    return result


def test_every_kind_of_copy_is_found(figures: dict[str, Any]) -> None:
    assert DEFAULT_POLICY.photo_near_bits <= MAX_BITS
    assert set(figures["copies"]) == set(EDITS)
    for name, f in figures["copies"].items():
        assert f["recall"] >= MIN_RECALL, (name, f)


def test_distinct_photos_never_match(figures: dict[str, Any]) -> None:
    distinct = figures["distinct"]
    assert distinct["pairs"] == PHOTOS * (PHOTOS - 1)
    assert distinct["at_or_below_threshold"] == 0, distinct
    # Headroom: the nearest distinct pair stays clear of the threshold, not just above it.
    assert distinct["min"] >= DEFAULT_POLICY.photo_near_bits + 4, distinct


def test_the_probes_are_what_catch_cropped_copies(figures: dict[str, Any]) -> None:
    """A photo's own hash alone misses a crop of 3–5 % per side far more often."""
    for name in ("crop", "crop_resize80_q70", "all"):
        f = figures["copies"][name]
        assert f["recall_own_hash_only"] <= f["recall"] - 0.1, (name, f)
