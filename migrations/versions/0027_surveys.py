"""insights: surveys (问卷) — questionnaires, questions, targeted activities, responses

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 09:40:00

One response per resident per survey (unique key: a second or racing submit is refused in the
database); answers are one row per chosen option, scale value or text (docs/insights.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import civicpoints.kit.db

# revision identifiers, used by Alembic.
revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = civicpoints.kit.db.UTCDateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    ref = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{ref}"))


def upgrade() -> None:
    """The five survey tables."""
    t = "insights_survey"
    op.create_table(
        t,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("title_en", sa.String(length=100), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("region_id", sa.Uuid(), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closes_at", UTC, nullable=True),
        sa.Column("opened_at", UTC, nullable=True),
        sa.Column("closed_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        _fk(t, "owner_id", "identity_staff.id"),
        _fk(t, "region_id", "region.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insights_survey")),
    )
    op.create_index(op.f("ix_insights_survey_owner_id"), t, ["owner_id"])
    op.create_index(op.f("ix_insights_survey_region_id"), t, ["region_id"])
    t = "insights_survey_activity"
    op.create_table(
        t,
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        _fk(t, "survey_id", "insights_survey.id"),
        _fk(t, "activity_id", "activity.id"),
        sa.PrimaryKeyConstraint(
            "survey_id", "activity_id", name=op.f("pk_insights_survey_activity")
        ),
    )
    op.create_index(op.f("ix_insights_survey_activity_activity_id"), t, ["activity_id"])
    t = "insights_survey_question"
    op.create_table(
        t,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("text_en", sa.String(length=200), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        _fk(t, "survey_id", "insights_survey.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insights_survey_question")),
        sa.UniqueConstraint(
            "survey_id", "position", name=op.f("uq_insights_survey_question_survey_id_position")
        ),
    )
    op.create_index(op.f("ix_insights_survey_question_survey_id"), t, ["survey_id"])
    t = "insights_survey_response"
    op.create_table(
        t,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("resident_id", sa.Uuid(), nullable=False),
        sa.Column("submitted_at", UTC, nullable=False),
        _fk(t, "survey_id", "insights_survey.id"),
        _fk(t, "resident_id", "identity_resident.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insights_survey_response")),
        sa.UniqueConstraint(
            "survey_id",
            "resident_id",
            name=op.f("uq_insights_survey_response_survey_id_resident_id"),
        ),
    )
    op.create_index(op.f("ix_insights_survey_response_resident_id"), t, ["resident_id"])
    t = "insights_survey_answer"
    op.create_table(
        t,
        sa.Column("response_id", sa.Uuid(), nullable=False),
        sa.Column("question_id", sa.Uuid(), nullable=False),
        sa.Column("option", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=True),
        _fk(t, "response_id", "insights_survey_response.id"),
        _fk(t, "question_id", "insights_survey_question.id"),
        sa.PrimaryKeyConstraint(
            "response_id", "question_id", "option", name=op.f("pk_insights_survey_answer")
        ),
    )
    op.create_index(op.f("ix_insights_survey_answer_question_id"), t, ["question_id"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index(
        op.f("ix_insights_survey_answer_question_id"), table_name="insights_survey_answer"
    )
    op.drop_table("insights_survey_answer")
    op.drop_index(
        op.f("ix_insights_survey_response_resident_id"), table_name="insights_survey_response"
    )
    op.drop_table("insights_survey_response")
    op.drop_index(
        op.f("ix_insights_survey_question_survey_id"), table_name="insights_survey_question"
    )
    op.drop_table("insights_survey_question")
    op.drop_index(
        op.f("ix_insights_survey_activity_activity_id"), table_name="insights_survey_activity"
    )
    op.drop_table("insights_survey_activity")
    op.drop_index(op.f("ix_insights_survey_region_id"), table_name="insights_survey")
    op.drop_index(op.f("ix_insights_survey_owner_id"), table_name="insights_survey")
    op.drop_table("insights_survey")
