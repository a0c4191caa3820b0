"""Erasing a resident's personal data from activity records (PIPL deletion; docs/privacy.md).

The records stay (they are the basis of hours and points); free text, places and photos go.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from civicpoints.activities.models import Evidence, Participation
from civicpoints.activities.storage import blob_path


def erase_activity_data(session: Session, uploads: Path, resident_id: uuid.UUID) -> int:
    """Clear notes, places and photos of the resident's records; returns photos removed."""
    mine = select(Participation.id).where(Participation.resident_id == resident_id)
    session.execute(
        update(Participation)
        .where(Participation.resident_id == resident_id)
        .values(note="", review_reason="", checkin_lat=None, checkin_lon=None)
        .values(checkout_lat=None, checkout_lon=None)
    )
    paths = set(session.scalars(select(Evidence.path).where(Evidence.participation_id.in_(mine))))
    session.execute(
        update(Evidence)
        .where(Evidence.participation_id.in_(mine))
        .values(path="", taken_at=None, gps_lat=None, gps_lon=None)
    )
    shared = set(session.scalars(select(Evidence.path).where(Evidence.path.in_(paths))))
    removed = 0
    for relative in paths - shared - {""}:  # a photo another resident also sent stays theirs
        blob_path(uploads, relative).unlink(missing_ok=True)
        removed += 1
    return removed
