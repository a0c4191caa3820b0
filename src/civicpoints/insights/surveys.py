"""Surveys (问卷): staff build a questionnaire in their region, open and close it; targeted
residents answer once; results are published with small counts suppressed (survey_rules.py).
Free-text answers are read by the survey's owner only. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.insights.privacy import THRESHOLD
from civicpoints.insights.survey_errors import (
    AlreadyAnswered,
    InvalidSurvey,
    NotSurveyOwner,
    SurveyNotFound,
    SurveyState,
)
from civicpoints.insights.survey_models import (
    Survey,
    SurveyActivity,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
)
from civicpoints.insights.survey_repository import SurveyRepository
from civicpoints.insights.survey_rules import (
    CHOICE_KINDS,
    Answer,
    Problem,
    Question,
    QuestionResult,
    check_answers,
    question_problem,
    question_result,
    survey_respondents,
    texts_shown,
)
from civicpoints.insights.survey_schemas import AnswerIn, SurveyCreate
from civicpoints.kit.ids import new_id
from civicpoints.regions import RegionService

LONGEST = timedelta(days=366)  # a survey stays open a year at most
STATE_ZH = {"draft": "还是草稿", "open": "正在收集", "closed": "已结束"}


@dataclass(frozen=True)
class SurveyView:
    """A survey with its questions and targeted activities."""

    survey: Survey
    questions: Sequence[SurveyQuestion]
    activity_ids: list[uuid.UUID]
    answered: bool = False


@dataclass(frozen=True)
class Results:
    """A survey's results as published; `texts` (per question id) only for its owner."""

    survey: Survey
    respondents: int | str
    questions: list[tuple[SurveyQuestion, QuestionResult, list[str] | None]]


def state(survey: Survey, now: datetime) -> str:
    """The survey's status as of `now` (an open survey past its closing time is closed)."""
    if survey.status == "open" and survey.closes_at is not None and survey.closes_at <= now:
        return "closed"
    return survey.status


