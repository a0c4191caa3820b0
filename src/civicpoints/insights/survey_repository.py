"""All SQL of surveys: the questionnaires, who they target (checked in SQL: the residents of a
region subtree, or the participants of activities) and the counts of their answers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Uuid,
    and_,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from civicpoints.access import Principal, Role, scope_clause
from civicpoints.activities import Activity, Participation, RecordStatus
from civicpoints.identity import Resident
from civicpoints.insights.survey_models import (
    Survey,
    SurveyActivity,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
)
from civicpoints.regions import Region

GONE = (RecordStatus.REJECTED, RecordStatus.REVOKED)  # not a participant after all


# Made once: aliasing a table builds its column collection, 0.5 ms each time (the resident
# home page asks for the surveys waiting on every visit).
_HOME = aliased(Region, name="home")
_SCOPE = aliased(Region, name="scope")


class SurveyRepository:
    """Reads and writes surveys; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, *rows: object) -> None:
        """Stage rows and flush (a unique key refuses here)."""
        self.session.add_all(rows)
        self.session.flush()

    def get(self, survey_id: uuid.UUID) -> Survey | None:
        """A survey by id (no scope: the service checks it)."""
        return self.session.get(Survey, survey_id)

    def _staff_scope(self, who: Principal) -> ColumnElement[bool]:
        """Surveys whose region an organizer or auditor grant of the caller covers."""
        none = literal(None, Uuid())
        return or_(
            scope_clause(who, Role.ORGANIZER, Region.path, none),
            scope_clause(who, Role.AUDITOR, Region.path, none),
        )

    def staff_get(self, who: Principal, survey_id: uuid.UUID) -> Survey | None:
        """A survey in the caller's staff scope, or None (unknown and out of scope alike)."""
        q = (
            select(Survey)
            .join(Region, Region.id == Survey.region_id)
            .where(Survey.id == survey_id, self._staff_scope(who))
        )
        return self.session.scalars(q).first()

    def staff_list(self, who: Principal, limit: int = 200) -> Sequence[Survey]:
        """The surveys in the caller's staff scope, newest first."""
        q = (
            select(Survey)
            .join(Region, Region.id == Survey.region_id)
            .where(self._staff_scope(who))
            .order_by(Survey.created_at.desc(), Survey.id)
            .limit(limit)
        )
        return self.session.scalars(q).all()

    def questions(self, survey_id: uuid.UUID) -> Sequence[SurveyQuestion]:
        """A survey's questions in order."""
        q = select(SurveyQuestion).where(SurveyQuestion.survey_id == survey_id)
        return self.session.scalars(q.order_by(SurveyQuestion.position)).all()

    def activity_ids(self, survey_id: uuid.UUID) -> list[uuid.UUID]:
        """The activities whose participants a survey targets."""
        q = select(SurveyActivity.activity_id).where(SurveyActivity.survey_id == survey_id)
        return sorted(self.session.scalars(q).all())

    def clear(self, survey_id: uuid.UUID) -> None:
        """Remove a draft's questions and targeted activities (before they are replaced)."""
        self.session.execute(delete(SurveyQuestion).where(SurveyQuestion.survey_id == survey_id))
        self.session.execute(delete(SurveyActivity).where(SurveyActivity.survey_id == survey_id))
        self.session.flush()

    def activity_paths(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The region path of each existing activity among `ids`."""
        q = select(Activity.id, Region.path).join(Region, Region.id == Activity.region_id)
        return {a: p for a, p in self.session.execute(q.where(Activity.id.in_(ids))).all()}

    # -- residents -------------------------------------------------------------------------

    def _targets(self, resident_id: uuid.UUID) -> ColumnElement[bool]:
        """Whether the resident is among a survey's targets (SQL, per survey row)."""
        home, scope = _HOME, _SCOPE
        in_region = exists(
            select(1)
            .select_from(Resident)
            .join(home, home.id == Resident.community_id)
            .join(scope, scope.id == Survey.region_id)
            .where(Resident.id == resident_id, home.path.startswith(scope.path))
        )
        took_part = exists(
            select(1)
            .select_from(SurveyActivity)
            .join(Participation, Participation.activity_id == SurveyActivity.activity_id)
            .where(
                SurveyActivity.survey_id == Survey.id,
                Participation.resident_id == resident_id,
                Participation.status.not_in(GONE),
            )
        )
        return or_(
            and_(Survey.target == "region", in_region),
            and_(Survey.target == "activities", took_part),
        )

    def _answered(self, resident_id: uuid.UUID) -> ColumnElement[bool]:
        return exists(
            select(1).where(
                SurveyResponse.survey_id == Survey.id, SurveyResponse.resident_id == resident_id
            )
        )

    def resident_get(self, resident_id: uuid.UUID, survey_id: uuid.UUID) -> Survey | None:
        """A survey (open or closed, never a draft) that targets the resident, else None."""
        q = select(Survey).where(
            Survey.id == survey_id, Survey.status != "draft", self._targets(resident_id)
        )
        return self.session.scalars(q).first()

    def waiting(self, resident_id: uuid.UUID, now: datetime, limit: int = 50) -> Sequence[Survey]:
        """Open surveys that target the resident and that they have not answered yet."""
        q = (
            select(Survey)
            .where(
                Survey.status == "open",
                or_(Survey.closes_at.is_(None), Survey.closes_at > now),
                self._targets(resident_id),
                ~self._answered(resident_id),
            )
            .order_by(Survey.closes_at, Survey.id)
            .limit(limit)
        )
        return self.session.scalars(q).all()

    def response_of(self, survey_id: uuid.UUID, resident_id: uuid.UUID) -> SurveyResponse | None:
        """The resident's response to the survey, if any."""
        q = select(SurveyResponse).where(
            SurveyResponse.survey_id == survey_id, SurveyResponse.resident_id == resident_id
        )
        return self.session.scalars(q).first()

    def answers_of(
        self, resident_id: uuid.UUID
    ) -> list[tuple[SurveyResponse, Survey, SurveyQuestion, SurveyAnswer]]:
        """Every answer the resident gave, with its response, survey and question (oldest
        response first, questions in order)."""
        q = (
            select(SurveyResponse, Survey, SurveyQuestion, SurveyAnswer)
            .join(Survey, Survey.id == SurveyResponse.survey_id)
            .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
            .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
            .where(SurveyResponse.resident_id == resident_id)
            .order_by(
                SurveyResponse.submitted_at,
                SurveyResponse.id,
                SurveyQuestion.position,
                SurveyAnswer.option,
            )
        )
        return [(r, s, qu, a) for r, s, qu, a in self.session.execute(q).all()]

    def erase_texts(self, resident_id: uuid.UUID) -> int:
        """Blank the free text of every answer the resident gave (their choices stay, counted
        under nobody's name); the answers blanked."""
        mine = select(SurveyResponse.id).where(SurveyResponse.resident_id == resident_id)
        stmt = (
            update(SurveyAnswer)
            .where(SurveyAnswer.response_id.in_(mine), SurveyAnswer.text.is_not(None))
            .values(text=None)
        )
        return int(self.session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]

    # -- results ---------------------------------------------------------------------------

    def respondents(self, survey_id: uuid.UUID) -> int:
        """How many residents responded."""
        q = select(func.count()).where(SurveyResponse.survey_id == survey_id)
        return int(self.session.scalar(q) or 0)

    def counts(self, survey_id: uuid.UUID) -> dict[tuple[uuid.UUID, int], int]:
        """Responses per (question, option or value) — text answers under option 0."""
        q = (
            select(SurveyAnswer.question_id, SurveyAnswer.option, func.count())
            .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
            .where(SurveyQuestion.survey_id == survey_id)
            .group_by(SurveyAnswer.question_id, SurveyAnswer.option)
        )
        return {(qid, opt): int(n) for qid, opt, n in self.session.execute(q).all()}

    def answered(self, survey_id: uuid.UUID) -> dict[uuid.UUID, int]:
        """Responses that answered each question."""
        q = (
            select(SurveyAnswer.question_id, func.count(func.distinct(SurveyAnswer.response_id)))
            .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
            .where(SurveyQuestion.survey_id == survey_id)
            .group_by(SurveyAnswer.question_id)
        )
        return {qid: int(n) for qid, n in self.session.execute(q).all()}

    def texts(self, question_id: uuid.UUID, limit: int = 1000) -> list[str]:
        """A text question's answers (text only: no respondent, no time)."""
        q = select(SurveyAnswer.text).where(
            SurveyAnswer.question_id == question_id, SurveyAnswer.text.is_not(None)
        )
        return [t for t in self.session.scalars(q.limit(limit)).all() if t]
