"""What insights does when another domain announces something (see kit/hooks.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from civicpoints.identity import (
    ConsentWithdrawn,
    ResidentDataAsked,
    ResidentErased,
    consent_withdrawn,
    resident_data,
    resident_erased,
)
from civicpoints.insights.recs import RecsService
from civicpoints.insights.surveys import SurveyService
from civicpoints.kit.context import Context


def forget_recommendations(session: Session, ctx: Context, event: ConsentWithdrawn) -> None:
    """Consent withdrawn: the resident's stored recommendations go in the same transaction
    (the nightly job then leaves them out of the model and never ranks them again)."""
    RecsService(session).forget(event.resident_id)


def resident_sections(session: Session, ctx: Context, event: ResidentDataAsked) -> dict[str, Any]:
    """What insights holds about a resident, for their export (PIPL): their survey responses
    with every answer, their recommendations choice and stored list."""
    return {
        "survey_responses": SurveyService(session).export(event.resident_id),
        "recommendations": RecsService(session).export(event.resident_id),
    }


def erase_resident(session: Session, ctx: Context, event: ResidentErased) -> None:
    """Erasure: the resident's free-text survey answers blanked (what they wrote may name
    them), their stored recommendations deleted; their choices stay, counted under nobody's
    name, as their hours and ledger entries do."""
    SurveyService(session).erase(event.resident_id)
    RecsService(session).forget(event.resident_id)


def subscribe() -> None:
    """Subscribe insights' handlers (idempotent; run when the package is imported)."""
    consent_withdrawn.subscribe(forget_recommendations)
    resident_data.subscribe(resident_sections)
    resident_erased.subscribe(erase_resident)
