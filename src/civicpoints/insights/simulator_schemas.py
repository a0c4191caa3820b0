"""The policy simulator's request and answer (POST /api/v1/insights/simulations)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from civicpoints.insights.schemas import MONTH_PATTERN, RegionRef
from civicpoints.insights.simulate import (
    MAX_PRICE,
    MAX_PRICES,
    MAX_WEIGHTS,
    WEIGHT_RANGE,
)
from civicpoints.scoring import MAX_EXPIRY_MONTHS, MAX_MONTHLY_CAP, MAX_POINTS, Category

Rate = Annotated[StrictInt, Field(ge=1, le=MAX_POINTS)]


class WeightIn(BaseModel):
    """A regional weight: the rates in a region of the scope (and below it), in percent."""

    model_config = ConfigDict(extra="forbid")

    region_id: uuid.UUID
    percent: Annotated[StrictInt, Field(ge=WEIGHT_RANGE[0], le=WEIGHT_RANGE[1])]


class PriceIn(BaseModel):
    """A new price of a reward item, in points per unit."""

    model_config = ConfigDict(extra="forbid")

    item_id: uuid.UUID
    price_points: Annotated[StrictInt, Field(ge=1, le=MAX_PRICE)]


class SimulationCreate(BaseModel):
    """The changes to try; what is left out stays as it is in force."""

    model_config = ConfigDict(extra="forbid")

    region_id: uuid.UUID | None = Field(
        default=None, description="the region simulated (default: the caller's widest scope)"
    )
    rates: dict[Category, Rate] = Field(
        default_factory=dict,
        description="points per hour (or per participation) by category, 1–10,000",
    )
    monthly_cap: Annotated[StrictInt, Field(ge=0, le=MAX_MONTHLY_CAP)] | None = None
    expiry_months: Annotated[StrictInt, Field(ge=1, le=MAX_EXPIRY_MONTHS)] | None = None
    weights: list[WeightIn] = Field(default_factory=list, max_length=MAX_WEIGHTS)
    prices: list[PriceIn] = Field(default_factory=list, max_length=MAX_PRICES)


class MonthPoints(BaseModel):
    """Points issued in one Beijing month, current rules and proposal."""

    month: str = Field(pattern=MONTH_PATTERN)
    current: int
    proposed: int


class FigureRow(BaseModel):
    """One row of the table: the figure under the current rules, the proposal, the difference.

    `unit`: points, fen, percent or months; None where a figure cannot be given (a count of
    people under 10, or no points issued at all)."""

    key: str
    unit: str
    current: float | int | None
    proposed: float | int | None
    difference: float | int | None


class SimulationRead(BaseModel):
    """What the proposal would have done over the last twelve months; nothing was saved."""

    region: RegionRef
    first: str
    last: str
    fen_per_point: int
    changes: int
    decisions: int = Field(description="award decisions in the region replayed")
    reproduced: int = Field(description="of them, those the current rules replay exactly")
    unspent_share: float = Field(description="share of the window's points left unspent")
    figures: list[FigureRow]
    months: list[MonthPoints]
    took_ms: int
