"""Erasing a resident's personal data from their hazard reports (PIPL deletion).

The reports stay (the department's record of the hazard: its kind, community and address, the
decision and the points); what the resident wrote, where their phone was and the photo go.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from civicpoints.activities import blob_path
from civicpoints.community.hazard_models import HazardReport


def erase_hazard_data(session: Session, uploads: Path, resident_id: uuid.UUID) -> int:
    """Clear the description, positions and photos of the resident's reports; returns photos
    removed (a photo another report also holds stays)."""
    mine = HazardReport.resident_id == resident_id
    paths = set(session.scalars(select(HazardReport.photo_path).where(mine)))
    session.execute(
        update(HazardReport)
        .where(mine)
        .values(description="", lat=None, lon=None, photo_path="", photo_taken_at=None)
        .values(photo_lat=None, photo_lon=None)
    )
    shared = set(
        session.scalars(select(HazardReport.photo_path).where(HazardReport.photo_path.in_(paths)))
    )
    removed = 0
    for relative in paths - shared - {""}:
        blob_path(uploads, relative).unlink(missing_ok=True)
        removed += 1
    return removed
