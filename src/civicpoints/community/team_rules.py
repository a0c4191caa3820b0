"""Pure rules of volunteer teams (志愿队): contributions, shares, what a pool may pay for.
No session, no clock: values in, values out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

MAX_QUANTITY = 1_000  # units of a community item one redemption may pay for
NAME_MAX = 60


@dataclass(frozen=True)
class Contribution:
    """What one member brought to the team: points to the pool, hours, and the share."""

    resident_id: uuid.UUID
    points: int
    minutes: int
    participations: int
    share_permille: int  # of the team's points, in ‰ (rounded down)

    @property
    def hours(self) -> str:
        """Hours with one decimal, as the hours register shows them (4.0)."""
        return hours_text(self.minutes)


def hours_text(minutes: int) -> str:
    """Minutes as hours with one decimal (240 → "4.0")."""
    return f"{minutes / 60:.1f}"


def contributions(
    members: list[uuid.UUID],
    points: dict[uuid.UUID, tuple[int, int]],
    minutes: dict[uuid.UUID, int],
) -> list[Contribution]:
    """Every member's contribution (members with none show 0), most points first, then most
    hours; anyone who earned for the team and has since left is still listed."""
    everyone = list(dict.fromkeys([*members, *points, *minutes]))
    total = sum(p for p, _ in points.values())
    lines = []
    for rid in everyone:
        got, n = points.get(rid, (0, 0))
        share = got * 1000 // total if total else 0
        lines.append(Contribution(rid, got, minutes.get(rid, 0), n, share))
    return sorted(lines, key=lambda c: (-c.points, -c.minutes, str(c.resident_id)))


def clean_name(name: str) -> str | None:
    """A team's name without surrounding blanks, or None when empty or too long."""
    name = " ".join(name.split())
    return name if 0 < len(name) <= NAME_MAX else None


def quantity_ok(quantity: int) -> bool:
    """Whether a redemption's quantity is a whole number from 1 to MAX_QUANTITY."""
    return not isinstance(quantity, bool) and 1 <= quantity <= MAX_QUANTITY
