"""The sanction ladder and the appeal window. Pure: values in, values out.

First confirmed fraud within the window: a warning (警告). Second: earning suspended for
`suspension_days`. Third and later: suspended for `long_suspension_days` and reported in the
credit-record export. Cases withdrawn by an upheld appeal do not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from civicpoints.fraud.models import Sanction
from civicpoints.fraud.schemas import PolicySettings


@dataclass(frozen=True)
class Step:
    """What a newly confirmed case brings."""

    sanction: Sanction
    suspended_until: datetime | None
    credit_record: bool


def step(earlier: int, now: datetime, policy: PolicySettings) -> Step:
    """The step for a case confirmed `now` after `earlier` standing cases within the window."""
    if earlier <= 0:
        return Step(Sanction.WARNING, None, False)
    if earlier == 1:
        return Step(Sanction.SUSPENSION, now + timedelta(days=policy.suspension_days), False)
    until = now + timedelta(days=policy.long_suspension_days)
    return Step(Sanction.LONG_SUSPENSION, until, True)


def window_start(now: datetime, policy: PolicySettings) -> datetime:
    """The earliest decision time that still counts towards the next step."""
    return now - timedelta(days=policy.ladder_window_days)


def appeal_open(decided_at: datetime, now: datetime, policy: PolicySettings) -> bool:
    """Whether an appeal may still be filed against a case decided at `decided_at`."""
    return decided_at <= now <= decided_at + timedelta(days=policy.appeal_days)


def appeal_closes(decided_at: datetime, policy: PolicySettings) -> datetime:
    """The last moment an appeal may be filed."""
    return decided_at + timedelta(days=policy.appeal_days)
