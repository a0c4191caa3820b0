"""Participation records: check-in/out, photo evidence, offline entry, review, award.

A record is approved when nothing is doubtful; then its real duration goes to the hours
register and, for a verified resident, points are decided by scoring. Never commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from civicpoints.activities import geo
from civicpoints.activities.education import EducationCredit
from civicpoints.activities.errors import (
    AlreadyRecorded,
    NotEnrolled,
    OutsideGeofence,
    OutsideTimeWindow,
    ParticipationNotFound,
)
from civicpoints.activities.models import (
    Activity,
    EnrollmentStatus,
    Participation,
    RecordStatus,
    Source,
)
from civicpoints.activities.repository import ActivityRepository
from civicpoints.activities.risk import RecordRisk
from civicpoints.activities.service import ActivityService
from civicpoints.activities.spans import attendance_window
from civicpoints.activities.venue import note_venue_code
from civicpoints.fraud import (
    Assessment,
    CaseService,
    Outcome,
    PolicyService,
    PolicySettings,
    Report,
    assess,
    readings,
)
from civicpoints.hours import HoursService
from civicpoints.identity import IdentityService, may_process, require_consent
from civicpoints.kit import months
from civicpoints.kit.clock import BUSINESS_TZ, as_utc, local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.ledger import team_pool_of
from civicpoints.regions import RegionService
from civicpoints.scoring import (
    AwardRequest,
    AwardRow,
    Category,
    Facts,
    PastParticipation,
    ScoringService,
    presence_shortfall,
)

# GPS on phones is good to ~20 m outdoors; tolerate that much beyond the drawn area.
GPS_TOLERANCE_M = 30.0
# The reason kept on a record the risk policy refused without a reviewer (its signals say why).
_REFUSED = "风险过高，系统自动驳回 / refused automatically: the risk is too high"


@dataclass(frozen=True)
class Phone:
    """What the phone says besides the position: its accuracy, its (random) device id, and at
    check-in the venue code (签到码) the resident typed, if any."""

    accuracy_m: float | None = None
    device: str | None = None
    venue_code: str | None = None


class RecordService:
    """The life of a participation record."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.session, self.ctx = session, ctx
        self.repo = ActivityRepository(session)
        self.activities = ActivityService(session)

    # -- app check-in / check-out ------------------------------------------------------

    def check_in(
        self,
        activity_id: uuid.UUID,
        resident_id: uuid.UUID,
        lat: float,
        lon: float,
        now: datetime,
        phone: Phone | None = None,
    ) -> Participation:
        """Check in on site: inside the area and the window, or a record flagged for review;
        the position's own risk signals (travel, accuracy, shared spot or device) noted, and
        the venue code's trust if the phone gave the code on the organizer's screen."""
        lat, lon = geo.validate_point(lat, lon)
        require_consent(IdentityService(self.session, self.ctx).resident(resident_id))
        CaseService(self.session).require_may_earn(resident_id, now)
        activity = self.activities.get(activity_id)
        enrollment = self.activities.enrollment(activity_id, resident_id)
        if enrollment is None or enrollment.status != EnrollmentStatus.ENROLLED:
            raise NotEnrolled(field="activity_id")
        if self.repo.participation_of(activity_id, resident_id) is not None:
            raise AlreadyRecorded(
                field="activity_id",
                what_zh="您已签到过此活动",
                what_en="you have already checked in to this activity",
            )
        flags = self._where_and_when(activity, lat, lon, now, "checkin")
        record = Participation(
            activity_id=activity_id,
            resident_id=resident_id,
            source=Source.APP,
            status=RecordStatus.CHECKED_IN,
            checkin_at=now,
            checkin_lat=lat,
            checkin_lon=lon,
            checkin_inside="outside_geofence" not in flags,
            flags=flags,
        )
        self.repo.add(record)
        self._observe(record, activity, "checkin", lat, lon, now, phone)
        code, step = phone.venue_code if phone else None, self.ctx.settings.venue_code_step_s
        note_venue_code(record, activity, code, now, step)
        return record

    def check_out(
        self,
        activity_id: uuid.UUID,
        resident_id: uuid.UUID,
        lat: float,
        lon: float,
        now: datetime,
        actor: str,
        phone: Phone | None = None,
    ) -> Participation:
        """Check out; the credited span is the part of the stay inside the activity's time."""
        lat, lon = geo.validate_point(lat, lon)
        activity = self.activities.get(activity_id)
        record = self.repo.participation_of(activity_id, resident_id)
        if record is None:
            raise NotEnrolled(field="activity_id")
        if record.checkout_at is not None:
            return record  # a retried check-out changes nothing
        flags = self._where_and_when(activity, lat, lon, now, "checkout")
        record.flags = sorted({*record.flags, *(f"checkout_{f}" for f in flags)})
        record.checkout_at, record.checkout_lat, record.checkout_lon = now, lat, lon
        record.started_at = max(as_utc(record.checkin_at or now), as_utc(activity.starts_at))
        record.ended_at = max(min(now, as_utc(activity.ends_at)), record.started_at)
        self._observe(record, activity, "checkout", lat, lon, now, phone)
        self.settle(record, activity, actor)
        return record

    def _observe(
        self,
        record: Participation,
        activity: Activity,
        kind: str,
        lat: float,
        lon: float,
        now: datetime,
        phone: Phone | None,
    ) -> None:
        """Note the risk signals of a reported position and keep it for the next check."""
        phone = phone or Phone()
        report = Report(now, lat, lon, phone.accuracy_m, phone.device)
        risk = RecordRisk(self.session, self.ctx)
        farm = risk.position(record, kind, report, self.policy(activity))
        if farm is not None:
            risk.spread(record, farm, phone.device, self._reweigh)

    def _reweigh(self, record: Participation) -> Assessment:
        """rescore, for a record whose activity is not at hand."""
        return self.rescore(record, self.activities.get(record.activity_id))

    def _where_and_when(
        self, activity: Activity, lat: float, lon: float, now: datetime, action: str
    ) -> list[str]:
        """Flags for a position/time outside the activity, or the error if it may not flag."""
        flags: list[str] = []
        fence = geo.geofence_from_dict(activity.geofence)
        # A phone may hand over GCJ-02 (Chinese map SDKs), about 500 m off: either reading
        # inside counts as inside (docs/fraud.md, "Positions and GCJ-02").
        if not any(geo.contains(fence, y, x, GPS_TOLERANCE_M) for y, x in readings(lat, lon)):
            if not activity.flag_outside:
                raise OutsideGeofence(
                    field="lat", distance=_distance(fence, lat, lon), place=activity.place_name
                )
            flags.append("outside_geofence")
        opens, closes = attendance_window(activity, action)
        if not opens <= now <= closes:
            if not activity.flag_outside:
                raise _time_error(action, opens, closes)
            flags.append("outside_time_window")
        return flags

    # -- settling: review, evidence, approval, award -----------------------------------

    def settle(self, record: Participation, activity: Activity, actor: str) -> None:
        """Move a finished record on, as its risk decides: refused, to review, to wait for a
        photo, or approved."""
        self.note_presence(record, activity)
        RecordRisk(self.session, self.ctx).patterns(record, activity, self.policy(activity))
        verdict = self.rescore(record, activity)
        if verdict.outcome == Outcome.REFUSE:
            record.status = RecordStatus.REJECTED
            record.review_reason = _REFUSED
        elif verdict.outcome == Outcome.REVIEW:
            record.status = RecordStatus.PENDING_REVIEW
        elif activity.evidence != "none" and not self.repo.evidence(record.id):
            record.status = RecordStatus.AWAITING_EVIDENCE
        else:
            self.approve(record, activity, actor)

    def rescore(self, record: Participation, activity: Activity) -> Assessment:
        """Weigh the record's signals under the risk policy in force; keep the score."""
        verdict = assess(record.flags, self.policy(activity))
        record.risk = verdict.score
        return verdict

    def policy(self, activity: Activity) -> PolicySettings:
        """The risk policy in force today where the activity takes place (a record is weighed
        by the policy of the day it is assessed, as a reviewer would judge it that day)."""
        today = local_date(utcnow())
        return PolicyService(self.session).in_force(self.ancestry(activity), today)[1]

    def note_presence(self, record: Participation, activity: Activity) -> None:
        """Flag a stay shorter than the rules in force ask, with the reason in zh-CN and en."""
        on = local_date(record.ended_at or activity.ends_at)
        _, rule_set = ScoringService(self.session).rules_for(self.ancestry(activity), on)
        scheduled = _span_minutes(activity.starts_at, activity.ends_at)
        category = Category(activity.category)
        short = presence_shortfall(rule_set, category, _minutes(record), scheduled)
        if short is not None:
            record.flags = sorted({*record.flags, "presence_too_short"})
            record.flag_notes = {
                **(record.flag_notes or {}),
                "presence_too_short": short.explanation,
            }

    def ancestry(self, activity: Activity) -> list[uuid.UUID]:
        """The activity's region and its ancestors, most specific first."""
        regions = RegionService(self.session)
        return [r.id for r in regions.ancestry(regions.get(activity.region_id))]

    def approve(self, record: Participation, activity: Activity, actor: str) -> None:
        """Approve: hours always; points now if the resident is verified, else once they are."""
        record.status = RecordStatus.APPROVED
        self.session.flush()
        HoursService(self.session).record(
            record.resident_id,
            record.id,
            activity.category,
            _minutes(record),
            local_date(record.ended_at or record.started_at or activity.ends_at),
        )
        resident = IdentityService(self.session, self.ctx).resident(record.resident_id)
        if may_process(resident):  # verified, consent in force; else decided once they are
            self.award(record, activity, actor)

    def award(self, record: Participation, activity: Activity, actor: str) -> AwardRow:
        """Ask scoring for the points of an approved record (once)."""
        suspended = CaseService(self.session).suspended_until(record.resident_id, utcnow())
        facts = record_facts(
            record, activity, bool(self.repo.evidence(record.id)), suspended is not None
        )
        occurred = record.ended_at or activity.ends_at
        team = activity.team_id  # a team challenge: the team's pool and cap, not the wallet's
        education = EducationCredit(self.session, self.ctx)
        # 教育积分 (a guardian's choice on a 教育支持 activity), else the wallet
        child_id = None if team is not None else education.destination(record.resident_id, activity)
        award = ScoringService(self.session).award(
            AwardRequest(
                participation_id=record.id,
                resident_id=record.resident_id,
                wallet=team_pool_of(team)
                if team
                else education.wallet(record.resident_id, child_id),
                region_ids=self.ancestry(activity),
                facts=facts,
                occurred_at=as_utc(occurred),
                actor=actor,
                team_id=team,
            )
        )
        if child_id is not None:
            guardian = IdentityService(self.session, self.ctx).resident(record.resident_id)
            education.carry_on(award, guardian, child_id, actor)
        return award

    def past_month(self, first: date) -> list[PastParticipation]:
        """The approved records whose service ended in the Beijing month starting `first`,
        with the facts scoring decided them on (for a rule set's preview)."""
        since, until = months.bounds(first)
        ancestry: dict[uuid.UUID, list[uuid.UUID]] = {}
        past = []
        for record, activity, photo in self.repo.approved_ending(since, until):
            if activity.region_id not in ancestry:
                ancestry[activity.region_id] = self.ancestry(activity)
            ended = as_utc(record.ended_at or activity.ends_at)
            past.append(
                PastParticipation(
                    participation_id=record.id,
                    resident_id=record.resident_id,
                    region_ids=ancestry[activity.region_id],
                    on=local_date(ended),
                    order=(ended, record.id),
                    facts=record_facts(record, activity, photo),
                )
            )
        return past

    def release_deferred(self, resident_id: uuid.UUID, actor: str) -> list[AwardRow]:
        """After verification, decide the points of records approved while unverified."""
        scoring = ScoringService(self.session)
        pending = self.repo.approved_without_award(resident_id, set())
        decided = scoring.awards_of([p.id for p in pending])
        todo = sorted(
            (p for p in pending if p.id not in decided),
            key=lambda p: as_utc(p.ended_at or p.created_at),
        )
        return [self.award(p, self.activities.get(p.activity_id), actor) for p in todo]

    def of_resident(self, resident_id: uuid.UUID, limit: int) -> Sequence[Participation]:
        """A resident's records, newest first."""
        return self.repo.resident_records(resident_id, limit)

    def own(self, participation_id: uuid.UUID, resident_id: uuid.UUID) -> Participation:
        """One of the resident's own records; anyone else's is 404, as if it did not exist."""
        record = self.repo.participation(participation_id)
        if record is None or record.resident_id != resident_id:
            raise ParticipationNotFound(field="participation_id")
        return record

    def own_at(self, activity_id: uuid.UUID, resident_id: uuid.UUID) -> Participation:
        """The resident's record at an activity, or NotEnrolled (as check-out says)."""
        record = self.repo.participation_of(activity_id, resident_id)
        if record is None:
            raise NotEnrolled(field="activity_id")
        return record

    def get(self, participation_id: uuid.UUID, lock: bool = False) -> Participation:
        """A record, or 404."""
        record = self.repo.participation(participation_id, lock)
        if record is None:
            raise ParticipationNotFound(field="participation_id")
        return record


