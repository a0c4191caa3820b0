"""kit/versions.py: when a new version of a regional setting may start."""

from __future__ import annotations

from datetime import date, timedelta

from civicpoints.kit.versions import MAX_AHEAD, start_refusal

TODAY = date(2026, 12, 7)


def test_a_version_starts_from_today_to_two_years_ahead() -> None:
    """Today and the last day of the window are fine; a day either side is refused, in words."""
    assert timedelta(days=731) == MAX_AHEAD
    assert start_refusal(TODAY, TODAY) is None
    assert start_refusal(TODAY + MAX_AHEAD, TODAY) is None
    assert start_refusal(TODAY - timedelta(days=1), TODAY) == (
        "生效日期不能早于今天",
        "it cannot start before today",
    )
    assert start_refusal(TODAY + MAX_AHEAD + timedelta(days=1), TODAY) == (
        "生效日期最多可提前两年设定",
        "it can be scheduled at most two years ahead",
    )
