"""When residents may check in and out, and whether the times written on a paper slip can be
true of its activity. Pure.

Staff type or import times that a person wrote down, and those times become hours and points.
One check serves every path (`POST /participations`, the CSV import, approval): the span lies
within the activity's session, allowing OFFLINE_SLACK either side for unsynchronised watches and
late sign-outs; it has ended by now; and it is no longer than the session itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from civicpoints.activities.errors import RecordSpanInvalid
from civicpoints.activities.models import Activity
from civicpoints.kit.clock import BUSINESS_TZ, as_utc

OFFLINE_SLACK = timedelta(minutes=30)
MAX_SESSION = timedelta(hours=24)  # no activity lasts longer (ActivityService.create refuses)


def attendance_window(activity: Activity, action: str) -> tuple[datetime, datetime]:
    """When check-in ("checkin") or check-out is open."""
    starts, ends = as_utc(activity.starts_at), as_utc(activity.ends_at)
    if action == "checkin":
        return starts - timedelta(minutes=activity.checkin_opens_min), ends
    return starts, ends + timedelta(minutes=activity.checkout_closes_min)


def check_order(started: datetime, ended: datetime) -> None:
    """Refuse an end not after the start, or a span longer than any session can be."""
    if ended <= started:
        raise RecordSpanInvalid("ended_at", "end_before_start")
    if ended - started > MAX_SESSION:
        raise RecordSpanInvalid("ended_at", "too_long_duration", max_hours=_hours(MAX_SESSION))


def check_offline_span(
    started: datetime, ended: datetime, session: tuple[datetime, datetime], now: datetime
) -> None:
    """Refuse a slip's span unless ended by `now`, inside the session ± slack, and not longer."""
    check_order(started, ended)
    starts, ends = session
    slack = {"slack_min": int(OFFLINE_SLACK.total_seconds() // 60)}
    if ended > now:
        raise RecordSpanInvalid("ended_at", "in_future", now=_local(now))
    if started < starts - OFFLINE_SLACK:
        raise RecordSpanInvalid(
            "started_at", "before_session", limit=_local(starts - OFFLINE_SLACK), **slack
        )
    if ended > ends + OFFLINE_SLACK:
        raise RecordSpanInvalid(
            "ended_at", "after_session", limit=_local(ends + OFFLINE_SLACK), **slack
        )
    if ended - started > ends - starts:
        raise RecordSpanInvalid(
            "ended_at",
            "longer_than_session",
            got=_minutes(ended - started),
            limit=_minutes(ends - starts),
        )


def _local(at: datetime) -> str:
    """A time as staff read it: Beijing time to the minute."""
    return at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


def _hours(span: timedelta) -> int:
    return int(span.total_seconds() // 3600)
