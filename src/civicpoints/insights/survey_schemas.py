"""Pydantic shapes of the surveys API (bounded: ≤ 30 questions, ≤ 10 options, text ≤ 500)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from civicpoints.insights.survey_rules import MAX_ACTIVITIES, MAX_OPTIONS, MAX_QUESTIONS, MAX_TEXT
from civicpoints.kit.schemas import Instant, Line, Text

Kind = Literal["single", "multiple", "scale_1_5", "text"]
Option = Annotated[Line, Field(min_length=1, max_length=60)]
ShownCount = int | Literal["<10", "x"]


class QuestionIn(BaseModel):
    """One question: choice kinds carry 2–10 options, the others none."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    text: Line = Field(min_length=1, max_length=200)
    text_en: Line = Field(default="", max_length=200)
    required: bool = True
    options: Annotated[list[Option], Field(max_length=MAX_OPTIONS)] = []


class SurveyCreate(BaseModel):
    """A questionnaire (a draft): its region (in the owner's scope) and whom it targets —
    the residents of the region's subtree, or the participants of activities in it."""

    model_config = ConfigDict(extra="forbid")

    title: Line = Field(min_length=1, max_length=100)
    title_en: Line = Field(default="", max_length=100)
    region_id: uuid.UUID
    target: Literal["region", "activities"] = "region"
    activity_ids: Annotated[list[uuid.UUID], Field(max_length=MAX_ACTIVITIES)] = []
    questions: Annotated[list[QuestionIn], Field(min_length=1, max_length=MAX_QUESTIONS)]


class SurveyOpen(BaseModel):
    """Open a draft to its residents until `closes_at`."""

    model_config = ConfigDict(extra="forbid")

    closes_at: Instant


class QuestionRead(BaseModel):
    """A question as shown."""

    id: uuid.UUID
    position: int
    kind: Kind
    text: str
    text_en: str
    required: bool
    options: list[str]


class SurveyRead(BaseModel):
    """A survey as staff and its residents see it."""

    id: uuid.UUID
    title: str
    title_en: str
    region_id: uuid.UUID
    target: Literal["region", "activities"]
    activity_ids: list[uuid.UUID]
    status: Literal["draft", "open", "closed"]
    closes_at: datetime | None
    opened_at: datetime | None
    closed_at: datetime | None
    owned: bool = Field(description="whether the caller owns it (staff)")
    answered: bool = Field(default=False, description="whether the caller answered it")
    questions: list[QuestionRead]


class SurveyBrief(BaseModel):
    """A survey in a list."""

    id: uuid.UUID
    title: str
    title_en: str
    status: Literal["draft", "open", "closed"]
    closes_at: datetime | None


class AnswerIn(BaseModel):
    """One answer: option indexes (choice kinds), a value 1–5 (scale) or text."""

    model_config = ConfigDict(extra="forbid")

    question_id: uuid.UUID
    choices: Annotated[
        list[Annotated[StrictInt, Field(ge=0, le=MAX_OPTIONS - 1)]], Field(max_length=MAX_OPTIONS)
    ] = []
    value: Annotated[StrictInt, Field(ge=1, le=5)] | None = None
    text: Text = Field(default="", max_length=MAX_TEXT)


class ResponseIn(BaseModel):
    """A resident's response: once, never edited."""

    model_config = ConfigDict(extra="forbid")

    answers: Annotated[list[AnswerIn], Field(max_length=MAX_QUESTIONS)]


class ResponseRead(BaseModel):
    """What a submitted response returns (no content)."""

    survey_id: uuid.UUID
    submitted_at: datetime


class OptionRead(BaseModel):
    """An option's (or scale value's) count: "<10" when under 10, "x" hidden as a complement."""

    label: str
    count: ShownCount
    percent: float | None


class QuestionResults(BaseModel):
    """A question's results; `texts` only for the survey's owner (never with names)."""

    question_id: uuid.UUID
    kind: Kind
    text: str
    answered: ShownCount
    options: list[OptionRead]
    mean: float | None
    texts: list[str] | None = Field(description="free-text answers: the owner only")


class ResultsRead(BaseModel):
    """A survey's results, people counts under 10 suppressed (docs/insights.md)."""

    survey_id: uuid.UUID
    title: str
    status: Literal["draft", "open", "closed"]
    respondents: ShownCount
    suppressed_below: int
    questions: list[QuestionResults]
