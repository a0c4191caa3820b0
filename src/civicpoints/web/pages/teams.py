"""志愿队 pages: a member's team page (the pool, each member's points and hours, what the pool
paid for), and the staff's team pages (create a team with its captain, members, make an
activity a team challenge, spend the pool on a community item). The same services and errors
as the API's /api/v1/teams routes; plain forms that work without JavaScript."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import Response

from civicpoints.activities import ActivityService
from civicpoints.community import TeamService, TeamView, mask_name
from civicpoints.identity import IdentityService
from civicpoints.kit.clock import utcnow
from civicpoints.kit.errors import DomainError
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, ResidentPage, StaffPage

router = APIRouter(include_in_schema=False)


def _names(p: Page, view: TeamView) -> dict[uuid.UUID, str]:
    """Names as the viewer may see them: staff in full; a member their own, others masked."""
    assert p.who is not None
    if p.who.kind == "staff":
        return dict(view.names)
    return {rid: n if rid == p.who.id else mask_name(n) for rid, n in view.names.items()}


# -- residents -------------------------------------------------------------------------------


@router.get("/teams")
def my_teams(p: ResidentPage) -> Response:
    """The teams the resident belongs to."""
    assert p.who is not None
    return p.render("resident/teams.html", teams=TeamService(p.db).teams_of(p.who.id))


@router.get("/teams/{team_id}")
def my_team(p: ResidentPage, team_id: uuid.UUID) -> Response:
    """The team page: pool, each member's contribution, what the pool paid for."""
    assert p.who is not None
    service = TeamService(p.db)
    view = service.view(service.member_team(p.who.id, team_id))
    return p.render("resident/team.html", view=view, names=_names(p, view))


# -- staff -----------------------------------------------------------------------------------


