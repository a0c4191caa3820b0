"""What a rule set would have done to a past month: the real rules re-run over real facts.

Pure: values in, values out. The same `compute_award` that pays residents is replayed over
a month's participations twice, once under the versions in force and once with a proposed
version added, each resident's monthly cap consumed in the order the services ended.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from civicpoints.scoring import rules

# The proposal's id: greater than any stored id, so it wins a tie on the same start date.
PROPOSAL_ID = uuid.UUID(int=2**128 - 1)


@dataclass(frozen=True)
class PastParticipation:
    """One decided participation of the month: whose, where (region and ancestors), facts."""

    participation_id: uuid.UUID
    resident_id: uuid.UUID
    region_ids: Sequence[uuid.UUID]
    on: date  # the Beijing day the service ended
    order: tuple[object, ...]  # how the awards were made: earlier first
    facts: rules.Facts


@dataclass(frozen=True)
class ResidentChange:
    """A resident whose month would come out differently: points before and after."""

    resident_id: uuid.UUID
    before: int
    after: int

    @property
    def delta(self) -> int:
        """Points more (positive) or less (negative) under the proposal."""
        return self.after - self.before


@dataclass(frozen=True)
class Simulation:
    """The proposal's effect on one month, with what a point is worth (fen per point)."""

    month: str
    participations: int
    residents: int
    points_before: int
    points_after: int
    fen_per_point: int
    changes: tuple[ResidentChange, ...]  # the residents affected, largest change first

    @property
    def delta(self) -> int:
        """Points more (positive) or less (negative) in the month."""
        return self.points_after - self.points_before

    @property
    def cost_fen(self) -> int:
        """What the difference is worth, in fen (negative: saved)."""
        return self.delta * self.fen_per_point

    @property
    def gainers(self) -> int:
        """Residents who would have earned more."""
        return sum(1 for c in self.changes if c.delta > 0)

    @property
    def losers(self) -> int:
        """Residents who would have earned less."""
        return sum(1 for c in self.changes if c.delta < 0)


def with_proposal(
    versions: Iterable[rules.Version],
    region_id: uuid.UUID | None,
    first: date,
    proposal: rules.RuleSet,
) -> list[rules.Version]:
    """The stored versions with `proposal` in force for its region from `first` on (replacing
    that region's versions from then; a more specific region's own rules still win)."""
    kept = [v for v in versions if not (v.region_id == region_id and v.effective_from >= first)]
    return [*kept, rules.Version(PROPOSAL_ID, region_id, first, proposal)]


def replay(
    past: Sequence[PastParticipation], versions: Sequence[rules.Version]
) -> dict[uuid.UUID, int]:
    """Points per resident for `past` (one month) under `versions`, caps applied in order."""
    used: dict[uuid.UUID, int] = {}
    memo: dict[tuple[tuple[uuid.UUID, ...], date], rules.RuleSet] = {}
    for p in sorted(past, key=lambda p: p.order):
        key = (tuple(p.region_ids), p.on)
        if key not in memo:
            memo[key] = rules.in_force(versions, list(p.region_ids), p.on)[1]
        so_far = used.get(p.resident_id, 0)
        used[p.resident_id] = so_far + rules.compute_award(memo[key], p.facts, so_far).awarded
    return used


def simulate(
    month: str,
    past: Sequence[PastParticipation],
    current: Sequence[rules.Version],
    proposed: Sequence[rules.Version],
    fen_per_point: int,
) -> Simulation:
    """The month replayed under the versions in force and under the proposal."""
    before, after = replay(past, current), replay(past, proposed)
    changes = [
        ResidentChange(rid, before.get(rid, 0), after.get(rid, 0))
        for rid in before.keys() | after.keys()
        if before.get(rid, 0) != after.get(rid, 0)
    ]
    changes.sort(key=lambda c: (-abs(c.delta), str(c.resident_id)))
    return Simulation(
        month=month,
        participations=len(past),
        residents=len(before),
        points_before=sum(before.values()),
        points_after=sum(after.values()),
        fen_per_point=fen_per_point,
        changes=tuple(changes),
    )
