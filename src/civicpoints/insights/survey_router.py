"""HTTP for surveys (问卷): staff build, open, close and read results; residents list the
surveys waiting for them, read one and answer it once (thin; docs/insights.md)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from civicpoints.access import Principal
from civicpoints.identity import Caller, ResidentCaller, StaffCaller
from civicpoints.insights.privacy import THRESHOLD
from civicpoints.insights.survey_models import Survey
from civicpoints.insights.survey_schemas import (
    OptionRead,
    QuestionRead,
    QuestionResults,
    ResponseIn,
    ResponseRead,
    ResultsRead,
    SurveyBrief,
    SurveyCreate,
    SurveyOpen,
    SurveyRead,
)
from civicpoints.insights.surveys import Results, SurveyService, SurveyView, state
from civicpoints.kit.clock import utcnow
from civicpoints.kit.http import DbSession, ReadSession

router = APIRouter(tags=["insights 问卷"])


def survey_read(view: SurveyView, who: Principal) -> SurveyRead:
    """A survey as the API shows it (its status as of now)."""
    s = view.survey
    return SurveyRead(
        id=s.id,
        title=s.title,
        title_en=s.title_en,
        region_id=s.region_id,
        target=s.target,
        activity_ids=view.activity_ids,
        status=state(s, utcnow()),
        closes_at=s.closes_at,
        opened_at=s.opened_at,
        closed_at=s.closed_at,
        owned=s.owner_id == who.id,
        answered=view.answered,
        questions=[QuestionRead.model_validate(q, from_attributes=True) for q in view.questions],
    )


def brief(s: Survey) -> SurveyBrief:
    """A survey in a list (its status as of now)."""
    return SurveyBrief.model_validate(
        {
            "id": s.id,
            "title": s.title,
            "title_en": s.title_en,
            "status": state(s, utcnow()),
            "closes_at": s.closes_at,
        }
    )


def results_read(r: Results) -> ResultsRead:
    """Results as the API shows them."""
    return ResultsRead(
        survey_id=r.survey.id,
        title=r.survey.title,
        status=state(r.survey, utcnow()),
        respondents=r.respondents,
        suppressed_below=THRESHOLD,
        questions=[
            QuestionResults(
                question_id=q.id,
                kind=q.kind,
                text=q.text,
                answered=res.answered,
                options=[
                    OptionRead(label=o.label, count=o.count, percent=o.percent) for o in res.options
                ],
                mean=res.mean,
                texts=texts,
            )
            for q, res, texts in r.questions
        ],
    )


# -- residents (literal paths before /surveys/{id}) ---------------------------------------


@router.get("/surveys/{survey_id}/questionnaire", response_model=SurveyRead)
def questionnaire(survey_id: uuid.UUID, who: ResidentCaller, db: ReadSession) -> SurveyRead:
    """A survey that targets you, with its questions and whether you answered it (404 if it
    does not target you)."""
    return survey_read(SurveyService(db).for_resident(who.id, survey_id), who)


@router.post("/surveys/{survey_id}/responses", response_model=ResponseRead, status_code=201)
def respond(
    survey_id: uuid.UUID, body: ResponseIn, who: ResidentCaller, db: DbSession
) -> ResponseRead:
    """Answer a survey once (no editing after): a second response is refused (409)."""
    r = SurveyService(db).submit(who.id, survey_id, body.answers, utcnow())
    return ResponseRead(survey_id=r.survey_id, submitted_at=r.submitted_at)


# -- staff ---------------------------------------------------------------------------------


@router.get("/surveys", response_model=list[SurveyBrief])
def surveys(who: Caller, db: ReadSession) -> list[SurveyBrief]:
    """Staff: the surveys of the regions you organize or audit, newest first. Residents: the
    open surveys that target you and wait for your answer."""
    service = SurveyService(db)
    if who.kind == "resident":
        return [brief(s) for s in service.waiting(who.id, utcnow())]
    return [brief(s) for s in service.staff_list(who)]


@router.post("/surveys", response_model=SurveyRead, status_code=201)
def create(body: SurveyCreate, who: StaffCaller, db: DbSession) -> SurveyRead:
    """A draft questionnaire in a region you organize (you become its owner)."""
    return survey_read(SurveyService(db).create(who, body), who)


@router.get("/surveys/{survey_id}", response_model=SurveyRead)
def survey(survey_id: uuid.UUID, who: StaffCaller, db: ReadSession) -> SurveyRead:
    """A survey of your scope."""
    service = SurveyService(db)
    return survey_read(service.view(service.staff_survey(who, survey_id)), who)


@router.put("/surveys/{survey_id}", response_model=SurveyRead)
def update(survey_id: uuid.UUID, body: SurveyCreate, who: StaffCaller, db: DbSession) -> SurveyRead:
    """Replace a draft (its owner only)."""
    return survey_read(SurveyService(db).update(who, survey_id, body), who)


@router.post("/surveys/{survey_id}/open", response_model=SurveyRead)
def open_survey(
    survey_id: uuid.UUID, body: SurveyOpen, who: StaffCaller, db: DbSession
) -> SurveyRead:
    """Open a draft until its closing time (its owner only)."""
    return survey_read(SurveyService(db).open(who, survey_id, body.closes_at, utcnow()), who)


@router.post("/surveys/{survey_id}/close", response_model=SurveyRead)
def close_survey(survey_id: uuid.UUID, who: StaffCaller, db: DbSession) -> SurveyRead:
    """Close an open survey now (its owner only)."""
    return survey_read(SurveyService(db).close(who, survey_id, utcnow()), who)


@router.get("/surveys/{survey_id}/results", response_model=ResultsRead)
def results(survey_id: uuid.UUID, who: StaffCaller, db: ReadSession) -> ResultsRead:
    """Results per question: counts under 10 read "<10" (a complement hidden reads "x");
    free-text answers only for the survey's owner, never with names."""
    return results_read(SurveyService(db).results(who, survey_id))
