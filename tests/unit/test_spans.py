"""The one check of a paper slip's times against its activity's session (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from civicpoints.activities.errors import RecordSpanInvalid
from civicpoints.activities.spans import OFFLINE_SLACK, check_offline_span

START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 Beijing
SESSION = (START, START + timedelta(hours=2))
NOW = datetime(2026, 12, 6, tzinfo=UTC)
MIN = timedelta(minutes=1)
H = timedelta(hours=1)


def test_the_slack_is_thirty_minutes() -> None:
    assert timedelta(minutes=30) == OFFLINE_SLACK


@pytest.mark.parametrize(
    ("started", "ended"),
    [
        (START, START + 2 * H),
        (START - 30 * MIN, START + 90 * MIN),  # the earliest start
        (START + 30 * MIN, START + 150 * MIN),  # the latest end
        (START, START + MIN),
    ],
)
def test_accepted(started: datetime, ended: datetime) -> None:
    check_offline_span(started, ended, SESSION, NOW)


def test_ended_exactly_now_is_accepted() -> None:
    check_offline_span(START, START + 2 * H, SESSION, START + 2 * H)


@pytest.mark.parametrize(
    ("started", "ended", "now", "field", "problem"),
    [
        (START, START, NOW, "ended_at", "end_before_start"),
        (START, START - MIN, NOW, "ended_at", "end_before_start"),
        (START, START + 24 * H + MIN, NOW, "ended_at", "too_long_duration"),
        (START, START + 2 * H, START + 2 * H - MIN, "ended_at", "in_future"),
        (START - 31 * MIN, START + 89 * MIN, NOW, "started_at", "before_session"),
        (START + 31 * MIN, START + 151 * MIN, NOW, "ended_at", "after_session"),
        (START - 30 * MIN, START + 90 * MIN + MIN, NOW, "ended_at", "longer_than_session"),
    ],
)
def test_refused(
    started: datetime, ended: datetime, now: datetime, field: str, problem: str
) -> None:
    with pytest.raises(RecordSpanInvalid) as err:
        check_offline_span(started, ended, SESSION, now)
    assert (err.value.field, err.value.problem) == (field, problem)


def test_messages_give_the_limit_in_beijing_time_and_the_tolerance() -> None:
    with pytest.raises(RecordSpanInvalid) as err:
        check_offline_span(START - 31 * MIN, START + H, SESSION, NOW)
    assert err.value.message("zh-CN") == (
        "开始时间早于活动开始前 30 分钟（最早 2026-11-02 08:30，北京时间），请核对单据。"
    )
    assert err.value.message("en") == (
        "The start time is more than 30 minutes before the activity starts "
        "(earliest 2026-11-02 08:30 Beijing time); please check the slip."
    )
    with pytest.raises(RecordSpanInvalid) as err:
        check_offline_span(START, START + 2 * H + MIN, SESSION, NOW)
    assert "121 分钟" in err.value.message("zh-CN") and "120 minutes" in err.value.message("en")
