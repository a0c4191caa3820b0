"""Fraud: risk signals (checks.py is pure), risk policies, the review queue's order,
clawback, warnings, sanctions and appeals."""

from civicpoints.fraud.checks import Assessment, Outcome, Signal, assess
from civicpoints.fraud.patterns import Span, burst_signal, overlap_signal, shared_device_signal
from civicpoints.fraud.photo_index import Match, PhotoIndex
from civicpoints.fraud.photos import (
    bands,
    edited_signal,
    hamming,
    near_duplicate_signal,
    perceptual_hash,
    photo_place_signal,
    photo_time_signal,
    probe_hashes,
)
from civicpoints.fraud.positions import (
    Fix,
    gcj02_to_wgs84,
    implausible_accuracy,
    impossible_travel,
    readings,
    shared_spot_signal,
    spot_key,
    wgs84_to_gcj02,
)
from civicpoints.fraud.schemas import DEFAULT_POLICY, DEFAULT_WEIGHTS, PolicySettings
from civicpoints.fraud.venue import venue_code, venue_code_ok, venue_signal

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_WEIGHTS",
    "Assessment",
    "Fix",
    "Match",
    "Outcome",
    "PhotoIndex",
    "PolicySettings",
    "Signal",
    "Span",
    "assess",
    "bands",
    "burst_signal",
    "edited_signal",
    "gcj02_to_wgs84",
    "hamming",
    "implausible_accuracy",
    "impossible_travel",
    "near_duplicate_signal",
    "overlap_signal",
    "perceptual_hash",
    "photo_place_signal",
    "photo_time_signal",
    "probe_hashes",
    "readings",
    "shared_device_signal",
    "shared_spot_signal",
    "spot_key",
    "venue_code",
    "venue_code_ok",
    "venue_signal",
    "wgs84_to_gcj02",
]
