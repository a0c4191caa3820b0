"""教育积分 in activities: a guardian's choice, per 教育支持 activity, to credit a confirmed
child's education account instead of their own wallet; and where an award goes.

The award itself is scoring's, as for any record (hours go to the guardian's register, the
month's cap is the guardian's): it is credited to the guardian's education intake account
and carried at once, in the same transaction, to the child's education account under the
enrolment-year rule of the guardian's region (`year_end:MM-DD`), so the lot's expiry is the
end of the enrolment year and `ledger verify` recomputes it from the carry row. Never commits.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from civicpoints.activities.education_models import EducationChoice
from civicpoints.activities.errors import ActivityNotFound
from civicpoints.activities.models import Activity
from civicpoints.activities.repository import ActivityRepository
from civicpoints.identity import GuardianService, LinkStatus, Resident
from civicpoints.kit.clock import as_utc, local_date
from civicpoints.kit.context import Context
from civicpoints.kit.errors import Conflict, InvalidInput
from civicpoints.ledger import (
    CarryRequest,
    HoldService,
    LedgerService,
    Movement,
    education_intake_of,
    education_of,
    wallet_of,
)
from civicpoints.scoring import AwardRow, Category, ScoringService


class NotEducationSupport(InvalidInput):
    """A child chosen on an activity outside 教育支持."""

    code = "education.not_education_support"
    title = {"zh-CN": "非教育支持活动", "en": "Not an education-support activity"}
    messages = {
        "zh-CN": "只有“教育支持”类活动的积分可以计入子女教育账户",
        "en": "only points of education-support activities can go to a child's education account",
    }


class AlreadyAwarded(Conflict):
    """A change of destination after the record's points were decided."""

    code = "education.already_awarded"
    title = {"zh-CN": "积分已发放", "en": "Points already decided"}
    messages = {
        "zh-CN": "这次活动的积分已经发放，不能再更改去向",
        "en": "the points of this activity have been decided; where they go can no longer change",
    }


class EducationCredit:
    """Where a resident's points for an activity go."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.session, self.ctx = session, ctx
        self.repo = ActivityRepository(session)
        self.guardians = GuardianService(session, ctx)

    def choose(
        self, activity_id: uuid.UUID, guardian: Resident, child_id: uuid.UUID | None
    ) -> uuid.UUID | None:
        """Credit this activity's points to `child_id`'s education account (None: the wallet)."""
        activity = self.session.get(Activity, activity_id)
        if activity is None:
            raise ActivityNotFound(field="activity_id")
        if child_id is not None:
            if activity.category != Category.EDUCATION_SUPPORT:
                raise NotEducationSupport(field="child_id")
            self.guardians.confirmed_child(guardian.id, child_id)  # 404 unlinked, 409 pending
        record = self.repo.participation_of(activity_id, guardian.id)
        if record is not None and ScoringService(self.session).award_of(record.id) is not None:
            raise AlreadyAwarded(field="child_id")
        self.session.execute(
            delete(EducationChoice).where(
                EducationChoice.activity_id == activity_id,
                EducationChoice.resident_id == guardian.id,
            )
        )
        if child_id is not None:
            self.session.add(
                EducationChoice(activity_id=activity_id, resident_id=guardian.id, child_id=child_id)
            )
        self.session.flush()
        return child_id

    def choice(self, activity_id: uuid.UUID, resident_id: uuid.UUID) -> uuid.UUID | None:
        """The child this resident's points for the activity go to (None: the wallet)."""
        return self.session.scalar(
            select(EducationChoice.child_id).where(
                EducationChoice.activity_id == activity_id,
                EducationChoice.resident_id == resident_id,
            )
        )

    def destination(self, resident_id: uuid.UUID, activity: Activity) -> uuid.UUID | None:
        """The child to credit now: chosen, 教育支持, and the link still confirmed."""
        if activity.category != Category.EDUCATION_SUPPORT:
            return None
        child_id = self.choice(activity.id, resident_id)
        if child_id is None:
            return None
        link = self.guardians.children_of(resident_id)
        confirmed = {c.id for lk, c in link if lk.status == LinkStatus.CONFIRMED}
        return child_id if child_id in confirmed else None

    def wallet(self, resident_id: uuid.UUID, child_id: uuid.UUID | None) -> str:
        """The ledger owner an award is credited to."""
        return wallet_of(resident_id) if child_id is None else education_intake_of(resident_id)

    def carry_on(
        self, award: AwardRow, guardian: Resident, child_id: uuid.UUID, actor: str
    ) -> None:
        """Carry an award credited to the intake on to the child's education account, each
        lot ending with the enrolment year (idempotent: a repeat replays)."""
        if not award.awarded:
            return
        # What the award left in the intake: all of it, unless a debt of the intake (a clawed-
        # back education record) was repaid from it first; nothing on a repeat (carried).
        amount = min(
            award.awarded, HoldService(self.session).available(education_intake_of(guardian.id))
        )
        if amount <= 0:
            return
        year_end = self.guardians.year_end(guardian.community_id, local_date(award.created_at))
        move = Movement(
            "education",
            amount,
            f"participation:{award.participation_id}",
            "计入子女教育积分 / credited to the child's education points",
            actor,
            as_utc(award.created_at),
            f"education:{award.participation_id}",
        )
        LedgerService(self.session).carry(
            CarryRequest(
                education_intake_of(guardian.id),
                education_of(child_id),
                "education",
                move,
                year_end=year_end,
            )
        )
