"""Pattern signals: overlapping records, a burst of awards, one device behind many accounts;
fraud caught and honest residents (back-to-back activities, busy volunteers) left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from civicpoints.fraud import DEFAULT_POLICY, PolicySettings
from civicpoints.fraud.patterns import (
    Span,
    burst_signal,
    overlap_signal,
    shared_device_signal,
)

T0 = datetime(2026, 3, 5, 1, 0, tzinfo=UTC)  # 09:00 Beijing time
TOLERANCE = DEFAULT_POLICY.overlap_tolerance_min


def span(start_min: float, end_min: float) -> Span:
    """A span in minutes from T0."""
    return Span(T0 + timedelta(minutes=start_min), T0 + timedelta(minutes=end_min))


# --- overlapping records -------------------------------------------------------------------


def test_two_activities_at_once_are_flagged_with_the_overlap() -> None:
    signal = overlap_signal(span(0, 180), [span(60, 240)], DEFAULT_POLICY)
    assert signal is not None and signal.code == "overlapping_records"
    assert "2 小时" in signal.zh and "2026年3月5日 10:00–13:00" in signal.zh
    assert "by 2 h" in signal.en


@pytest.mark.parametrize("overlap", [0, 5, TOLERANCE])
def test_back_to_back_activities_are_honest(overlap: int) -> None:
    """Checked out of the morning's activity late, into the next one early."""
    morning, afternoon = span(0, 180), span(180 - overlap, 300)
    assert overlap_signal(afternoon, [morning], DEFAULT_POLICY) is None
    assert overlap_signal(morning, [afternoon], DEFAULT_POLICY) is None


def test_overlap_beyond_the_tolerance_is_flagged() -> None:
    assert overlap_signal(span(170 - TOLERANCE, 300), [span(0, 180)], DEFAULT_POLICY) is not None


def test_a_short_record_inside_another_is_never_back_to_back() -> None:
    assert overlap_signal(span(60, 70), [span(0, 180)], DEFAULT_POLICY) is not None
    assert overlap_signal(span(0, 180), [span(60, 70)], DEFAULT_POLICY) is not None


def test_records_on_other_days_or_of_no_length_are_honest() -> None:
    assert overlap_signal(span(0, 120), [span(1440, 1560), span(60, 60)], DEFAULT_POLICY) is None
    assert overlap_signal(span(0, 120), [], DEFAULT_POLICY) is None


def test_the_tolerance_is_a_setting() -> None:
    strict = PolicySettings(overlap_tolerance_min=0)
    assert overlap_signal(span(175, 300), [span(0, 180)], strict) is not None


@pytest.mark.parametrize("reverse", [False, True])
def test_the_worst_overlap_is_named(reverse: bool) -> None:
    others = [span(290, 400), span(250, 400), span(-60, 120)]  # 10 min, 50 min, 2 h
    signal = overlap_signal(span(0, 300), others[::-1] if reverse else others, DEFAULT_POLICY)
    assert signal is not None and "by 2 h" in signal.en and "08:00–11:00" in signal.en


def test_span_arithmetic() -> None:
    assert span(0, 60).overlap(span(120, 180)) == timedelta(0)
    assert span(0, 60).overlap(span(30, 180)) == timedelta(minutes=30)
    assert span(0, 10).within(span(0, 180)) and span(170, 180).within(span(0, 180))
    assert not span(60, 60).within(span(0, 180))  # no length: inside nothing
    assert not span(0, 181).within(span(0, 180))


@pytest.mark.parametrize("inner", [(0, 10), (170, 180)])
def test_a_short_record_sharing_an_edge_with_a_long_one_is_inside_it(
    inner: tuple[int, int],
) -> None:
    assert overlap_signal(span(*inner), [span(0, 180)], DEFAULT_POLICY) is not None


minutes = st.integers(-10_000, 10_000)
lengths = st.integers(TOLERANCE + 1, 600)


@given(minutes, lengths, lengths, st.integers(0, TOLERANCE))
def test_any_back_to_back_pair_is_honest(start: int, a_len: int, b_len: int, over: int) -> None:
    a = span(start, start + a_len)
    b = span(start + a_len - over, start + a_len - over + b_len)
    assert overlap_signal(a, [b], DEFAULT_POLICY) is None
    assert overlap_signal(b, [a], DEFAULT_POLICY) is None


@given(minutes, lengths, lengths, minutes)
def test_spans_that_do_not_meet_are_honest(start: int, a_len: int, b_len: int, gap: int) -> None:
    a = span(start, start + a_len)
    b = span(start + a_len + abs(gap), start + a_len + abs(gap) + b_len)
    assert overlap_signal(a, [b], DEFAULT_POLICY) is None


