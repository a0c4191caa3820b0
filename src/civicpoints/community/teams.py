"""Use cases of volunteer teams (志愿队) and their 积分挑战赛 (team challenges). Never commits.

A team belongs to one community, has a captain and members (residents of that community).
An activity made a team challenge pays its points to the team's pool (a ledger account of
kind `team_pool`) under the team's monthly cap, never the member's; every member's hours still
go to their own register (activities and scoring do both: see `RecordService.award`). Only
members may join a challenge (the `joining` guard below). The pool is spent only on
community-fund items, decided by the community's civil-affairs staff (民政专干), through the
ledger journal (rewards' `fund_item`: a hold posted to the item sponsor's sink).

Who may do what (and why): the community's organizers (社工, who run its activities) create
teams, set captains and members and turn an activity into a team challenge; the community's
civil-affairs staff, who already decide the 爱心积分池, decide what a team pool pays for, so
the people who earn the points are not the people who spend them.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.activities import Activity, ActivityService, Joining, joining
from civicpoints.community import team_rules as rules
from civicpoints.community.team_errors import (
    DuplicateTeam,
    NotCommunityItem,
    NotTeamMember,
    NotTeamStaff,
    TeamNotFound,
    WrongCommunity,
)
from civicpoints.community.team_models import Team, TeamMember, TeamRedemption
from civicpoints.community.team_repository import TeamRepository
from civicpoints.hours import HoursService
from civicpoints.identity import Resident, ResidentNotFound
from civicpoints.kit.clock import month_key, utcnow
from civicpoints.kit.errors import Conflict, InvalidInput
from civicpoints.kit.schemas import has_hidden
from civicpoints.ledger import HoldService, team_pool_of
from civicpoints.regions import RegionService
from civicpoints.rewards import FundOrder, Item, community_items, fund_item
from civicpoints.scoring import ScoringService

# Who does what, for the refusal's words.
_ROLES = {
    Role.ORGANIZER: ("社工（活动组织者）", "organizers"),
    Role.CIVIL_AFFAIRS: ("民政专干", "civil-affairs staff"),
}


@dataclass(frozen=True)
class Member:
    """A current member as the team page shows them."""

    resident_id: uuid.UUID
    name: str
    captain: bool


@dataclass(frozen=True)
class TeamView:
    """A team as its members and its staff see it."""

    team: Team
    captain_name: str
    pool: int  # spendable points (unexpired)
    month_points: int  # points counted against the team's cap this Beijing month
    members: list[Member]
    contributions: list[rules.Contribution]
    names: dict[uuid.UUID, str]
    redemptions: list[tuple[TeamRedemption, Item]]
    challenges: list[Activity]


def _digest(*parts: object) -> str:
    """What makes two requests 'the same' for idempotency."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


