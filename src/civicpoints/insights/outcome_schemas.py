"""Pydantic shapes of outcome indicators: definitions, values, corrections, comparisons."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictBool, StrictFloat

from civicpoints.insights.outcome_rules import MAX_VALUE
from civicpoints.insights.schemas import MONTH_PATTERN
from civicpoints.kit.schemas import Line

CODE_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"
UnitName = Literal["%", "件", "件/万人", "分"]
DepartmentName = Literal[
    "civil_affairs", "public_security", "environment", "education", "community"
]


class IndicatorCreate(BaseModel):
    """A new indicator (administrators)."""

    code: str = Field(pattern=CODE_PATTERN)
    name: Line = Field(min_length=1, max_length=60)
    name_en: Line = Field(min_length=1, max_length=80)
    unit: UnitName
    higher_is_better: StrictBool = True
    department: DepartmentName

    model_config = {"extra": "forbid"}


class IndicatorRead(BaseModel):
    """An indicator."""

    id: uuid.UUID
    code: str
    name: str
    name_en: str
    unit: str
    higher_is_better: bool
    department: str


class OutcomeCreate(BaseModel):
    """One value of an indicator in a region and Beijing month; `reason` is required when it
    corrects a value already entered."""

    indicator: str = Field(pattern=CODE_PATTERN)
    region_id: uuid.UUID
    month: str = Field(pattern=MONTH_PATTERN)
    value: StrictFloat = Field(ge=0, le=MAX_VALUE, allow_inf_nan=False)
    source: Line = Field(min_length=1, max_length=200)
    reason: Line | None = Field(None, min_length=1, max_length=200)

    model_config = {"extra": "forbid"}


class RevisionRead(BaseModel):
    """A value that a correction replaced."""

    revision: int
    value: float
    source: str
    entered_by: uuid.UUID
    entered_at: datetime
    replaced_by: uuid.UUID
    replaced_at: datetime
    reason: str


class OutcomeRead(BaseModel):
    """The current value of a cell, with the values it replaced (oldest first)."""

    id: uuid.UUID
    indicator: str
    region_id: uuid.UUID
    region: str
    month: str
    value: float
    unit: str
    source: str
    entered_by: uuid.UUID
    entered_at: datetime
    revision: int
    history: list[RevisionRead] = []


class OutcomeList(BaseModel):
    """Values in a region's subtree and a month range (at most `limit`)."""

    items: list[OutcomeRead]
    truncated: bool = Field(description="more values match: narrow the range or the region")


class ImportReport(BaseModel):
    """What an import wrote (all lines, or nothing)."""

    created: int
    corrected: int


class ComparisonRead(BaseModel):
    """An indicator in a region before and after it joined the scheme."""

    indicator: str
    region_id: uuid.UUID
    joined_on: date | None
    before: float | None = Field(description="average of the 12 months before the join month")
    after: float | None = Field(description="average of the join month and the 11 after")
    months_before: int
    months_after: int
    change: float | None
    change_pct: float | None


class JoinSet(BaseModel):
    """The day a region joined the scheme (administrators of the region)."""

    region_id: uuid.UUID
    joined_on: date = Field(ge=date(2000, 1, 1), le=date(2099, 12, 31))

    model_config = {"extra": "forbid"}
