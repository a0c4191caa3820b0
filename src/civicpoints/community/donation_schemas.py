"""Pydantic shapes of the donations API (integers: points)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from civicpoints.kit.schemas import Line


def _no_bool(value: object) -> object:
    """JSON true/false is not a number (pydantic would read it as 1/0)."""
    if isinstance(value, bool):
        raise ValueError("须为整数 / must be an integer, not true or false")
    return value


Points = Annotated[int, BeforeValidator(_no_bool), Field(ge=1, le=1_000_000)]


class DonationCreate(BaseModel):
    """A gift of points to a community's 爱心积分池 (the resident's own community only)."""

    community_id: uuid.UUID
    amount: Points
    show_on_board: bool | None = Field(
        None, description="opt in to (true) or out of (false) the 爱心榜; null leaves it"
    )


class DonationRead(BaseModel):
    """A donation with its ledger receipt (the donor wallet's entry) and thanks."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    community_id: uuid.UUID
    amount: int
    month: str
    receipt_entry_id: uuid.UUID
    receipt_url: str = ""
    thanks: str = ""
    created_at: datetime


class AllocationCreate(BaseModel):
    """Pool points for a low-income resident of the community (civil-affairs staff)."""

    resident_id: uuid.UUID
    amount: Points
    reason: Line = Field(min_length=1, max_length=200)


class AllocationRead(BaseModel):
    """An allocation; the receipt is the recipient wallet's entry."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    community_id: uuid.UUID
    resident_id: uuid.UUID
    amount: int
    reason: str
    receipt_entry_id: uuid.UUID
    created_at: datetime


class LowIncomeSet(BaseModel):
    """A low-income decision on a resident (civil-affairs staff of their community)."""

    active: bool
    reason: Line = Field(min_length=1, max_length=200)


class LowIncomeRead(BaseModel):
    """The decision recorded."""

    model_config = ConfigDict(from_attributes=True)

    resident_id: uuid.UUID
    community_id: uuid.UUID
    active: bool
    reason: str
    set_at: datetime


class PoolLotRead(BaseModel):
    """Points of the pool that expire together."""

    points: int
    expires_at: datetime
    within_30_days: bool


class PoolRead(BaseModel):
    """A pool as its staff see it: earliest expiry first."""

    community_id: uuid.UUID
    balance: int
    expiring_within_30_days: int
    lots: list[PoolLotRead]
    low_income_residents: list[uuid.UUID]


class BoardLine(BaseModel):
    """One line of the 爱心榜: a masked name and the total given."""

    name: str
    total: int


class SavingsMove(BaseModel):
    """Points to move into savings, or back to the wallet."""

    amount: Points


class SavedLotRead(BaseModel):
    """Saved points that expire together."""

    points: int
    expires_at: datetime


class SavingsRead(BaseModel):
    """A resident's savings (积分银行)."""

    balance: int
    cap: int
    months: int
    lots: list[SavedLotRead]


class DonationSettingCreate(BaseModel):
    """A new version of a region's donation and points-bank settings (None: city-wide)."""

    model_config = ConfigDict(extra="forbid")

    region_id: uuid.UUID | None = None
    effective_from: date = Field(description="Beijing date, today at the earliest")
    monthly_donation_limit: Annotated[int, BeforeValidator(_no_bool), Field(ge=1, le=10_000)] = (
        Field(description="points one resident may give per month")
    )
    savings_months: Annotated[int, BeforeValidator(_no_bool), Field(ge=12, le=60)] = Field(
        description="months saved points last from when they were earned (12: no extension)"
    )
    savings_cap: Annotated[int, BeforeValidator(_no_bool), Field(ge=1, le=100_000)] = Field(
        description="the most points one resident may hold in the points bank"
    )
    note: Line = Field("", max_length=200)


class DonationSettingRead(BaseModel):
    """A stored version of the donation and points-bank settings."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    region_id: uuid.UUID | None
    effective_from: date
    monthly_donation_limit: int
    savings_months: int
    savings_cap: int
    note: str
    created_at: datetime
