"""What activities does when another domain announces something (see kit/hooks.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from civicpoints.activities.records import RecordService
from civicpoints.identity import ResidentVerified, resident_verified
from civicpoints.kit.context import Context


def release_held_points(session: Session, ctx: Context, event: ResidentVerified) -> None:
    """A newly verified resident gets the points of records approved while unverified."""
    RecordService(session, ctx).release_deferred(event.resident_id, event.actor)


def subscribe() -> None:
    """Subscribe activities' handlers (idempotent; run when the package is imported)."""
    resident_verified.subscribe(release_held_points)
