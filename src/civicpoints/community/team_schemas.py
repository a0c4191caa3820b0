"""Pydantic shapes of the volunteer teams API (integers: points; hours as "4.0")."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from civicpoints.community.donation_schemas import _no_bool
from civicpoints.community.team_rules import MAX_QUANTITY, NAME_MAX
from civicpoints.kit.schemas import Line, Text

Quantity = Annotated[int, BeforeValidator(_no_bool), Field(ge=1, le=MAX_QUANTITY)]


class TeamCreate(BaseModel):
    """A new team of a community with its captain (organizers of the community)."""

    model_config = ConfigDict(extra="forbid")

    community_id: uuid.UUID
    name: Line = Field(min_length=1, max_length=NAME_MAX)
    description: Text = Field(default="", max_length=300)
    captain_id: uuid.UUID


class MembersAdd(BaseModel):
    """Residents of the team's community to add (all or none)."""

    model_config = ConfigDict(extra="forbid")

    resident_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=200)]


class CaptainSet(BaseModel):
    """The member who becomes captain."""

    model_config = ConfigDict(extra="forbid")

    resident_id: uuid.UUID


class ChallengeSet(BaseModel):
    """An activity of the team's community that becomes its team challenge."""

    model_config = ConfigDict(extra="forbid")

    activity_id: uuid.UUID


class TeamRedeem(BaseModel):
    """Spend the pool on a community-fund item (civil-affairs staff of the community)."""

    model_config = ConfigDict(extra="forbid")

    item_id: uuid.UUID
    quantity: Quantity
    note: Line = Field(default="", max_length=200)


class TeamBrief(BaseModel):
    """A team in a list."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    community_id: uuid.UUID
    name: str
    description: str
    captain_id: uuid.UUID


class MemberRead(BaseModel):
    """A current member."""

    resident_id: uuid.UUID
    name: str
    captain: bool


class ContributionRead(BaseModel):
    """What one member brought: points to the pool, hours in their own register."""

    resident_id: uuid.UUID
    name: str
    points: int
    hours: str
    participations: int
    share_permille: int


class TeamRedemptionRead(BaseModel):
    """What the pool paid for, with the pool's ledger entry."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    item_id: uuid.UUID
    item_name: str = ""
    quantity: int
    points: int
    note: str
    entry_id: uuid.UUID
    created_at: datetime


class TeamRead(BaseModel):
    """A team as its members and staff see it."""

    id: uuid.UUID
    community_id: uuid.UUID
    name: str
    description: str
    captain_id: uuid.UUID
    captain_name: str
    pool: int
    month_points: int
    members: list[MemberRead]
    contributions: list[ContributionRead]
    redemptions: list[TeamRedemptionRead]
    challenges: list[uuid.UUID]
