"""Patterns across a resident's records as risk signals: two activities at once, a day of
awards far above the usual, one device behind many accounts. Pure."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from civicpoints.fraud import words
from civicpoints.fraud.checks import Signal
from civicpoints.fraud.schemas import PolicySettings


@dataclass(frozen=True)
class Span:
    """The time a record credits: check-in to check-out clipped to the activity's window."""

    starts: datetime
    ends: datetime

    def overlap(self, other: Span) -> timedelta:
        """How long both spans run at once (zero when they do not meet)."""
        return max(min(self.ends, other.ends) - max(self.starts, other.starts), timedelta(0))

    def within(self, other: Span) -> bool:
        """Whether this span lies wholly inside `other` (and lasts at all)."""
        return other.starts <= self.starts and self.ends <= other.ends and self.ends > self.starts


def overlap_signal(own: Span, others: Iterable[Span], policy: PolicySettings) -> Signal | None:
    """overlapping_records: the resident was in another record's activity at the same time.

    Back-to-back activities overlap at their edges by a late check-out or an early check-in:
    up to policy.overlap_tolerance_min of that is honest. A record wholly inside another
    is never back-to-back, so any overlap of that kind counts. Pass credited spans (clipped
    to each activity's window), so a check-out forgotten until evening overlaps nothing.
    """
    tolerance = timedelta(minutes=policy.overlap_tolerance_min)
    worst: tuple[timedelta, Span] | None = None
    for other in others:
        shared = own.overlap(other)
        # A span of any length inside another overlaps it by that length: never zero.
        nested = own.within(other) or other.within(own)
        if (shared > tolerance or nested) and (worst is None or shared > worst[0]):
            worst = (shared, other)
    if worst is None:
        return None
    shared, other = worst
    zh, en = words.duration(shared.total_seconds())
    span_zh, span_en = words.span(other.starts, other.ends)
    return Signal(
        "overlapping_records",
        f"与本人另一条服务记录（{span_zh}）时间重叠 {zh}，同一时间不能身在两处",
        f"overlaps another of the resident's records ({span_en}) by {en}; "
        "nobody is in two places at once",
    )


def _usual(daily: Sequence[int]) -> float | None:
    """Awards on a usual active day: the mean over the days with any (None: no such day)."""
    active = [n for n in daily if n > 0]
    return statistics.fmean(active) if active else None


def burst_signal(
    today: int, own_daily: Sequence[int], peers_daily: Sequence[int], policy: PolicySettings
) -> Signal | None:
    """award_burst: today's awards far above both the resident's usual day and their peers'.

    "Far above" is more than policy.burst_factor times the usual active day and at least
    policy.burst_min_per_day. A new resident with no history is judged against peers
    only; with neither history nor peers there is nothing to compare with.
    """
    own, peers = _usual(own_daily), _usual(peers_daily)
    if today < policy.burst_min_per_day or (own is None and peers is None):
        return None
    if any(u is not None and today <= policy.burst_factor * u for u in (own, peers)):
        return None
    own_zh, own_en = (
        ("本人没有往日记录", "no history of their own")
        if own is None
        else (f"本人平日每天 {own:.1f} 次", f"{own:.1f} on their usual day")
    )
    peer_zh, peer_en = (
        ("", "")
        if peers is None
        else (f"，同类居民每天 {peers:.1f} 次", f", their peers {peers:.1f}")
    )
    return Signal(
        "award_burst",
        f"今天获得 {today} 次积分，远高于平常（{own_zh}{peer_zh}）",
        f"{today} awards today, far above the usual ({own_en}{peer_en})",
    )


def shared_device_signal(accounts_on_device: int, policy: PolicySettings) -> Signal | None:
    """shared_device: more than policy.device_max_accounts accounts used this device.

    A family sharing one phone stays within the default of 3.
    """
    if accounts_on_device <= policy.device_max_accounts:
        return None
    limit = policy.device_max_accounts
    return Signal(
        "shared_device",
        f"同一台设备上使用过 {accounts_on_device} 个账户（超过 {limit} 个即属异常）",
        f"{accounts_on_device} accounts have used this device (more than {limit} is unusual)",
    )
