"""HTTP for volunteer teams (志愿队), their challenges and their pool (thin)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response

from civicpoints.access import Principal
from civicpoints.community.donation_rules import mask_name
from civicpoints.community.team_schemas import (
    CaptainSet,
    ChallengeSet,
    ContributionRead,
    MemberRead,
    MembersAdd,
    TeamBrief,
    TeamCreate,
    TeamRead,
    TeamRedeem,
    TeamRedemptionRead,
)
from civicpoints.community.teams import TeamService, TeamView
from civicpoints.identity import ResidentCaller, StaffCaller
from civicpoints.kit.http import DbSession, Idempotent, ReadSession

router = APIRouter(tags=["community 志愿队"])


def team_read(view: TeamView, viewer: Principal) -> TeamRead:
    """A team as the API shows it: staff see full names; a member sees their own name and
    the others' masked (张**), as the 爱心榜 does."""

    def name(rid: uuid.UUID) -> str:
        full = view.names.get(rid, "")
        return full if viewer.kind == "staff" or rid == viewer.id else mask_name(full)

    t = view.team
    redemptions = []
    for row, item in view.redemptions:
        out = TeamRedemptionRead.model_validate(row)
        out.item_name = item.name
        redemptions.append(out)
    return TeamRead(
        id=t.id, community_id=t.community_id, name=t.name, description=t.description,
        captain_id=t.captain_id, captain_name=name(t.captain_id), pool=view.pool,
        month_points=view.month_points,
        members=[MemberRead(resident_id=m.resident_id, name=name(m.resident_id),
                            captain=m.captain) for m in view.members],
        contributions=[ContributionRead(resident_id=c.resident_id, name=name(c.resident_id),
                                        points=c.points, hours=c.hours,
                                        participations=c.participations,
                                        share_permille=c.share_permille)
                       for c in view.contributions],
        redemptions=redemptions, challenges=[a.id for a in view.challenges],
    )  # fmt: skip


@router.get("/me/teams", response_model=list[TeamBrief])
def my_teams(who: ResidentCaller, db: ReadSession) -> list[TeamBrief]:
    """The teams you belong to."""
    return [TeamBrief.model_validate(t) for t in TeamService(db).teams_of(who.id)]


@router.get("/me/teams/{team_id}", response_model=TeamRead)
def my_team(team_id: uuid.UUID, who: ResidentCaller, db: ReadSession) -> TeamRead:
    """Your team: the pool, each member's contribution (points and hours), what it paid for."""
    service = TeamService(db)
    return team_read(service.view(service.member_team(who.id, team_id)), who)


@router.get("/teams", response_model=list[TeamBrief])
def teams(who: StaffCaller, db: ReadSession) -> list[TeamBrief]:
    """The teams of the communities you organize or do civil affairs for."""
    service = TeamService(db)
    return [TeamBrief.model_validate(t) for t in service.teams_in(service.communities_of(who))]


@router.post("/teams", response_model=TeamRead, status_code=201)
def create_team(body: TeamCreate, who: StaffCaller, db: DbSession) -> TeamRead:
    """Create a team of a community with its captain (the community's organizers)."""
    service = TeamService(db)
    team = service.create(who, body.community_id, body.name, body.description, body.captain_id)
    return team_read(service.view(team), who)


@router.get("/teams/{team_id}", response_model=TeamRead)
def team(team_id: uuid.UUID, who: StaffCaller, db: ReadSession) -> TeamRead:
    """A team as its community's staff see it."""
    service = TeamService(db)
    return team_read(service.view(service.staff_team(who, team_id)), who)


@router.post("/teams/{team_id}/members", response_model=TeamRead)
def add_members(team_id: uuid.UUID, body: MembersAdd, who: StaffCaller, db: DbSession) -> TeamRead:
    """Add residents of the team's community (all or none)."""
    service = TeamService(db)
    service.add_members(who, team_id, body.resident_ids)
    return team_read(service.view(service.staff_team(who, team_id)), who)


@router.delete("/teams/{team_id}/members/{resident_id}", status_code=204)
def remove_member(
    team_id: uuid.UUID, resident_id: uuid.UUID, who: StaffCaller, db: DbSession
) -> Response:
    """A member leaves the team (not the captain); their contribution stays listed."""
    TeamService(db).remove_member(who, team_id, resident_id)
    return Response(status_code=204)


@router.put("/teams/{team_id}/captain", response_model=TeamRead)
def set_captain(team_id: uuid.UUID, body: CaptainSet, who: StaffCaller, db: DbSession) -> TeamRead:
    """Make a member the captain."""
    service = TeamService(db)
    team = service.set_captain(who, team_id, body.resident_id)
    return team_read(service.view(team), who)


@router.post("/teams/{team_id}/challenges", response_model=TeamRead)
def make_challenge(
    team_id: uuid.UUID, body: ChallengeSet, who: StaffCaller, db: DbSession
) -> TeamRead:
    """Make an activity of the community a team challenge (积分挑战赛), before anyone enrols."""
    service = TeamService(db)
    service.make_challenge(who, team_id, body.activity_id)
    return team_read(service.view(service.staff_team(who, team_id)), who)


@router.post("/teams/{team_id}/redemptions", response_model=TeamRedemptionRead, status_code=201)
def redeem(
    team_id: uuid.UUID, body: TeamRedeem, who: StaffCaller, db: DbSession, once: Idempotent
) -> Any:
    """Spend the pool on a community-fund item (the community's civil-affairs staff)."""

    def run() -> TeamRedemptionRead:
        key = once.key or str(uuid.uuid4())
        row = TeamService(db).redeem(who, team_id, body.item_id, body.quantity, body.note, key)
        return TeamRedemptionRead.model_validate(row)

    return once(who.key, {"team_id": str(team_id), **body.model_dump(mode="json")}, run, 201)
