"""Tables of surveys (问卷): the questionnaire, its questions, the activities it targets, one
response per resident and the response's answers (docs/insights.md, "Surveys")."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, created_at_column, id_column


class Survey(Base):
    """A questionnaire of one staff member (its owner), scoped to a region of the owner's:
    it targets the residents of that region's subtree, or the participants of activities."""

    __tablename__ = "insights_survey"

    id: Mapped[uuid.UUID] = id_column()
    title: Mapped[str] = mapped_column(String(100))
    title_en: Mapped[str] = mapped_column(String(100), default="")
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_staff.id"), index=True)
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("region.id"), index=True)
    target: Mapped[str] = mapped_column(String(16))  # region | activities
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft|open|closed
    closes_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()


class SurveyActivity(Base):
    """An activity whose participants a survey targets."""

    __tablename__ = "insights_survey_activity"

    survey_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("insights_survey.id"), primary_key=True)
    activity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activity.id"), primary_key=True, index=True
    )


class SurveyQuestion(Base):
    """One question: single | multiple (with options), scale_1_5, or text."""

    __tablename__ = "insights_survey_question"
    __table_args__ = (UniqueConstraint("survey_id", "position"),)

    id: Mapped[uuid.UUID] = id_column()
    survey_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("insights_survey.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(200))
    text_en: Mapped[str] = mapped_column(String(200), default="")
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)


class SurveyResponse(Base):
    """A resident's one response to a survey: the unique key refuses a second (or a racing
    twin) in the database itself. Never edited."""

    __tablename__ = "insights_survey_response"
    __table_args__ = (UniqueConstraint("survey_id", "resident_id"),)

    id: Mapped[uuid.UUID] = id_column()
    survey_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("insights_survey.id"))
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_resident.id"), index=True)
    submitted_at: Mapped[datetime] = created_at_column()


class SurveyAnswer(Base):
    """One chosen option (its index; the value 1–5 on a scale) or the free text of a
    question in a response; a multiple choice has one row per option chosen."""

    __tablename__ = "insights_survey_answer"

    response_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("insights_survey_response.id"), primary_key=True
    )
    question_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("insights_survey_question.id"), primary_key=True, index=True
    )
    option: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0 for text
    text: Mapped[str | None] = mapped_column(String(500))