class TeamService:
    """Teams, their members, challenges and pool inside the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repo = TeamRepository(session)
        self.regions = RegionService(session)

    # -- access --------------------------------------------------------------------------

    def check_staff(self, who: Principal, community_id: uuid.UUID, role: Role, what: str) -> None:
        """Refuse (403) anyone but staff holding `role` on the community (or above it)."""
        community = self.regions.community(community_id)
        if who.kind != "staff" or not who.may(role, community.path):
            zh, en = _ROLES[role]
            what_zh, what_en = what.split(" / ")
            raise NotTeamStaff(role_zh=zh, role_en=en, what_zh=what_zh, what_en=what_en)

    def may_manage(self, who: Principal, community_id: uuid.UUID) -> bool:
        """Whether `who` organizes teams in the community."""
        path = self.regions.community(community_id).path
        return who.kind == "staff" and who.may(Role.ORGANIZER, path)

    def may_spend(self, who: Principal, community_id: uuid.UUID) -> bool:
        """Whether `who` decides what the community's team pools pay for."""
        path = self.regions.community(community_id).path
        return who.kind == "staff" and who.may(Role.CIVIL_AFFAIRS, path)

    def communities_of(self, who: Principal) -> list[uuid.UUID]:
        """The communities whose teams `who` organizes or spends (by grant)."""
        if who.kind != "staff":
            return []
        return [
            r.id for r in self.regions.tree()
            if r.level == "community" and (who.may(Role.ORGANIZER, r.path)
                                           or who.may(Role.CIVIL_AFFAIRS, r.path))
        ]  # fmt: skip

    def staff_team(self, who: Principal, team_id: uuid.UUID) -> Team:
        """A team its community's staff (organizer or civil affairs) may see; else 404."""
        team = self.repo.team(team_id)
        if team is None or not (
            self.may_manage(who, team.community_id) or self.may_spend(who, team.community_id)
        ):
            raise TeamNotFound("team_id")
        return team

    def member_team(self, resident_id: uuid.UUID, team_id: uuid.UUID) -> Team:
        """A team the resident belongs to; any other (or none) is 404, as an unknown id."""
        team = self.repo.team(team_id)
        row = self.repo.member(team_id, resident_id) if team else None
        if team is None or row is None or row.left_at is not None:
            raise TeamNotFound("team_id")
        return team

    # -- teams and members ----------------------------------------------------------------

    def create(
        self,
        who: Principal,
        community_id: uuid.UUID,
        name: str,
        description: str,
        captain_id: uuid.UUID,
    ) -> Team:
        """A new team with its captain (its first member)."""
        self.check_staff(who, community_id, Role.ORGANIZER, "建立志愿队 / create teams")
        clean = rules.clean_name(name)
        if clean is None or has_hidden(clean):
            raise InvalidInput("name")
        if has_hidden(description, frozenset("\n")):
            raise InvalidInput("description")
        captain = self._residents([captain_id], "captain_id")[0]
        self._in_community(captain, community_id, "captain_id")
        if self.repo.by_name(community_id, clean) is not None:
            raise DuplicateTeam("name", name=clean)
        team = Team(
            community_id=community_id, name=clean, description=description.strip()[:300],
            captain_id=captain.id, created_by=who.id,
        )  # fmt: skip
        self.repo.add(team)
        self.repo.add(TeamMember(team_id=team.id, resident_id=captain.id, added_by=who.id))
        return team

    def add_members(self, who: Principal, team_id: uuid.UUID, resident_ids: list[uuid.UUID]) -> int:
        """Add residents of the team's community (rejoining clears their leaving); how many
        were added. All or nothing: one resident of another community refuses the lot."""
        team = self._managed(who, team_id, lock=True)
        residents = self._residents(resident_ids, "resident_ids")
        for r in residents:
            self._in_community(r, team.community_id, "resident_ids")
        added = 0
        for r in residents:
            row = self.repo.member(team.id, r.id)
            if row is None:
                self.session.add(TeamMember(team_id=team.id, resident_id=r.id, added_by=who.id))
                added += 1
            elif row.left_at is not None:
                row.left_at, row.joined_at, row.added_by = None, utcnow(), who.id
                added += 1
        self.session.flush()
        return added

    def remove_member(self, who: Principal, team_id: uuid.UUID, resident_id: uuid.UUID) -> None:
        """A member leaves (their contribution stays on the team page); not the captain."""
        team = self._managed(who, team_id, lock=True)
        row = self.repo.member(team.id, resident_id)
        if row is None or row.left_at is not None:
            raise ResidentNotFound("resident_id")
        if resident_id == team.captain_id:
            raise Conflict("resident_id")  # name another captain first
        row.left_at = utcnow()
        self.session.flush()

    def set_captain(self, who: Principal, team_id: uuid.UUID, resident_id: uuid.UUID) -> Team:
        """Make a current member the captain."""
        team = self._managed(who, team_id, lock=True)
        row = self.repo.member(team.id, resident_id)
        if row is None or row.left_at is not None:
            raise NotTeamMember("resident_id", team=team.name, what_zh="担任队长",
                                what_en="be its captain")  # fmt: skip
        team.captain_id = resident_id
        self.session.flush()
        return team

    def make_challenge(
        self, who: Principal, team_id: uuid.UUID, activity_id: uuid.UUID
    ) -> Activity:
        """Make an activity of the team's community a team challenge (积分挑战赛): its points go
        to the team's pool. Only before anyone enrolled."""
        team = self._managed(who, team_id)
        activities = ActivityService(self.session)
        activity = activities.get(activity_id)
        if activity.region_id != team.community_id:
            raise WrongCommunity("activity_id", what_zh="该活动", what_en="the activity")
        return activities.make_team_challenge(activity.id, team.id)

    def _managed(self, who: Principal, team_id: uuid.UUID, lock: bool = False) -> Team:
        """The team, once `who` organizes its community (scope first: another's is 404)."""
        team = self.repo.team(team_id, lock=lock)
        if team is None or not self.may_manage(who, team.community_id):
            if team is not None and self.may_spend(who, team.community_id):
                self.check_staff(
                    who, team.community_id, Role.ORGANIZER, "管理志愿队 / manage teams"
                )
            raise TeamNotFound("team_id")
        return team

    def _residents(self, ids: list[uuid.UUID], field: str) -> list[Resident]:
        """The residents of `ids` (each once), or 404 naming the field."""
        found = self.repo.residents(list(dict.fromkeys(ids)))
        if len(found) != len(set(ids)):
            raise ResidentNotFound(field)
        return list(found.values())

    def _in_community(self, resident: Resident, community_id: uuid.UUID, field: str) -> None:
        if resident.community_id != community_id:
            raise WrongCommunity(field, what_zh="该居民", what_en="the resident")

    # -- reading -------------------------------------------------------------------------

    def teams_of(self, resident_id: uuid.UUID) -> list[Team]:
        """The teams a resident belongs to."""
        return list(self.repo.teams_of(resident_id))

    def teams_in(self, community_ids: list[uuid.UUID]) -> list[Team]:
        """The teams of these communities."""
        return list(self.repo.teams_in(community_ids)) if community_ids else []

    def pool(self, team_id: uuid.UUID) -> int:
        """Spendable points of the team's pool (unexpired lots)."""
        return HoldService(self.session).available(team_pool_of(team_id))

    def view(self, team: Team) -> TeamView:
        """The team page: pool, this month against the cap, members, each one's contribution
        (points to the pool, hours in their own register), redemptions, challenges."""
        members = self.repo.members(team.id)
        points = ScoringService(self.session).team_awards(team.id)
        records = self.repo.challenge_records(team.id)
        hours = HoursService(self.session)
        minutes = {rid: sum(hours.minutes_of(rid, ids).values()) for rid, ids in records.items()}
        lines = rules.contributions([r.id for _, r in members], points, minutes)
        names = {r.id: r.name for _, r in members}
        missing = [c.resident_id for c in lines if c.resident_id not in names]
        names |= {rid: r.name for rid, r in self.repo.residents(missing).items()}
        month = ScoringService(self.session).month_points(team.id, month_key(utcnow()))
        return TeamView(
            team=team,
            captain_name=names.get(team.captain_id, ""),
            pool=self.pool(team.id),
            month_points=month,
            members=[Member(r.id, r.name, r.id == team.captain_id) for _, r in members],
            contributions=lines,
            names=names,
            redemptions=list(self.repo.redemptions(team.id)),
            challenges=list(self.repo.challenges(team.id)),
        )

    def items_for(self, team: Team) -> list[Item]:
        """The community-fund items the team's pool may pay for."""
        return community_items(self.session, self._region_ids(team))

    def _region_ids(self, team: Team) -> list[str]:
        community = self.regions.get(team.community_id)
        return [str(r.id) for r in self.regions.ancestry(community)]

    # -- spending the pool ---------------------------------------------------------------

    def redeem(
        self,
        who: Principal,
        team_id: uuid.UUID,
        item_id: uuid.UUID,
        quantity: int,
        note: str,
        key: str,
    ) -> TeamRedemption:
        """Spend the pool on a community-fund item (civil-affairs staff of the community)."""
        team = self.repo.team(team_id)
        if team is None:
            raise TeamNotFound("team_id")
        self.check_staff(who, team.community_id, Role.CIVIL_AFFAIRS,
                         "决定志愿队积分池的用途 / decide what a team pool pays for")  # fmt: skip
        if not rules.quantity_ok(quantity):
            raise InvalidInput("quantity")
        if has_hidden(note):
            raise InvalidInput("note")
        digest = _digest("team-redeem", item_id, quantity, note)
        earlier = self.repo.redemption_by_key(team.id, key)
        if earlier is not None:
            if earlier.request_hash != digest:
                raise Conflict("Idempotency-Key")
            return earlier
        if item_id not in {i.id for i in self.items_for(team)}:
            raise NotCommunityItem("item_id")
        rid = uuid.uuid4()
        order = FundOrder(
            owner=team_pool_of(team.id), item_id=item_id, quantity=quantity,
            ref=f"team_redemption:{rid}",
            reason=f"志愿队积分兑换 / team pool: {team.name} {note}".strip(),
            actor=f"staff:{who.id}", idempotency_key=f"team-redeem:{team.id}:{key}",
            region_ids=self._region_ids(team),
        )  # fmt: skip
        item, hold = fund_item(self.session, order)
        row = TeamRedemption(
            id=rid, team_id=team.id, item_id=item.id, quantity=quantity,
            points=hold.amount, note=note.strip()[:200], staff_id=who.id,
            idempotency_key=key, request_hash=digest, hold_bucket=hold.bucket,
            hold_id=hold.id, entry_id=hold.hold_entry_id,
        )  # fmt: skip
        self.repo.add(row)
        return row


def check_joining(session: Session, event: Joining) -> None:
    """Only current members of the team join its challenge (enrolment, or a staff record)."""
    repo = TeamRepository(session)
    team = repo.team(event.team_id)
    row = repo.member(event.team_id, event.resident_id)
    if team is None or row is None or row.left_at is not None:
        name = team.name if team else ""
        raise NotTeamMember("activity_id", team=name, what_zh="参加本队的积分挑战赛",
                            what_en="join its team challenge")  # fmt: skip


def subscribe() -> None:
    """Subscribe community's checks (idempotent; run when the package is imported)."""
    joining.subscribe(check_joining)
