"""What activities asks the domains above it before it acts (see kit/hooks.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from civicpoints.kit.hooks import Guard


@dataclass(frozen=True)
class Joining:
    """A resident is about to join a team challenge: enrolment, or a staff-entered record."""

    activity_id: uuid.UUID
    team_id: uuid.UUID
    resident_id: uuid.UUID


joining: Guard[Joining] = Guard("activities.joining")
