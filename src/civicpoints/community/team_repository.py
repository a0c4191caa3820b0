"""All SQL of volunteer teams; never commits. Access limits are decided by the service (a
team belongs to one community: scope is the community's path)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpoints.activities import Activity, Participation, RecordStatus
from civicpoints.community.team_models import Team, TeamMember, TeamRedemption
from civicpoints.identity import Resident
from civicpoints.rewards import Item


class TeamRepository:
    """Reads and writes teams, members and redemptions."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        """Stage a new row and send it (constraint violations surface here)."""
        self.session.add(row)
        self.session.flush()

    def team(self, team_id: uuid.UUID, lock: bool = False) -> Team | None:
        """One team (locked: its membership is about to change)."""
        stmt = select(Team).where(Team.id == team_id)
        if lock:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).one_or_none()

    def by_name(self, community_id: uuid.UUID, name: str) -> Team | None:
        """A community's team by name."""
        stmt = select(Team).where(Team.community_id == community_id, Team.name == name)
        return self.session.scalars(stmt).one_or_none()

    def teams_in(self, community_ids: Sequence[uuid.UUID]) -> Sequence[Team]:
        """The teams of these communities, by name."""
        stmt = select(Team).where(Team.community_id.in_(community_ids)).order_by(Team.name)
        return self.session.scalars(stmt).all()

    def teams_of(self, resident_id: uuid.UUID) -> Sequence[Team]:
        """The teams a resident is a (current) member of, by name."""
        stmt = (
            select(Team)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.resident_id == resident_id, TeamMember.left_at.is_(None))
            .order_by(Team.name)
        )
        return self.session.scalars(stmt).all()

    def member(self, team_id: uuid.UUID, resident_id: uuid.UUID) -> TeamMember | None:
        """A resident's membership row (current or past)."""
        return self.session.get(TeamMember, (team_id, resident_id))

    def members(self, team_id: uuid.UUID) -> Sequence[tuple[TeamMember, Resident]]:
        """Current members with their resident rows, in the order they joined."""
        stmt = (
            select(TeamMember, Resident)
            .join(Resident, Resident.id == TeamMember.resident_id)
            .where(TeamMember.team_id == team_id, TeamMember.left_at.is_(None))
            .order_by(TeamMember.joined_at, TeamMember.resident_id)
        )
        return [(m, r) for m, r in self.session.execute(stmt).all()]

    def residents(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Resident]:
        """Residents by id."""
        if not ids:
            return {}
        stmt = select(Resident).where(Resident.id.in_(ids))
        return {r.id: r for r in self.session.scalars(stmt).all()}

    def challenges(self, team_id: uuid.UUID) -> Sequence[Activity]:
        """The team's challenges (activities whose points go to its pool), newest first."""
        stmt = select(Activity).where(Activity.team_id == team_id)
        return self.session.scalars(stmt.order_by(Activity.starts_at.desc())).all()

    def challenge_records(self, team_id: uuid.UUID) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Approved records of the team's challenges: participation ids by resident."""
        stmt = (
            select(Participation.resident_id, Participation.id)
            .join(Activity, Activity.id == Participation.activity_id)
            .where(Activity.team_id == team_id, Participation.status == RecordStatus.APPROVED)
        )
        found: dict[uuid.UUID, list[uuid.UUID]] = {}
        for rid, pid in self.session.execute(stmt).all():
            found.setdefault(rid, []).append(pid)
        return found

    def redemption_by_key(self, team_id: uuid.UUID, key: str) -> TeamRedemption | None:
        """A redemption by its idempotency key."""
        stmt = select(TeamRedemption).where(
            TeamRedemption.team_id == team_id, TeamRedemption.idempotency_key == key
        )
        return self.session.scalars(stmt).one_or_none()

    def redemptions(
        self, team_id: uuid.UUID, limit: int = 50
    ) -> Sequence[tuple[TeamRedemption, Item]]:
        """The team's redemptions with their items, newest first."""
        stmt = (
            select(TeamRedemption, Item)
            .join(Item, Item.id == TeamRedemption.item_id)
            .where(TeamRedemption.team_id == team_id)
            .order_by(TeamRedemption.created_at.desc(), TeamRedemption.id.desc())
            .limit(limit)
        )
        return [(r, i) for r, i in self.session.execute(stmt).all()]
