"""Pydantic shapes of the scoring API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from civicpoints.kit.schemas import Text


class RuleSetCreate(BaseModel):
    """A new rule set version for a region (or city-wide), in force from a date."""

    model_config = ConfigDict(extra="forbid")

    region_id: uuid.UUID | None = None
    effective_from: date
    rules: dict[str, Any] = Field(description="categories, monthly_cap, expiry_months")
    note: Text = Field(default="", max_length=500)


class RuleSetRead(BaseModel):
    """A stored rule set."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    region_id: uuid.UUID | None
    effective_from: date
    rules: dict[str, Any]
    note: str
    created_at: datetime


class AwardRead(BaseModel):
    """The points decision on one participation, with the computation shown."""

    model_config = ConfigDict(from_attributes=True)

    base: int
    awarded: int
    cut: int
    credited_minutes: int
    refusal: str | None
    explanation: dict[str, str]
    month: str
    expires_at: datetime | None
