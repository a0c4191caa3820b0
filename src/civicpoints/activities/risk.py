"""A record's risk signals, gathered as it happens: positions at check-in and check-out,
and at settling the patterns across the resident's records (overlaps, bursts). The signals
are the fraud domain's; this module says which record and keeps the words on it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

from sqlalchemy.orm import Session

from civicpoints.activities.models import Activity, Participation, RecordStatus
from civicpoints.activities.repository import ActivityRepository
from civicpoints.fraud import (
    Assessment,
    Outcome,
    PolicySettings,
    Report,
    RiskService,
    Signal,
    Span,
    burst_signal,
    overlap_signal,
)
from civicpoints.kit.clock import as_utc, local_date, utcnow
from civicpoints.kit.context import Context

HISTORY = timedelta(days=30)  # the resident's and peers' usual day is read over this
SHARED_DEVICE = "shared_device"
# Records already found false need no new signal: nothing more is decided on them.
_SETTLED_AGAINST = frozenset({RecordStatus.REJECTED, RecordStatus.REVOKED})


def note(record: Participation, signals: Iterable[Signal]) -> None:
    """Add signals to a record: their codes as flags, their words as the flags' notes."""
    found = list(signals)
    if not found:
        return
    record.flags = sorted({*(record.flags or []), *(s.code for s in found)})
    record.flag_notes = {
        **(record.flag_notes or {}),
        **{s.code: {"zh-CN": s.zh, "en": s.en} for s in found},
    }


class RecordRisk:
    """Gathers a record's signals."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.repo = ActivityRepository(session)
        self.risk = RiskService(session, ctx)

    def position(
        self, record: Participation, kind: str, report: Report, policy: PolicySettings
    ) -> Signal | None:
        """The signals of a position reported for `record` (kept for the next one); the
        shared_device signal, if the phone has now served too many accounts."""
        signals = self.risk.position(record.resident_id, record.id, kind, report, policy)
        note(record, signals)
        return next((s for s in signals if s.code == SHARED_DEVICE), None)

    def spread(
        self,
        record: Participation,
        signal: Signal,
        device: str | None,
        reweigh: Callable[[Participation], Assessment],
    ) -> list[Participation]:
        """A device just shown to serve too many accounts taints what it reported before:
        every other record from it gets the signal and is weighed again. One still open
        goes to review when it settles; one already approved, now risky, waits for a second
        look (`recheck_at`: the reviewers' recheck list, where it can be clawed back).
        Returns the records changed."""
        changed = []
        ids = self.risk.records_on_device(device, record.id)
        # Only records still without the signal are locked (read first, then locked and read
        # again): after the crossing there are none, so later check-ins from the same phone
        # never wait on each other's records.
        todo = [o.id for o in self.repo.participations_by_id(ids) if _open_to(signal, o)]
        for other in self.repo.participations_by_id(todo, lock=True):
            if not _open_to(signal, other):
                continue
            note(other, [signal])
            verdict = reweigh(other)
            if other.status == RecordStatus.APPROVED and verdict.outcome != Outcome.APPROVE:
                other.recheck_at = utcnow()
            changed.append(other)
        return changed

    def patterns(self, record: Participation, activity: Activity, policy: PolicySettings) -> None:
        """Overlaps with the resident's other records, and a burst of records in one day."""
        own = _span(record, activity)
        if own is None:
            return
        others = [
            s
            for other, act in self.repo.near_in_time(record, own.starts - HISTORY, own.ends)
            if (s := _span(other, act)) is not None
        ]
        signals = [
            overlap_signal(own, others, policy),
            self._burst(record, own, others, activity, policy),
        ]
        note(record, [s for s in signals if s is not None])

    def _burst(
        self,
        record: Participation,
        own: Span,
        others: list[Span],
        activity: Activity,
        policy: PolicySettings,
    ) -> Signal | None:
        """award_burst: today's records against the resident's and their peers' usual day."""
        day = local_date(own.ends)
        per_day: dict[object, int] = {}
        for span in others:
            d = local_date(span.ends)
            per_day[d] = per_day.get(d, 0) + 1
        today = per_day.pop(day, 0) + 1
        peers = self.repo.records_per_resident_day(
            activity.region_id, own.ends - HISTORY, own.ends, record.resident_id
        )
        return burst_signal(today, list(per_day.values()), peers, policy)


def _open_to(signal: Signal, record: Participation) -> bool:
    """Whether a record may still take the signal: not carrying it, not found false."""
    return signal.code not in (record.flags or []) and record.status not in _SETTLED_AGAINST


def _span(record: Participation, activity: Activity) -> Span | None:
    """When the record says the resident served (its credited span, else its check-in to the
    activity's end); None before any time is known."""
    starts = record.started_at or record.checkin_at
    ends = record.ended_at or (activity.ends_at if starts else None)
    if starts is None or ends is None:
        return None
    return Span(as_utc(starts), max(as_utc(ends), as_utc(starts)))
