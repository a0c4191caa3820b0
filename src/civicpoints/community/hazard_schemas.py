"""Pydantic shapes of 隐患随手拍's API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from civicpoints.community.hazards import HazardCategory
from civicpoints.kit.schemas import Text


class HazardReportCreate(BaseModel):
    """A resident's report (the photo travels beside it in the multipart form)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: HazardCategory
    community_id: uuid.UUID
    address: Text = Field(min_length=2, max_length=200, description="street and landmark")
    description: Text = Field(min_length=2, max_length=500)
    lat: float | None = Field(None, ge=-90, le=90, description="WGS-84; from the browser")
    lon: float | None = Field(None, ge=-180, le=180, description="WGS-84; from the browser")

    @model_validator(mode="after")
    def _both_or_neither(self) -> HazardReportCreate:
        """A position is a pair."""
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat 与 lon 须同时提供 / lat and lon go together")
        return self


class HazardDecision(BaseModel):
    """Department staff decide a report: confirm, merge into an earlier one, or reject."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Literal["confirm", "merge", "reject"]
    duplicate_of: uuid.UUID | None = Field(None, description="required to merge")
    reason: Text = Field(default="", max_length=500, description="required to reject")

    @model_validator(mode="after")
    def _what_each_needs(self) -> HazardDecision:
        """A merge names its first report; a rejection says why (the resident reads it)."""
        if self.decision == "merge" and self.duplicate_of is None:
            raise ValueError("合并须选择首报 / a merge needs the first report")
        if self.decision == "reject" and not self.reason:
            raise ValueError("驳回须填写理由 / a rejection needs a reason")
        return self


class CandidateRead(BaseModel):
    """A possible earlier report of the same hazard."""

    id: uuid.UUID
    status: str
    address: str
    reported_at: datetime
    metres: int


class HazardReportRead(BaseModel):
    """A report as its reporter and its department see it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    category: str
    community_id: uuid.UUID
    organization_id: uuid.UUID
    address: str
    description: str
    lat: float | None
    lon: float | None
    status: str
    duplicate_of: uuid.UUID | None
    reason: str
    points: int | None
    reported_at: datetime
    decided_at: datetime | None
    candidates: list[CandidateRead] = []
