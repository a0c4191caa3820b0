"""The figures as the API returns them; every count of people under 10 reads "<10"."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MONTH_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"
# A count of people: "<10" when under 10 (PIPL), "x" when hidden so that a "<10" cannot be
# worked out from a total (docs/insights.md).
Shown = int | Literal["<10", "x"]


class RegionRef(BaseModel):
    """The region the figures are for."""

    id: uuid.UUID
    name: str
    name_en: str
    level: str


class PointsRead(BaseModel):
    """Points moved in the period (clawed_back is net of restores)."""

    issued: int
    redeemed: int
    expired: int
    donated: int
    clawed_back: int


class MonthRead(BaseModel):
    """One Beijing month."""

    month: str = Field(pattern=MONTH_PATTERN)
    participants: Shown
    new_volunteers: Shown
    returning_volunteers: Shown
    hours: float
    participations: int
    points: PointsRead


class DemographicsRead(BaseModel):
    """The period's participants by age band (rows) and sex (columns), with margins."""

    bands: list[str]
    sexes: list[str]
    cells: list[list[Shown]]
    band_totals: list[Shown]
    sex_totals: list[Shown]
    total: Shown


class TotalsRead(BaseModel):
    """The whole period (outstanding and liability: at its end; backlog: now)."""

    participants: Shown
    registered_residents: Shown
    participation_rate: float | None = Field(description="% of registered residents")
    population: int | None
    population_rate: float | None = Field(description="% of the population entered")
    hours: float
    participations: int
    by_category: dict[str, int]
    by_channel: dict[str, int] = Field(description="app, offline (paper slips and imports)")
    points: PointsRead
    outstanding: int
    redemption_rate: float | None = Field(description="% of points issued in the period")
    liability_fen: int
    liability_yuan: float
    clawbacks: Shown
    fraud_flags: Shown
    review_backlog: int


class FiguresRead(BaseModel):
    """A region's figures for a range of Beijing months: the rollup plus today's live delta."""

    region: RegionRef
    first: str = Field(alias="from", pattern=MONTH_PATTERN)
    last: str = Field(alias="to", pattern=MONTH_PATTERN)
    generated_at: datetime
    rolled_up_to: datetime | None = Field(description="the oldest source watermark")
    live_rows: int = Field(description="source rows added live (not rolled up yet)")
    suppressed_below: int
    months: list[MonthRead]
    totals: TotalsRead
    demographics: DemographicsRead

    model_config = {"populate_by_name": True}


class RecommendationRead(BaseModel):
    """One recommended activity (为您推荐) and why: a reason code and its argument — joined
    (因为您参加过「arg」), often / age (a category), near (arg km), weekend, usual_time,
    popular, upcoming."""

    rank: int
    activity_id: uuid.UUID
    title: str
    starts_at: datetime
    reason: str
    reason_arg: str


class RecommendationsRead(BaseModel):
    """The resident's recommendations: on unless turned off (PIPL), and the list."""

    enabled: bool
    items: list[RecommendationRead]


class RecommendationsSet(BaseModel):
    """Turn recommendations on (computed now) or off (the stored list deleted now)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool
