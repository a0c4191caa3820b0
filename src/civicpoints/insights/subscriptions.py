"""What insights does when another domain announces something (see kit/hooks.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from civicpoints.identity import ConsentWithdrawn, consent_withdrawn
from civicpoints.insights.recs import RecsService
from civicpoints.kit.context import Context


def forget_recommendations(session: Session, ctx: Context, event: ConsentWithdrawn) -> None:
    """Consent withdrawn: the resident's stored recommendations go in the same transaction
    (the nightly job then leaves them out of the model and never ranks them again)."""
    RecsService(session).forget(event.resident_id)


def subscribe() -> None:
    """Subscribe insights' handlers (idempotent; run when the package is imported)."""
    consent_withdrawn.subscribe(forget_recommendations)
