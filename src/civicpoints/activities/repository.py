"""All SQL of the activities domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role, scope_clause
from civicpoints.activities.models import (
    Activity,
    Enrollment,
    EnrollmentStatus,
    Evidence,
    Participation,
    RecordStatus,
)
from civicpoints.kit.clock import local_date
from civicpoints.regions import path_of


class ActivityRepository:
    """Activities, rosters, records and evidence; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        """Stage and flush a row."""
        self.session.add(row)
        self.session.flush()

    def activity(self, activity_id: uuid.UUID, lock: bool = False) -> Activity | None:
        """An activity, optionally locked (enrollment counts against capacity)."""
        stmt = select(Activity).where(Activity.id == activity_id)
        return self.session.scalars(stmt.with_for_update() if lock else stmt).one_or_none()

    def list_activities(
        self,
        status: str | None,
        category: str | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
        ends_after: datetime | None,
    ) -> Sequence[Activity]:
        """Activities by start time then id, after a keyset cursor."""
        stmt = select(Activity)
        if status:
            stmt = stmt.where(Activity.status == status)
        if category:
            stmt = stmt.where(Activity.category == category)
        if ends_after:
            stmt = stmt.where(Activity.ends_at > ends_after)
        if after:
            at, last_id = after
            stmt = stmt.where(
                (Activity.starts_at > at) | ((Activity.starts_at == at) & (Activity.id > last_id))
            )
        return self.session.scalars(
            stmt.order_by(Activity.starts_at, Activity.id).limit(limit)
        ).all()

    def enrollment(self, activity_id: uuid.UUID, resident_id: uuid.UUID) -> Enrollment | None:
        """A resident's enrollment on an activity."""
        stmt = select(Enrollment).where(
            Enrollment.activity_id == activity_id, Enrollment.resident_id == resident_id
        )
        return self.session.scalars(stmt).one_or_none()

    def count_enrolled(self, activity_id: uuid.UUID) -> int:
        """Places taken."""
        stmt = select(func.count()).where(
            Enrollment.activity_id == activity_id, Enrollment.status == EnrollmentStatus.ENROLLED
        )
        return int(self.session.scalar(stmt) or 0)

    def has_people(self, activity_id: uuid.UUID) -> bool:
        """Whether anyone ever enrolled on, or has a record at, the activity."""
        enrolled = select(Enrollment.id).where(Enrollment.activity_id == activity_id).limit(1)
        recorded = select(Participation.id).where(Participation.activity_id == activity_id)
        return (
            self.session.scalar(enrolled) is not None
            or self.session.scalar(recorded.limit(1)) is not None
        )

    def count_enrolled_many(self, activity_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Places taken on each of several activities (absent: none)."""
        stmt = (
            select(Enrollment.activity_id, func.count())
            .where(
                Enrollment.activity_id.in_(activity_ids),
                Enrollment.status == EnrollmentStatus.ENROLLED,
            )
            .group_by(Enrollment.activity_id)
        )
        return {a: int(n) for a, n in self.session.execute(stmt).all()}

    def enrollments_of(
        self, resident_id: uuid.UUID, activity_ids: Sequence[uuid.UUID]
    ) -> Sequence[Enrollment]:
        """A resident's enrollments on several activities."""
        stmt = select(Enrollment).where(
            Enrollment.resident_id == resident_id, Enrollment.activity_id.in_(activity_ids)
        )
        return self.session.scalars(stmt).all()

    def waitlisted_before(self, enrollment: Enrollment) -> int:
        """How many on the same waitlist have waited longer than `enrollment`."""
        at, mine = enrollment.created_at, enrollment.id
        stmt = select(func.count()).where(
            Enrollment.activity_id == enrollment.activity_id,
            Enrollment.status == EnrollmentStatus.WAITLISTED,
            (Enrollment.created_at < at) | ((Enrollment.created_at == at) & (Enrollment.id < mine)),
        )
        return int(self.session.scalar(stmt) or 0)

    def activities(self, activity_ids: Sequence[uuid.UUID]) -> Sequence[Activity]:
        """Several activities by id."""
        return self.session.scalars(select(Activity).where(Activity.id.in_(activity_ids))).all()

    def first_waitlisted(self, activity_id: uuid.UUID) -> Enrollment | None:
        """The longest-waiting resident on the waitlist."""
        stmt = (
            select(Enrollment)
            .where(
                Enrollment.activity_id == activity_id,
                Enrollment.status == EnrollmentStatus.WAITLISTED,
            )
            .order_by(Enrollment.created_at, Enrollment.id)
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def participation(
        self, participation_id: uuid.UUID, lock: bool = False
    ) -> Participation | None:
        """A participation record."""
        stmt = select(Participation).where(Participation.id == participation_id)
        return self.session.scalars(stmt.with_for_update() if lock else stmt).one_or_none()

    def participations_by_id(
        self, participation_ids: Sequence[uuid.UUID], lock: bool = False
    ) -> Sequence[Participation]:
        """Several records, in id order (the order locks are taken in, so two writers
        locking overlapping sets never wait on each other in a circle)."""
        if not participation_ids:
            return []
        stmt = (
            select(Participation)
            .where(Participation.id.in_(participation_ids))
            .order_by(Participation.id)
        )
        if lock:  # what a lock guards is read afresh, not taken from the session's memory
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return self.session.scalars(stmt).all()

    def participation_of(
        self, activity_id: uuid.UUID, resident_id: uuid.UUID, lock: bool = True
    ) -> Participation | None:
        """The record of a resident at an activity (locked unless only read)."""
        stmt = select(Participation).where(
            Participation.activity_id == activity_id, Participation.resident_id == resident_id
        )
        return self.session.scalars(stmt.with_for_update() if lock else stmt).one_or_none()

    def by_slip(self, organization_id: uuid.UUID, slip_no: str) -> Participation | None:
        """The record made from a paper slip of an organization (slip numbers are its own)."""
        stmt = select(Participation).where(
            Participation.organization_id == organization_id, Participation.slip_no == slip_no
        )
        return self.session.scalars(stmt).one_or_none()

    def assessed_between(
        self, since: datetime, until: datetime, region_path: str | None
    ) -> Sequence[list[str]]:
        """The signal codes of records assessed in [since, until), in a region subtree."""
        stmt = (
            select(Participation.flags)
            .join(Activity, Activity.id == Participation.activity_id)
            .where(
                Participation.created_at >= since,
                Participation.created_at < until,
                Participation.status != RecordStatus.CHECKED_IN,
            )
        )
        if region_path is not None:
            stmt = stmt.where(path_of(Activity.region_id).startswith(region_path, autoescape=True))
        return [list(flags or []) for flags in self.session.scalars(stmt).all()]

    def near_in_time(
        self, record: Participation, since: datetime, until: datetime
    ) -> Sequence[tuple[Participation, Activity]]:
        """The resident's other standing records that began in [since, until]."""
        began = func.coalesce(Participation.started_at, Participation.checkin_at)
        stmt = (
            select(Participation, Activity)
            .join(Activity, Activity.id == Participation.activity_id)
            .where(
                Participation.resident_id == record.resident_id,
                Participation.id != record.id,
                Participation.status.not_in((RecordStatus.REJECTED, RecordStatus.REVOKED)),
                began >= since,
                began <= until,
            )
        )
        return [(p, a) for p, a in self.session.execute(stmt).all()]

    def records_per_resident_day(
        self, region_id: uuid.UUID, since: datetime, until: datetime, but: uuid.UUID
    ) -> list[int]:
        """For the other residents with records at activities of one region in [since, until),
        how many records each had on each Beijing day they had any."""
        stmt = (
            select(Participation.resident_id, Participation.ended_at)
            .join(Activity, Activity.id == Participation.activity_id)
            .where(
                Activity.region_id == region_id,
                Participation.resident_id != but,
                Participation.ended_at >= since,
                Participation.ended_at < until,
                Participation.status.not_in((RecordStatus.REJECTED, RecordStatus.REVOKED)),
            )
        )
        days: dict[tuple[uuid.UUID, date], int] = {}
        for resident_id, ended in self.session.execute(stmt).all():
            if ended is None:
                continue
            key = (resident_id, local_date(ended))
            days[key] = days.get(key, 0) + 1
        return list(days.values())

    def waiting_since(
        self, before: datetime, who: Principal | None = None
    ) -> Sequence[tuple[Participation, Activity]]:
        """Records waiting for review since before `before` (in `who`'s scope), oldest first."""
        stmt = (
            select(Participation, Activity)
            .join(Activity, Activity.id == Participation.activity_id)
            .where(
                Participation.status == RecordStatus.PENDING_REVIEW,
                Participation.created_at < before,
            )
        )
        if who is not None:
            stmt = stmt.where(
                scope_clause(
                    who, Role.REVIEWER, path_of(Activity.region_id), Activity.organization_id
                )
            )
        order = (Participation.created_at, Participation.id)
        return [(p, a) for p, a in self.session.execute(stmt.order_by(*order)).all()]

    def review_backlog(self) -> tuple[int, datetime | None]:
        """City-wide: records waiting for review and the oldest one's creation (operations)."""
        stmt = select(func.count(), func.min(Participation.created_at)).where(
            Participation.status == RecordStatus.PENDING_REVIEW
        )
        count, oldest = self.session.execute(stmt).one()
        return int(count), oldest

    def pending_review(
        self, limit: int, after: uuid.UUID | None, who: Principal
    ) -> Sequence[Participation]:
        """Records waiting for `who` to review, riskiest first (newest first within a score),
        after a keyset cursor (the last record of the previous page).

        The scope is part of the query, so each page is full and no record is skipped.
        """
        reviewable = scope_clause(
            who, Role.REVIEWER, path_of(Activity.region_id), Activity.organization_id
        )
        stmt = select(Participation).where(
            Participation.status == RecordStatus.PENDING_REVIEW,
            Participation.activity_id.in_(select(Activity.id).where(reviewable)),
        )
        return self._riskiest_first(stmt, limit, after)

    def awaiting_recheck(
        self, limit: int, after: uuid.UUID | None, who: Principal
    ) -> Sequence[Participation]:
        """Approved records found risky after approval and not reviewed since, in `who`'s
        scope as reviewer or auditor, riskiest first (keyset paged like pending_review)."""
        scoped = or_(
            *(
                scope_clause(who, role, path_of(Activity.region_id), Activity.organization_id)
                for role in (Role.REVIEWER, Role.AUDITOR)
            )
        )
        stmt = select(Participation).where(
            Participation.status == RecordStatus.APPROVED,
            Participation.recheck_at.is_not(None),
            or_(
                Participation.reviewed_at.is_(None),
                Participation.reviewed_at < Participation.recheck_at,
            ),
            Participation.activity_id.in_(select(Activity.id).where(scoped)),
        )
        return self._riskiest_first(stmt, limit, after)

    def _riskiest_first(
        self, stmt: Select[Participation], limit: int, after: uuid.UUID | None
    ) -> Sequence[Participation]:
        """A page of `stmt`'s records, riskiest first (newest first within a score), after a
        keyset cursor: the last record of the previous page."""
        if after:
            risk = select(Participation.risk).where(Participation.id == after).scalar_subquery()
            stmt = stmt.where(
                or_(
                    Participation.risk < risk,
                    and_(Participation.risk == risk, Participation.id < after),
                )
            )
        order = (Participation.risk.desc(), Participation.id.desc())
        return self.session.scalars(stmt.order_by(*order).limit(limit)).all()

    def approved_without_award(
        self, resident_id: uuid.UUID, awarded: set[uuid.UUID]
    ) -> list[Participation]:
        """Approved records of a resident whose points are not yet decided."""
        stmt = select(Participation).where(
            Participation.resident_id == resident_id, Participation.status == RecordStatus.APPROVED
        )
        return [p for p in self.session.scalars(stmt).all() if p.id not in awarded]

    def resident_records(self, resident_id: uuid.UUID, limit: int) -> Sequence[Participation]:
        """A resident's records, newest first."""
        stmt = (
            select(Participation)
            .where(Participation.resident_id == resident_id)
            .order_by(Participation.created_at.desc())
            .limit(limit)
        )
        return self.session.scalars(stmt).all()

    def resident_records_for(
        self, resident_id: uuid.UUID, who: Principal, roles: Sequence[str], limit: int
    ) -> Sequence[tuple[Participation, Activity]]:
        """A resident's records at activities where `who` holds one of `roles`, newest
        first (the scope is in the query: nothing outside it is read)."""
        place, org = path_of(Activity.region_id), Activity.organization_id
        scope = or_(*(scope_clause(who, role, place, org) for role in roles))
        stmt = (
            select(Participation, Activity)
            .join(Activity, Activity.id == Participation.activity_id)
            .where(Participation.resident_id == resident_id, scope)
            .order_by(Participation.created_at.desc(), Participation.id.desc())
            .limit(limit)
        )
        return [(p, a) for p, a in self.session.execute(stmt).all()]

    def approved_ending(
        self, since: datetime, until: datetime
    ) -> Sequence[tuple[Participation, Activity, bool]]:
        """Approved records whose service ended in [since, until), each with its activity and
        whether a photo was uploaded."""
        ended = func.coalesce(Participation.ended_at, Activity.ends_at)
        photo = select(Evidence.id).where(Evidence.participation_id == Participation.id).exists()
        stmt = (
            select(Participation, Activity, photo)
            .join(Activity, Activity.id == Participation.activity_id)
            .where(Participation.status == RecordStatus.APPROVED, ended >= since, ended < until)
        )
        return [(p, a, bool(has)) for p, a, has in self.session.execute(stmt).all()]

    def counts_by(self, column: str, since: datetime, until: datetime) -> dict[object, int]:
        """Approved records of activities that started in [since, until), by an activity column
        (`category` or `region_id`)."""
        key = getattr(Activity, column)
        stmt = (
            select(key, func.count())
            .join(Participation, Participation.activity_id == Activity.id)
            .where(
                Participation.status == RecordStatus.APPROVED,
                Activity.starts_at >= since,
                Activity.starts_at < until,
            )
            .group_by(key)
        )
        return {k: int(n) for k, n in self.session.execute(stmt).all()}

    def organized(self, who: Principal, limit: int) -> Sequence[Activity]:
        """Activities `who` organizes (scope in SQL), latest start first."""
        mine = scope_clause(
            who, Role.ORGANIZER, path_of(Activity.region_id), Activity.organization_id
        )
        stmt = select(Activity).where(mine).order_by(Activity.starts_at.desc(), Activity.id)
        return self.session.scalars(stmt.limit(limit)).all()

    def enrollments(self, activity_id: uuid.UUID) -> Sequence[Enrollment]:
        """An activity's roster: places, then the waitlist, then cancellations, oldest first."""
        stmt = select(Enrollment).where(Enrollment.activity_id == activity_id)
        return self.session.scalars(stmt.order_by(Enrollment.created_at, Enrollment.id)).all()

    def participations(self, activity_id: uuid.UUID) -> Sequence[Participation]:
        """Every record of an activity."""
        stmt = select(Participation).where(Participation.activity_id == activity_id)
        return self.session.scalars(stmt.order_by(Participation.created_at)).all()

    def one_evidence(self, evidence_id: uuid.UUID) -> Evidence | None:
        """One photo by id."""
        return self.session.get(Evidence, evidence_id)

    def evidence(self, participation_id: uuid.UUID) -> Sequence[Evidence]:
        """Photos of a record."""
        stmt = select(Evidence).where(Evidence.participation_id == participation_id)
        return self.session.scalars(stmt).all()
