"""刷积分 in the city's year, as the reviewers and the fraud desk leave it. One app record in
FLAG_EVERY carries risk signals (a fraud type's, `fraud.evaluation.EXPECTED`, or an honest
record's that only looked doubtful), its risk the score `fraud.assess` gives under the policy
in force. In turn such a record is: approved and found false later — a signal reaching back
(`RecordRisk.spread`) puts it on the recheck list, then the city's auditor takes it back
(`FraudDesk.claw_back`: revoked, its award clawed back by `debts.py`, its minutes out of the
register by a correction, a `clawback` case), or it still waits today; refused as fraud by
the reviewer (`OfflineService.decide(fraud=True)`: rejected, no hours, no points, a
`rejection` case); cleared on review, twice. A turn that cannot happen to the record (a
record approved too lately to be found out yet, a resident with a case already: one case
each, so each case is the ladder's first step, `fraud.ladder.step`: a warning) waits for the
next flagged record. Every share is a systematic sample of a worker's app records, so a small
city has its cases too (the test city: two of each)."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from civicpoints.fraud import Outcome, PolicySettings, assess
from civicpoints.fraud.ladder import step

FLAG_EVERY = 400  # one app record in 400 flagged (0.25 %; 0.19 % of all records)
TURNS = ("clawed", "rejected", "cleared", "cleared")
CLEARED = (
    ("photo_time_mismatch",),
    ("photo_far_from_site",),
    ("implausible_accuracy", "photo_edited"),
)
CLEARED_REASON = "复核通过：经核实信号无异常 / cleared on review: the signals were explained"
REJECTED = (
    (("photo_reused",), "照片与他人记录重复，虚假记录 / the photo is another record's: false"),
    (("photo_far_from_site",), "照片不在活动现场拍摄，虚假记录 / the photo was taken elsewhere"),
    (("impossible_travel",), "GPS 轨迹显示不可能在场 / the GPS track could not have been there"),
)
CLAWED = (
    (("shared_device",), "同一设备为多个账号签到 / one device checked in for several accounts"),
    (("photo_near_duplicate",), "上传虚假照片，经比对发现 / a fake photo, found by comparison"),
)
SPREAD_DAYS = (3, 45)  # after approval, the later signal reaches back to the record
CLAW_DAYS = (1, 10)  # after that, the auditor takes the record back
CLAWBACK_REASON = "经核查不属实，追回积分 / found false, taken back: "  # Clawbacks.claw_back's


@dataclass(frozen=True)
class Verdict:
    """What happened to a flagged record."""

    turn: str  # cleared, rejected, clawed or recheck (waiting for its second look today)
    codes: tuple[str, ...]
    risk: int
    reason: str
    flagged_at: datetime | None = None  # recheck_at: when the later signal came
    clawed_at: datetime | None = None


class Fraud:
    """One worker's flagged records, their cases and corrections."""

    def __init__(self, worker: int, policy: PolicySettings, new_id: Callable[[], uuid.UUID]):
        self.rng = random.Random(1_000 + worker)
        self.policy, self.new_id = policy, new_id
        self.seen = FLAG_EVERY // 2  # the first flagged record comes half-way into the first 400
        self.turns = 0

    def verdict(
        self, offline: bool, reviewed: datetime, cased: bool, now: datetime
    ) -> Verdict | None:
        """A record's fate at review and after (None: an ordinary record)."""
        if offline:  # paper slips: entered by staff, reviewed as a routine
            return None
        self.seen += 1
        if self.seen % FLAG_EVERY:
            return None
        turn = TURNS[self.turns % len(TURNS)]
        if cased and turn != "cleared":  # one case a resident: the turn waits
            return self._verdict("cleared", self.rng.choice(CLEARED), CLEARED_REASON)
        if turn == "clawed":
            flagged = reviewed + timedelta(days=self.rng.uniform(*SPREAD_DAYS))
            clawed = flagged + timedelta(days=self.rng.uniform(*CLAW_DAYS))
            if flagged >= now:
                return None  # not found out yet: the turn waits
        self.turns += 1
        if turn == "cleared":
            return self._verdict(turn, self.rng.choice(CLEARED), CLEARED_REASON)
        if turn == "rejected":
            return self._verdict(turn, *self.rng.choice(REJECTED))
        codes, reason = self.rng.choice(CLAWED)
        turn = "clawed" if clawed < now else "recheck"
        return self._verdict(turn, codes, reason, flagged, clawed)

    def _verdict(self, turn: str, codes: tuple[str, ...], reason: str, *at: datetime) -> Verdict:
        verdict = assess(codes, self.policy)
        assert verdict.outcome == Outcome.REVIEW, codes  # sent to a reviewer, not refused
        return Verdict(turn, verdict.codes, verdict.score, reason, *at)

    def case(
        self,
        v: Verdict,
        rid: uuid.UUID,
        pid: uuid.UUID,
        where: tuple[uuid.UUID, uuid.UUID],
        by: uuid.UUID,
        at: datetime,
        taken: tuple[Any, int, int, int] = (None, 0, 0, 0),
    ) -> tuple:
        """The `fraud_case` row as `CaseService.confirm` writes it (`where`: the activity's
        region and organization; `taken`: clawback id, points taken, debt, minutes removed)."""
        s = step(0, at, self.policy)
        kind = "rejection" if v.turn == "rejected" else "clawback"
        clawback_id, points, debt, minutes = taken
        return (
            self.new_id(), rid, pid, where[0], where[1], kind, v.reason, json.dumps(list(v.codes)),
            points, debt, minutes, str(s.sanction), s.suspended_until, s.credit_record, by, at,
            clawback_id,
        )  # fmt: skip

    def correction(
        self,
        v: Verdict,
        rid: uuid.UUID,
        pid: uuid.UUID,
        hours: tuple[str, Any, int],
        actor: str,
        now: datetime,
    ) -> tuple:
        """The `hours_correction` taking the record's minutes out (`HoursService.correct`;
        `hours`: its category, day served and minutes)."""
        category, served_on, minutes = hours
        return (self.new_id(), pid, 1, rid, "correct", category, served_on, -minutes, v.reason,
                actor, now)  # fmt: skip
