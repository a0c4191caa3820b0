"""HTTP for the region tree and organizations (public: registration needs them)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from civicpoints.kit.http import DbSession
from civicpoints.regions.service import RegionService

router = APIRouter(tags=["regions 地区"])


class RegionRead(BaseModel):
    """A node of the region tree."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    name_en: str
    level: str
    parent_id: uuid.UUID | None


class OrganizationRead(BaseModel):
    """A department or committee."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    name_en: str
    kind: str
    department: str
    region_id: uuid.UUID


@router.get("/regions", response_model=list[RegionRead])
def regions(db: DbSession) -> list[RegionRead]:
    """The whole region tree, parents first."""
    return [RegionRead.model_validate(r) for r in RegionService(db).tree()]


@router.get("/organizations", response_model=list[OrganizationRead])
def organizations(db: DbSession) -> list[OrganizationRead]:
    """All organizations."""
    return [OrganizationRead.model_validate(o) for o in RegionService(db).organizations()]
