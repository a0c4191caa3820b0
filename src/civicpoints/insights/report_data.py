"""The annual evaluation report (年度评估报告) as a value: everything the layout needs, read
by `report.py` from the same services as the dashboard; no session, no ORM rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from civicpoints.insights.schemas import FiguresRead
from civicpoints.rewards import BudgetRead

FIRST_YEAR = 2000  # the figures' months start in 2000 (kit/months, the month pattern)


@dataclass(frozen=True)
class CheckpointRef:
    """The signed global checkpoint the ledger figures are computed at."""

    origin: str
    size: int
    root_b64: str
    root_hex: str
    signed_at: datetime
    witnesses: int
    note: str
    pending_entries: int  # recorded when the report was made, not in the checkpoint
    pending_transfers: int


@dataclass(frozen=True)
class LedgerFigures:
    """The year's points of the region, counting the transfers the checkpoint includes.

    `left_out` is what the dashboard counted besides (transfers recorded after the
    checkpoint), per flow: dashboard = these + left_out."""

    issued: int
    redeemed: int
    expired: int
    donated: int
    clawed_back: int
    outstanding: int
    redemption_rate: float | None
    checkpoint: CheckpointRef | None
    left_out: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class OutcomeLine:
    """One indicator of the region: the year's average and before/after the join month."""

    code: str
    name: str
    name_en: str
    unit: str
    year_average: float | None
    year_months: int
    before: float | None
    after: float | None
    change: float | None
    change_pct: float | None
    monthly: dict[str, float]


@dataclass(frozen=True)
class OptionLine:
    """An option's published count ("<10", "x": suppressed) and share."""

    label: str
    count: int | str
    percent: float | None


@dataclass(frozen=True)
class QuestionLine:
    """A question's published results (free text is never in the report)."""

    text: str
    kind: str
    answered: int | str
    options: list[OptionLine]
    mean: float | None


@dataclass(frozen=True)
class SurveyLine:
    """A survey of the region opened in the year, its results as published."""

    id: uuid.UUID
    title: str
    state: str
    respondents: int | str
    questions: list[QuestionLine]


@dataclass(frozen=True)
class Report:
    """Everything in one annual report."""

    region_id: uuid.UUID
    region_code: str
    region: str
    region_en: str
    year: int
    generated_at: datetime
    figures: FiguresRead  # the year's months (to this month for the current year)
    joined_on: date | None
    before: FiguresRead | None  # the 12 months before the join month
    after: FiguresRead | None  # the join month and the 11 after (to this month)
    ledger: LedgerFigures
    outcomes: list[OutcomeLine]
    surveys: list[SurveyLine]
    budget: BudgetRead | None  # city-wide; only for callers who may read the budget