@given(minutes, lengths, st.integers(TOLERANCE + 1, 600), st.booleans())
def test_overlap_beyond_the_tolerance_always_counts(
    start: int, extra: int, shared: int, order: bool
) -> None:
    a = span(start, start + shared + extra)
    b = span(start + extra, start + extra + shared + 30)
    assert overlap_signal(*((a, [b]) if order else (b, [a])), DEFAULT_POLICY) is not None


# --- award bursts --------------------------------------------------------------------------


def test_a_burst_far_above_own_and_peers_is_flagged() -> None:
    signal = burst_signal(12, [1, 2, 1, 2], [1, 2, 2, 3], DEFAULT_POLICY)
    assert signal is not None and signal.code == "award_burst"
    assert "12 次" in signal.zh and "1.5" in signal.zh and "2.0" in signal.zh
    assert "12 awards today" in signal.en


def test_a_busy_volunteer_within_their_own_range_is_honest() -> None:
    """Peers do 1–2 a day; this volunteer usually does 4 and today 9."""
    assert burst_signal(9, [4, 3, 5, 4, 0, 0, 4], [1, 2, 1, 1], DEFAULT_POLICY) is None


def test_the_minimum_per_day_is_itself_enough() -> None:
    n = DEFAULT_POLICY.burst_min_per_day
    assert burst_signal(n, [], [1, 1], DEFAULT_POLICY) is not None
    assert burst_signal(n - 1, [], [1, 1], DEFAULT_POLICY) is None


def test_a_new_resident_is_judged_against_peers_only() -> None:
    assert burst_signal(3, [], [1, 1, 1], DEFAULT_POLICY) is None  # below burst_min_per_day
    signal = burst_signal(6, [], [1, 2, 1, 2], DEFAULT_POLICY)
    assert signal is not None and "没有往日记录" in signal.zh and "no history" in signal.en
    assert burst_signal(6, [], [2, 3], DEFAULT_POLICY) is None


def test_with_no_one_to_compare_with_there_is_no_burst() -> None:
    assert burst_signal(50, [], [], DEFAULT_POLICY) is None
    assert burst_signal(50, [0, 0], [0], DEFAULT_POLICY) is None


def test_a_resident_without_peers_is_judged_against_their_own_history() -> None:
    assert burst_signal(9, [1, 1, 2], [], DEFAULT_POLICY) is not None
    assert burst_signal(4, [1, 1, 2], [], DEFAULT_POLICY) is None


history = st.lists(st.integers(0, 20), max_size=60)


def usual(daily: list[int]) -> float:
    active = [n for n in daily if n]
    return sum(active) / len(active) if active else 0.0


@given(st.floats(0, 1), history, history)
def test_a_day_within_the_factor_of_either_usual_is_honest(
    fraction: float, own: list[int], peers: list[int]
) -> None:
    today = int(fraction * DEFAULT_POLICY.burst_factor * max(usual(own), usual(peers)))
    assert burst_signal(today, own, peers, DEFAULT_POLICY) is None


@given(st.integers(1, 100), history, history)
def test_far_above_both_usuals_is_a_burst(excess: int, own: list[int], peers: list[int]) -> None:
    assume(any(own) or any(peers))
    base = DEFAULT_POLICY.burst_factor * max(usual(own), usual(peers))
    today = max(int(base) + excess, DEFAULT_POLICY.burst_min_per_day)
    assert burst_signal(today, own, peers, DEFAULT_POLICY) is not None


@given(st.integers(0, 200), history, history)
def test_more_awards_never_clear_a_burst(today: int, own: list[int], peers: list[int]) -> None:
    if burst_signal(today, own, peers, DEFAULT_POLICY) is not None:
        assert burst_signal(today + 1, own, peers, DEFAULT_POLICY) is not None


# --- shared devices ------------------------------------------------------------------------


@pytest.mark.parametrize("accounts", [1, 2, 3])
def test_a_family_sharing_a_phone_is_honest(accounts: int) -> None:
    assert shared_device_signal(accounts, DEFAULT_POLICY) is None


def test_an_account_farm_on_one_device_is_flagged() -> None:
    signal = shared_device_signal(9, DEFAULT_POLICY)
    assert signal is not None and signal.code == "shared_device"
    assert "9 个账户" in signal.zh and "9 accounts" in signal.en
    assert shared_device_signal(9, PolicySettings(device_max_accounts=10)) is None