def record_facts(
    record: Participation, activity: Activity, photo: bool, suspended: bool = False
) -> Facts:
    """What scoring decides a record on; staff-entered or reviewed records count as attested.
    Public: the policy simulator (insights) replays past awards on the same facts."""
    staff_attested = record.source != Source.APP or record.reviewed_by is not None
    return Facts(
        category=Category(activity.category),
        minutes=_minutes(record),
        photo=photo or staff_attested,
        gps_verified=bool(record.checkin_inside) or staff_attested,
        suspended=suspended,
        team=activity.team_id is not None,
    )


def _minutes(record: Participation) -> int:
    """Whole minutes between the credited start and end."""
    if record.started_at is None or record.ended_at is None:
        return 0
    return _span_minutes(record.started_at, record.ended_at)


def _span_minutes(start: datetime, end: datetime) -> int:
    """Whole minutes from `start` to `end` (0 if `end` comes first)."""
    return max(int((as_utc(end) - as_utc(start)).total_seconds() // 60), 0)


def _time_error(action: str, opens: datetime, closes: datetime) -> OutsideTimeWindow:
    """The error for a check-in/out at the wrong time, in Beijing time."""
    fmt = "%Y-%m-%d %H:%M"
    zh, en = ("签到", "check in") if action == "checkin" else ("签退", "check out")
    return OutsideTimeWindow(
        field="time",
        action_zh=zh,
        action_en=en,
        opens=opens.astimezone(BUSINESS_TZ).strftime(fmt),
        closes=closes.astimezone(BUSINESS_TZ).strftime(fmt),
    )


def _distance(fence: geo.Geofence, lat: float, lon: float) -> int:
    """Rounded distance to the fence's centre (circle) or first point (polygon), in metres."""
    c_lat, c_lon = (fence.lat, fence.lon) if isinstance(fence, geo.Circle) else fence.points[0]
    return round(geo.distance_m(lat, lon, c_lat, c_lon))
