"""Pydantic shapes of 教育积分's identity API: linking a child, the education department's
decisions, and a child's education points as the guardian sees them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from civicpoints.kit.schemas import Line, PersonName

Relation = Literal["father", "mother", "guardian"]


class ChildLinkCreate(BaseModel):
    """A guardian asks to link a child (关联子女)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: PersonName = Field(min_length=1, max_length=50, description="子女姓名 / child's name")
    id_number: Line = Field(min_length=1, max_length=40, description="子女 18 位居民身份证号码")
    relation: Relation = Field("guardian", description="father | mother | guardian")


class EducationLotRead(BaseModel):
    """Points of the child's education account that expire together."""

    points: int
    expires_at: datetime


class ChildLinkRead(BaseModel):
    """A guardian's link to a child, the child's ID masked; with the child's education points
    once the link is confirmed."""

    link_id: uuid.UUID
    child_id: uuid.UUID
    child_name: str
    id_masked: str
    birth_date: date
    relation: str
    status: str
    reason: str
    decided_at: datetime | None
    created_at: datetime
    balance: int = 0
    lots: list[EducationLotRead] = Field(default_factory=list)


class StaffLinkRead(BaseModel):
    """A link as education staff see it: the guardian, the child (ID masked), the status."""

    link_id: uuid.UUID
    child_id: uuid.UUID
    child_name: str
    id_masked: str
    birth_date: date
    relation: str
    guardian_id: uuid.UUID
    guardian_name: str
    guardian_public_no: str
    community_id: uuid.UUID
    status: str
    reason: str
    created_at: datetime