class SurveyService:
    """Use cases of surveys; the caller owns the transaction."""

    def __init__(self, session: Session) -> None:
        self.repo = SurveyRepository(session)
        self.regions = RegionService(session)

    # -- staff -----------------------------------------------------------------------------

    def create(self, who: Principal, body: SurveyCreate) -> SurveyView:
        """A draft in a region the caller organizes (scope before existence: 403)."""
        self.regions.require_role_over(who, Role.ORGANIZER, body.region_id)
        self._check(body)
        survey = Survey(
            id=new_id(),
            owner_id=who.id,
            status="draft",
            region_id=body.region_id,
            title=body.title.strip(),
            title_en=body.title_en.strip(),
            target=body.target,
        )
        self.repo.add(survey)
        self._fill(survey, body)
        return self.view(survey)

    def update(self, who: Principal, survey_id: uuid.UUID, body: SurveyCreate) -> SurveyView:
        """Replace a draft's title, target and questions (its owner; drafts only)."""
        survey = self._owned(who, survey_id)
        self._require(survey, "draft", "修改", "edit it")
        self.regions.require_role_over(who, Role.ORGANIZER, body.region_id)
        self._check(body)
        self.repo.clear(survey.id)
        survey.title, survey.title_en = body.title.strip(), body.title_en.strip()
        survey.region_id, survey.target = body.region_id, body.target
        self._fill(survey, body)
        return self.view(survey)

    def open(
        self, who: Principal, survey_id: uuid.UUID, closes_at: datetime, now: datetime
    ) -> SurveyView:
        """Open a draft to its residents until `closes_at` (in the future, within a year)."""
        survey = self._owned(who, survey_id)
        self._require(survey, "draft", "发布", "open it")
        if not now < closes_at <= now + LONGEST:
            raise self._invalid(
                "closes_at",
                "截止时间",
                "closing time",
                "须在现在之后、一年之内",
                "must be after now, within a year",
            )
        survey.status, survey.opened_at, survey.closes_at = "open", now, closes_at
        self.repo.add(survey)
        return self.view(survey)

    def close(self, who: Principal, survey_id: uuid.UUID, now: datetime) -> SurveyView:
        """Close an open survey now (its owner)."""
        survey = self._owned(who, survey_id)
        if survey.status != "open":
            self._require(survey, "open", "结束", "close it")
        survey.status, survey.closed_at = "closed", now
        if survey.closes_at is None or survey.closes_at > now:
            survey.closes_at = now
        self.repo.add(survey)
        return self.view(survey)

    def staff_survey(self, who: Principal, survey_id: uuid.UUID) -> Survey:
        """A survey in the caller's organizer or auditor scope; else 404 as if unknown."""
        survey = self.repo.staff_get(who, survey_id)
        if survey is None:
            raise SurveyNotFound(field="survey_id")
        return survey

    def staff_list(self, who: Principal) -> Sequence[Survey]:
        """The surveys of the caller's scope, newest first."""
        return self.repo.staff_list(who)

    def results(self, who: Principal, survey_id: uuid.UUID) -> Results:
        """Results per question; free text only when the caller owns the survey."""
        survey = self.staff_survey(who, survey_id)
        n = self.repo.respondents(survey.id)
        counts, answered = self.repo.counts(survey.id), self.repo.answered(survey.id)
        out = []
        for q in self.repo.questions(survey.id):
            mine = {opt: c for (qid, opt), c in counts.items() if qid == q.id}
            res = question_result(q.kind, q.options, mine, answered.get(q.id, 0), n)
            texts = None
            if q.kind == "text" and survey.owner_id == who.id:
                texts = texts_shown(self.repo.texts(q.id), n)
            out.append((q, res, texts))
        return Results(survey=survey, respondents=survey_respondents(n), questions=out)

    def view(self, survey: Survey, answered: bool = False) -> SurveyView:
        """The survey with its questions and activities."""
        return SurveyView(
            survey, self.repo.questions(survey.id), self.repo.activity_ids(survey.id), answered
        )

    def _owned(self, who: Principal, survey_id: uuid.UUID) -> Survey:
        survey = self.staff_survey(who, survey_id)
        if survey.owner_id != who.id:
            raise NotSurveyOwner(field="survey_id")
        return survey

    def _require(self, survey: Survey, status: str, what_zh: str, what: str) -> None:
        if survey.status != status:
            raise SurveyState(
                field="status",
                state=survey.status,
                state_zh=STATE_ZH[survey.status],
                what_zh=what_zh,
                what=what,
            )

    def _invalid(self, field: str, wzh: str, wen: str, rzh: str, ren: str) -> InvalidSurvey:
        return InvalidSurvey(field=field, where_zh=wzh, where_en=wen, reason_zh=rzh, reason_en=ren)

    def _check(self, body: SurveyCreate) -> None:
        """Questions well formed; activities exist, in the survey's region, only when targeted."""
        for i, q in enumerate(body.questions):
            why = question_problem(q.kind, q.options)
            if why is not None:
                raise self._invalid(f"questions[{i}]", f"第 {i + 1} 题", f"question {i + 1}", *why)
        ids = list(dict.fromkeys(body.activity_ids))
        if body.target == "region" and ids:
            raise self._invalid(
                "activity_ids",
                "活动",
                "activities",
                "按区域发放时不选活动",
                "a region survey lists no activities",
            )
        if body.target == "activities" and not ids:
            raise self._invalid(
                "activity_ids",
                "活动",
                "activities",
                "请至少选一个活动",
                "choose at least one activity",
            )
        region = self.regions.get(body.region_id)
        paths = self.repo.activity_paths(ids) if ids else {}
        if any(not paths.get(a, "").startswith(region.path) for a in ids):
            raise self._invalid(
                "activity_ids",
                "活动",
                "activities",
                "活动不存在或不在问卷的区域内",
                "an activity is unknown or outside the survey's region",
            )

    def _fill(self, survey: Survey, body: SurveyCreate) -> None:
        rows: list[object] = [
            SurveyQuestion(
                id=new_id(),
                survey_id=survey.id,
                position=i + 1,
                kind=q.kind,
                text=q.text.strip(),
                text_en=q.text_en.strip(),
                required=q.required,
                options=[o.strip() for o in q.options] if q.kind in CHOICE_KINDS else [],
            )
            for i, q in enumerate(body.questions)
        ]
        rows += [
            SurveyActivity(survey_id=survey.id, activity_id=a)
            for a in dict.fromkeys(body.activity_ids)
        ]
        self.repo.add(*rows)

    # -- residents -------------------------------------------------------------------------

    def waiting(self, resident_id: uuid.UUID, now: datetime) -> Sequence[Survey]:
        """Open surveys that target the resident and await their answer."""
        return self.repo.waiting(resident_id, now)

    def export(self, resident_id: uuid.UUID) -> list[dict[str, Any]]:
        """The resident's responses with every answer, for their own copy of their data."""
        out: dict[uuid.UUID, dict[str, Any]] = {}
        for response, survey, question, answer in self.repo.answers_of(resident_id):
            got = out.setdefault(
                response.id,
                {
                    "survey_id": survey.id,
                    "title": survey.title,
                    "submitted_at": response.submitted_at,
                    "answers": [],
                },
            )
            label = question.options[answer.option] if question.kind in CHOICE_KINDS else None
            got["answers"].append(
                {
                    "question": question.text,
                    "kind": question.kind,
                    "option": answer.option,
                    "choice": label,
                    "text": answer.text,
                }
            )
        return list(out.values())

    def erase(self, resident_id: uuid.UUID) -> int:
        """The resident's free-text answers blanked (erasure); their choices stay, counted."""
        return self.repo.erase_texts(resident_id)

    def for_resident(self, resident_id: uuid.UUID, survey_id: uuid.UUID) -> SurveyView:
        """A survey that targets the resident (else 404, as if it did not exist)."""
        survey = self.repo.resident_get(resident_id, survey_id)
        if survey is None:
            raise SurveyNotFound(field="survey_id")
        done = self.repo.response_of(survey.id, resident_id) is not None
        return self.view(survey, answered=done)

    def submit(
        self,
        resident_id: uuid.UUID,
        survey_id: uuid.UUID,
        answers: Sequence[AnswerIn],
        now: datetime,
    ) -> SurveyResponse:
        """Record the resident's one response; a second (or its racing twin) is refused
        with nothing written, as is any invalid answer."""
        view = self.for_resident(resident_id, survey_id)
        if view.answered:
            raise AlreadyAnswered(field="survey_id")
        if state(view.survey, now) != "open":
            raise SurveyState(
                field="status",
                state="closed",
                state_zh=STATE_ZH["closed"],
                what_zh="填写",
                what="answer it",
            )
        rows, problems = check_answers(
            [Question(q.id, q.kind, q.required, len(q.options)) for q in view.questions],
            [Answer(a.question_id, tuple(a.choices), a.value, a.text) for a in answers],
        )
        if problems:
            raise self.refusal(problems)
        response = SurveyResponse(
            id=new_id(), survey_id=survey_id, resident_id=resident_id, submitted_at=now
        )
        try:
            with self.repo.session.begin_nested():
                self.repo.add(response)
        except IntegrityError:
            raise AlreadyAnswered(field="survey_id") from None
        self.repo.add(
            *[
                SurveyAnswer(response_id=response.id, question_id=q, option=o, text=t)
                for q, o, t in rows
            ]
        )
        return response

    def refusal(self, problems: Sequence[Problem]) -> InvalidSurvey:
        """The error of a refused response (its first problem; all in `errors`)."""
        first = problems[0]
        err = self._invalid(
            f"q{first.number}" if first.number else "answers",
            f"第 {first.number} 题" if first.number else "答案",
            f"question {first.number}" if first.number else "answers",
            first.zh,
            first.en,
        )
        err.errors = [
            {"field": f"q{p.number}" if p.number else "answers", "detail": f"{p.zh} / {p.en}"}
            for p in problems
        ]
        return err


__all__ = ["THRESHOLD", "Results", "SurveyService", "SurveyView", "state"]
