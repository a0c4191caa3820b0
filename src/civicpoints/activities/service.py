"""Use cases of activities and their rosters: publish, list, enrol, cancel. Never commits."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.activities import geo
from civicpoints.activities.errors import ActivityNotFound, ActivityState, InvalidSchedule
from civicpoints.activities.events import Joining, joining
from civicpoints.activities.models import (
    Activity,
    ActivityStatus,
    Enrollment,
    EnrollmentStatus,
    Participation,
)
from civicpoints.activities.repository import ActivityRepository
from civicpoints.activities.schemas import ActivityCreate
from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.kit.errors import Conflict, Forbidden, InvalidInput
from civicpoints.kit.schemas import refuse_implausible as _plausible
from civicpoints.regions import Level, Region, RegionService


class AlreadyEnrolled(Conflict):
    """A second enrollment of the same resident."""

    code = "activities.already_enrolled"
    messages = {"zh-CN": "您已报名此活动", "en": "you are already enrolled in this activity"}


@dataclass(frozen=True)
class Roster:
    """An activity's enrollments and each resident's record (check-in, check-out) so far."""

    activity: Activity
    enrollments: list[Enrollment]
    records: dict[uuid.UUID, Participation]

    @property
    def taken(self) -> int:
        """Places taken."""
        return sum(1 for e in self.enrollments if e.status == EnrollmentStatus.ENROLLED)


class ActivityService:
    """Activities and enrollment."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repo = ActivityRepository(session)
        self.regions = RegionService(session)

    def create(self, data: ActivityCreate, by: Principal) -> Activity:
        """Create (and by default publish) an activity for an organization the caller serves."""
        org = self.regions.organization(data.organization_id)
        region = self.regions.get(data.region_id)
        if not by.may(Role.ORGANIZER, region.path, org.id):
            raise Forbidden()
        if data.ends_at <= data.starts_at or data.ends_at - data.starts_at > timedelta(hours=24):
            raise InvalidSchedule(field="ends_at")
        fence = geo.geofence_to_dict(geo.geofence_from_dict(data.geofence))
        status = ActivityStatus.PUBLISHED if data.publish else ActivityStatus.DRAFT
        activity = Activity(
            organization_id=org.id,
            region_id=region.id,
            title=data.title,
            description=data.description,
            category=data.category,
            status=status,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            place_name=data.place_name,
            geofence=fence,
            capacity=data.capacity,
            evidence=data.evidence,
            flag_outside=data.flag_outside,
            created_by=by.id,
        )
        self.repo.add(activity)
        return activity

    def get(self, activity_id: uuid.UUID, lock: bool = False) -> Activity:
        """An activity, or 404."""
        activity = self.repo.activity(activity_id, lock)
        if activity is None:
            raise ActivityNotFound(field="activity_id")
        return activity

    def set_status(self, activity_id: uuid.UUID, status: ActivityStatus, by: Principal) -> Activity:
        """Publish or cancel an activity the caller organizes."""
        activity = self.get(activity_id)
        region = self.regions.get(activity.region_id)
        if not by.may(Role.ORGANIZER, region.path, activity.organization_id):
            raise Forbidden()
        if activity.status == ActivityStatus.CANCELLED:
            raise ActivityState(why_zh="活动已取消", why_en="the activity is cancelled")
        activity.status = status
        return activity

    def organized_by(self, by: Principal, limit: int = 100) -> list[Activity]:
        """The activities `by` organizes, latest start first (scope in SQL)."""
        return list(self.repo.organized(by, limit))

    def organized(self, activity_id: uuid.UUID, by: Principal) -> Activity:
        """An activity `by` organizes; anyone else's reads as not found."""
        activity = self.repo.activity(activity_id)
        region = self.regions.get(activity.region_id) if activity else None
        if activity is None or region is None:
            raise ActivityNotFound(field="activity_id")
        if not by.may(Role.ORGANIZER, region.path, activity.organization_id):
            raise ActivityNotFound(field="activity_id")
        return activity

    def roster(self, activity_id: uuid.UUID, by: Principal) -> Roster:
        """Who enrolled on an activity `by` organizes, and who has checked in or out."""
        activity = self.organized(activity_id, by)
        records = {p.resident_id: p for p in self.repo.participations(activity.id)}
        return Roster(activity, list(self.repo.enrollments(activity.id)), records)

    def page(
        self,
        limit: int,
        cursor: str | None,
        category: str | None = None,
        status: str | None = ActivityStatus.PUBLISHED,
        ends_after: datetime | None = None,
    ) -> tuple[list[Activity], str | None]:
        """A page of activities ordered by start, with the cursor of the next page."""
        rows = list(
            self.repo.list_activities(
                status, category, _decode_cursor(cursor), limit + 1, ends_after
            )
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (_encode_cursor(rows[-1]) if more else None)

    def enroll(
        self, activity_id: uuid.UUID, resident_id: uuid.UUID, now: datetime | None = None
    ) -> Enrollment:
        """Take a place, or a waitlist position when the activity is full."""
        activity = self.get(activity_id, lock=True)  # serializes enrollments against capacity
        _require_open(activity, now or utcnow())
        if activity.team_id is not None:  # a team challenge: members only (community decides)
            joining.ask(self.session, Joining(activity.id, activity.team_id, resident_id))
        existing = self.repo.enrollment(activity_id, resident_id)
        if existing is not None and existing.status != EnrollmentStatus.CANCELLED:
            raise AlreadyEnrolled()
        full = self.repo.count_enrolled(activity_id) >= activity.capacity
        status = EnrollmentStatus.WAITLISTED if full else EnrollmentStatus.ENROLLED
        if existing is not None:
            existing.status, existing.cancelled_at, existing.created_at = status, None, utcnow()
            return existing
        enrollment = Enrollment(activity_id=activity_id, resident_id=resident_id, status=status)
        self.repo.add(enrollment)
        return enrollment

    def make_team_challenge(self, activity_id: uuid.UUID, team_id: uuid.UUID) -> Activity:
        """Send an activity's points to a team's pool (the caller checked the staff and the
        team). Refused once anyone has enrolled or been recorded: their points are decided
        for their own wallets, and a challenge is for the team's members only."""
        activity = self.get(activity_id, lock=True)
        if activity.team_id == team_id:
            return activity
        if activity.team_id is not None or self.repo.has_people(activity_id):
            raise ActivityState(
                why_zh="活动已有报名或服务记录（或已是积分挑战赛），不能再改为团队挑战",
                why_en="the activity already has enrolments or records (or is a team challenge)",
            )
        activity.team_id = team_id
        self.session.flush()
        return activity

    def cancel_enrollment(self, activity_id: uuid.UUID, resident_id: uuid.UUID) -> Enrollment:
        """Give up a place; the first on the waitlist moves up."""
        activity = self.get(activity_id, lock=True)
        enrollment = self.repo.enrollment(activity_id, resident_id)
        if enrollment is None or enrollment.status == EnrollmentStatus.CANCELLED:
            raise ActivityState(why_zh="您没有报名此活动", why_en="you are not enrolled")
        was_enrolled = enrollment.status == EnrollmentStatus.ENROLLED
        enrollment.status, enrollment.cancelled_at = EnrollmentStatus.CANCELLED, utcnow()
        self.session.flush()
        if was_enrolled and (nxt := self.repo.first_waitlisted(activity.id)):
            nxt.status = EnrollmentStatus.ENROLLED
        return enrollment

    def enrollment(self, activity_id: uuid.UUID, resident_id: uuid.UUID) -> Enrollment | None:
        """A resident's enrollment on an activity."""
        return self.repo.enrollment(activity_id, resident_id)

    def counts_by_category(self, since: datetime, until: datetime) -> dict[str, int]:
        """Approved participations in activities that started in [since, until), by category."""
        return {str(k): n for k, n in self.repo.counts_by("category", since, until).items()}

    def counts_by_street(self, since: datetime, until: datetime) -> list[tuple[Region, int]]:
        """The same, by street (an activity above street level counts under its own region),
        in the tree's order."""
        totals: dict[uuid.UUID, int] = {}
        streets: dict[uuid.UUID, Region] = {}
        for region_id, n in self.repo.counts_by("region_id", since, until).items():
            assert isinstance(region_id, uuid.UUID)
            chain = self.regions.ancestry(self.regions.get(region_id))
            street = next((r for r in chain if r.level == Level.STREET), chain[0])
            streets[street.id] = street
            totals[street.id] = totals.get(street.id, 0) + n
        return [(r, totals[r.id]) for r in sorted(streets.values(), key=lambda r: r.path)]


def _require_open(activity: Activity, now: datetime) -> None:
    """Enrollment is possible on a published activity that has not ended."""
    if activity.status != ActivityStatus.PUBLISHED:
        raise ActivityState(why_zh="活动未发布或已取消", why_en="the activity is not open")
    if as_utc(activity.ends_at) <= now:
        raise ActivityState(why_zh="活动已结束", why_en="the activity has ended")


def _encode_cursor(activity: Activity) -> str:
    """An opaque keyset cursor."""
    raw = f"{as_utc(activity.starts_at).isoformat()}|{activity.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """Parse a cursor made by `_encode_cursor`, or refuse it by name."""
    if not cursor:
        return None
    try:
        at, last = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        when = _plausible(datetime.fromisoformat(at))  # year 1 at +14:00 overflowed in SQL
        if when.tzinfo is None:
            raise ValueError("naive cursor time")
        return when, uuid.UUID(last)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(
            field="cursor",
            field_zh="分页游标",
            field_en="cursor",
            reason_zh="无法识别",
            reason_en="not recognized",
        ) from None