def _teams_page(
    p: Page,
    status: int = 200,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    """The staff's teams: those of their communities, and the form to create one."""
    assert p.who is not None
    service = TeamService(p.db)
    communities = service.communities_of(p.who)
    regions = {c: service.regions.get(c) for c in communities}
    manage = [c for c in communities if service.may_manage(p.who, c)]
    return p.render(
        "staff/teams.html",
        status,
        teams=service.teams_in(communities),
        regions=regions,
        manage=manage,
        errors=errors or FormErrors(),
        values=values or {},
    )


@router.get("/staff/teams")
def teams(p: StaffPage) -> Response:
    """Volunteer teams of the staff member's communities."""
    return _teams_page(p)


@router.post("/staff/teams")
async def create_team(p: StaffPage) -> Response:
    """Create a team with its captain (found by platform number or phone), as the API does."""
    assert p.who is not None
    values = await form_data(p.request, ("community_id", "name", "description", "captain"))
    try:
        community = uuid.UUID(values["community_id"])
    except ValueError:
        errors = FormErrors([("community_id", p._("Choose a community"))])
        return _teams_page(p, 422, errors, values)
    if not values["name"]:
        return _teams_page(p, 422, FormErrors([("name", p._("Enter the team's name"))]), values)
    captain = IdentityService(p.db, p.ctx).find_resident(values["captain"])
    if captain is None:
        message = p._("No resident of this community has that number")
        return _teams_page(p, 422, FormErrors([("captain", message)]), values)
    try:
        team = TeamService(p.db).create(
            p.who, community, values["name"], values["description"], captain.id
        )
    except DomainError as exc:
        errors = FormErrors.of(exc, p.locale)
        errors.items = [("captain" if f == "captain_id" else f, m) for f, m in errors.items]
        return _teams_page(p, exc.status, errors, values)
    return p.redirect(f"/staff/teams/{team.id}")


def _team_page(
    p: Page, team_id: uuid.UUID, status: int = 200, errors: FormErrors | None = None
) -> Response:
    """A team as its staff see it, with the forms their role allows."""
    assert p.who is not None
    service = TeamService(p.db)
    team = service.staff_team(p.who, team_id)
    view = service.view(team)
    manage = service.may_manage(p.who, team.community_id)
    spend = service.may_spend(p.who, team.community_id)
    open_activities = []
    if manage:
        now = utcnow()
        open_activities = [
            a for a in ActivityService(p.db).organized_by(p.who)
            if a.region_id == team.community_id and a.team_id is None and a.ends_at > now
        ]  # fmt: skip
    return p.render(
        "staff/team.html",
        status,
        view=view,
        names=_names(p, view),
        manage=manage,
        spend=spend,
        activities=open_activities,
        items=service.items_for(team) if spend else [],
        key=str(uuid.uuid4()),
        errors=errors or FormErrors(),
    )


@router.get("/staff/teams/{team_id}")
def team(p: StaffPage, team_id: uuid.UUID) -> Response:
    """One team: pool, contributions, members, challenges, redemptions."""
    return _team_page(p, team_id)


@router.post("/staff/teams/{team_id}/members")
async def add_member(p: StaffPage, team_id: uuid.UUID) -> Response:
    """Add a resident of the community by platform number or phone."""
    assert p.who is not None
    values = await form_data(p.request, ("handle",))
    service = TeamService(p.db)
    service.staff_team(p.who, team_id)  # scope before the lookup
    resident = IdentityService(p.db, p.ctx).find_resident(values["handle"])
    if resident is None:
        message = p._("No resident of this community has that number")
        return _team_page(p, team_id, 422, FormErrors([("handle", message)]))
    try:
        service.add_members(p.who, team_id, [resident.id])
    except DomainError as exc:
        errors = FormErrors.of(exc, p.locale)
        errors.items = [("handle", m) for _, m in errors.items]
        return _team_page(p, team_id, exc.status, errors)
    return p.redirect(f"/staff/teams/{team_id}")


@router.post("/staff/teams/{team_id}/captain")
async def set_captain(p: StaffPage, team_id: uuid.UUID) -> Response:
    """Make a member the captain."""
    assert p.who is not None
    values = await form_data(p.request, ("captain_id",))
    try:
        TeamService(p.db).set_captain(p.who, team_id, uuid.UUID(values["captain_id"]))
    except ValueError:
        return _team_page(p, team_id, 422, FormErrors([("captain_id", p._("Choose a member"))]))
    except DomainError as exc:
        return _team_page(p, team_id, exc.status, FormErrors.of(exc, p.locale))
    return p.redirect(f"/staff/teams/{team_id}")


@router.post("/staff/teams/{team_id}/challenges")
async def make_challenge(p: StaffPage, team_id: uuid.UUID) -> Response:
    """Make an activity of the community the team's challenge."""
    assert p.who is not None
    values = await form_data(p.request, ("activity_id",))
    try:
        TeamService(p.db).make_challenge(p.who, team_id, uuid.UUID(values["activity_id"]))
    except ValueError:
        errors = FormErrors([("activity_id", p._("Choose an activity"))])
        return _team_page(p, team_id, 422, errors)
    except DomainError as exc:
        return _team_page(p, team_id, exc.status, FormErrors.of(exc, p.locale))
    return p.redirect(f"/staff/teams/{team_id}")


@router.post("/staff/teams/{team_id}/redeem")
async def redeem(p: StaffPage, team_id: uuid.UUID) -> Response:
    """Spend the pool on a community item (civil-affairs staff); a resubmitted form pays once."""
    assert p.who is not None
    values = await form_data(p.request, ("item_id", "quantity", "note", "key"))
    try:
        item_id = uuid.UUID(values["item_id"])
    except ValueError:
        return _team_page(p, team_id, 422, FormErrors([("item_id", p._("Choose an item"))]))
    if not values["quantity"].isdigit() or not 0 < int(values["quantity"]) <= 1_000:
        message = p._("Enter a whole number from 1 to 1,000")
        return _team_page(p, team_id, 422, FormErrors([("quantity", message)]))
    try:
        TeamService(p.db).redeem(
            p.who, team_id, item_id, int(values["quantity"]), values["note"][:200],
            f"web:{values['key'][:100] or uuid.uuid4()}",
        )  # fmt: skip
    except DomainError as exc:
        errors = FormErrors.of(exc, p.locale)
        errors.items = [("quantity" if f in (None, "amount") else f, m) for f, m in errors.items]
        return _team_page(p, team_id, exc.status, errors)
    return p.redirect(f"/staff/teams/{team_id}")
