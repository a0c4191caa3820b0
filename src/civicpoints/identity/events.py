"""What identity announces to the domains above it (see kit/hooks.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from civicpoints.kit.hooks import Gather, Hook


@dataclass(frozen=True)
class ResidentVerified:
    """A resident passed real-name verification; `actor` did it (the resident or a staff key)."""

    resident_id: uuid.UUID
    actor: str


resident_verified: Hook[ResidentVerified] = Hook("identity.resident_verified")


@dataclass(frozen=True)
class ConsentWithdrawn:
    """A resident withdrew consent (PIPL; also the first step of an erasure): domains above
    drop what they derived from the resident, in the same transaction."""

    resident_id: uuid.UUID


consent_withdrawn: Hook[ConsentWithdrawn] = Hook("identity.consent_withdrawn")


@dataclass(frozen=True)
class ResidentDataAsked:
    """A resident asked for everything held about them (PIPL, privacy's export): domains above
    answer with named sections of what they hold (`Gather`)."""

    resident_id: uuid.UUID


resident_data: Gather[ResidentDataAsked] = Gather("identity.resident_data")


@dataclass(frozen=True)
class ResidentErased:
    """A resident's personal data was erased (privacy's deletion): domains above erase what
    personal data they hold of the resident, in the same transaction."""

    resident_id: uuid.UUID


resident_erased: Hook[ResidentErased] = Hook("identity.resident_erased")
