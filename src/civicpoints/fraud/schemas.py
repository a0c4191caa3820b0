"""A risk policy's settings (the region setting of issue 10), with bounds on every value."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from civicpoints.fraud.cases import CaseView
    from civicpoints.fraud.checks import Tally

from civicpoints.kit.schemas import Line, Text

# Every signal a record can carry, and how much risk it adds. The flags activities already
# raised before this domain existed keep a weight that sends the record to review on its own.
DEFAULT_WEIGHTS: dict[str, int] = {
    "outside_geofence": 40,
    "outside_time_window": 40,
    "checkout_outside_geofence": 40,
    "checkout_outside_time_window": 40,
    "presence_too_short": 40,
    "photo_far_from_site": 40,
    "photo_time_mismatch": 40,
    "photo_reused": 60,
    "photo_near_duplicate": 60,
    "photo_edited": 20,
    "impossible_travel": 60,
    "shared_coordinates": 40,
    "implausible_accuracy": 20,
    "overlapping_records": 60,
    "award_burst": 30,
    "shared_device": 40,
    "venue_code_ok": -30,
}


class PolicySettings(BaseModel):
    """Thresholds of the risk signals, the weights, and what a score decides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # photos
    photo_near_bits: int = Field(
        6, ge=0, le=7, description="perceptual-hash bits apart that still count as the same photo"
    )
    photo_far_m: int = Field(500, ge=50, le=50_000)
    photo_time_slack_min: int = Field(360, ge=0, le=10_080)
    # positions
    max_speed_kmh: int = Field(120, ge=10, le=1_000)
    same_spot_residents: int = Field(
        3, ge=2, le=1_000, description="residents reporting one position to 6 decimals"
    )
    accuracy_min_m: float = Field(1.0, ge=0, le=100)
    accuracy_max_m: float = Field(2_000, ge=10, le=100_000)
    # patterns
    burst_factor: int = Field(
        3, ge=2, le=100, description="awards in a day above this many times the usual"
    )
    burst_min_per_day: int = Field(4, ge=1, le=100)
    device_max_accounts: int = Field(3, ge=1, le=100)
    overlap_tolerance_min: int = Field(
        15, ge=0, le=240, description="minutes back-to-back records may overlap honestly"
    )
    # decision
    weights: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    review_at: int = Field(30, ge=1, le=1_000)
    refuse_at: int = Field(200, ge=1, le=10_000)
    bulk_approve_below: int = Field(10, ge=0, le=1_000)
    review_alert_days: int = Field(3, ge=1, le=60)
    # warnings, sanctions and appeals
    ladder_window_days: int = Field(365, ge=30, le=3_650)
    suspension_days: int = Field(30, ge=1, le=3_650)
    long_suspension_days: int = Field(180, ge=1, le=3_650)
    appeal_days: int = Field(15, ge=1, le=365)

    @model_validator(mode="after")
    def _coherent(self) -> PolicySettings:
        # "中文 / English": the pages show the half of the reader's language.
        unknown = ", ".join(sorted(set(self.weights) - set(DEFAULT_WEIGHTS)))
        if unknown:
            raise ValueError(f"不认识的风险信号：{unknown} / unknown signals: {unknown}")
        if any(not -1_000 <= w <= 1_000 for w in self.weights.values()):
            raise ValueError("权重须在 -1000 到 1000 之间 / weights lie between -1000 and 1000")
        if self.refuse_at < self.review_at:
            raise ValueError(
                "自动驳回分数线不能低于复核分数线 / refuse_at must not be below review_at"
            )
        return self

    def weight(self, code: str) -> int:
        """A signal's weight (a signal the stored policy predates weighs its default)."""
        return self.weights.get(code, DEFAULT_WEIGHTS.get(code, self.review_at))


DEFAULT_POLICY = PolicySettings()


class PolicyCreate(BaseModel):
    """A new policy version for a region (None: city-wide) from a date."""

    model_config = ConfigDict(extra="forbid")

    region_id: uuid.UUID | None = None
    effective_from: date
    settings: PolicySettings
    note: Line = Field("", max_length=500)


class PolicyRead(BaseModel):
    """A stored policy version."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    region_id: uuid.UUID | None
    effective_from: date
    settings: PolicySettings
    note: str
    created_at: datetime


class AppealCreate(BaseModel):
    """A resident's appeal: why the case is wrong (a photo may go with it on the page)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Text = Field(min_length=1, max_length=1000)


class AppealDecisionRead(BaseModel):
    """The decision on an appeal."""

    model_config = ConfigDict(from_attributes=True)

    upheld: bool
    reason: str
    decided_at: datetime


class AppealRead(BaseModel):
    """An appeal as filed."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    reason: str
    has_photo: bool = False
    filed_at: datetime


class CaseRead(BaseModel):
    """A confirmed false record, its sanction, and the appeal against it."""

    id: uuid.UUID
    participation_id: uuid.UUID
    kind: str
    reason: str
    signals: list[str]
    sanction: str
    suspended_until: datetime | None
    credit_record: bool
    points_taken: int
    debt: int
    minutes_removed: int
    decided_at: datetime
    appeal_closes: datetime
    appeal: AppealRead | None
    decision: AppealDecisionRead | None
    withdrawn: bool

    @classmethod
    def of(cls, view: CaseView) -> CaseRead:
        """The API shape of a case as its resident sees it."""
        c = view.case
        appeal = view.appeal
        return cls(
            id=c.id,
            participation_id=c.participation_id,
            kind=c.kind,
            reason=c.reason,
            signals=list(c.signals or []),
            sanction=c.sanction,
            suspended_until=c.suspended_until,
            credit_record=c.credit_record,
            points_taken=c.points_taken,
            debt=c.debt,
            minutes_removed=c.minutes_removed,
            decided_at=c.decided_at,
            appeal_closes=view.appeal_closes,
            appeal=AppealRead(
                id=appeal.id,
                case_id=appeal.case_id,
                reason=appeal.reason,
                has_photo=appeal.evidence_path is not None,
                filed_at=appeal.filed_at,
            )
            if appeal
            else None,
            decision=AppealDecisionRead.model_validate(view.decision) if view.decision else None,
            withdrawn=view.withdrawn,
        )


class OpenAppealRead(BaseModel):
    """An appeal waiting for a reviewer, with the case it contests."""

    appeal: AppealRead
    case_id: uuid.UUID
    participation_id: uuid.UUID
    case_reason: str
    sanction: str
    decided_at: datetime


class TallyRead(BaseModel):
    """How many records a policy approves, sends to review and refuses."""

    approve: int
    review: int
    refuse: int

    @classmethod
    def of(cls, t: Tally) -> TallyRead:
        """The API shape of a tally."""
        return cls(approve=t.approve, review=t.review, refuse=t.refuse)


class PolicyPreviewAsk(BaseModel):
    """A proposed policy to try on a past month's records."""

    model_config = ConfigDict(extra="forbid")

    region_id: uuid.UUID | None = None
    settings: PolicySettings
    month: date | None = Field(None, description="any day of the month; default: last month")


class PolicyPreview(BaseModel):
    """What the policy in force and a proposed one decide for a past month's records."""

    month: str
    records: int
    current: TallyRead
    proposed: TallyRead


class ClawbackAsk(BaseModel):
    """Why an approved record is taken back (the resident reads it)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Text = Field(min_length=1, max_length=500)
