"""Pydantic shapes of the activities API."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from civicpoints.kit.schemas import Decision, Instant, Line, Text
from civicpoints.scoring import AwardRead

CategoryName = Literal[
    "volunteer_service", "high_risk", "environmental", "public_supervision", "education_support"
]
EvidenceName = Literal["none", "photo", "photo_gps"]
RESIDENT_MAX_LEN = 40  # a phone or platform number, with room for spaces and a country code
# A venue code as typed: digits (half- or full-width) and spaces, e.g. "123 456" read off the
# screen in its two groups; the JSON Schema's pattern says the same as the validator below.
VENUE_CODE_TYPED = "^[0-9０-９ \u3000]*$"


class ActivityCreate(BaseModel):
    """A new activity (one session at a place and time)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    organization_id: uuid.UUID
    region_id: uuid.UUID = Field(description="where it takes place (community or street)")
    title: Line = Field(min_length=1, max_length=200)
    description: Text = Field(default="", max_length=5000)
    category: CategoryName
    starts_at: Instant
    ends_at: Instant
    place_name: Line = Field(min_length=1, max_length=200)
    geofence: dict[str, Any] = Field(
        description='{"type":"circle","lat":…,"lon":…,"radius_m":…} or '
        '{"type":"polygon","points":[[lat,lon],…]} (WGS-84)'
    )
    capacity: int = Field(ge=1, le=100000)
    evidence: EvidenceName = "none"
    flag_outside: bool = False
    publish: bool = True


class ActivityRead(BaseModel):
    """An activity as listed."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    region_id: uuid.UUID
    title: str
    description: str
    category: str
    status: str
    starts_at: datetime
    ends_at: datetime
    place_name: str
    geofence: dict[str, Any]
    capacity: int
    evidence: str
    flag_outside: bool


class ActivityPage(BaseModel):
    """A page of activities; pass `next_cursor` as `cursor` for the next."""

    items: list[ActivityRead]
    next_cursor: str | None


class EnrollmentRead(BaseModel):
    """A resident's enrollment."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    activity_id: uuid.UUID
    resident_id: uuid.UUID
    status: str
    created_at: datetime


class Position(BaseModel):
    """A phone's position at check-in or check-out (WGS-84)."""

    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90, description="latitude, WGS-84 (GCJ-02 is allowed for)")
    lon: float = Field(ge=-180, le=180, description="longitude, WGS-84 (GCJ-02 is allowed for)")
    accuracy_m: float | None = Field(
        None, ge=0, le=1_000_000, description="the phone's claimed accuracy in metres"
    )
    device: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]{8,64}$",
        description="a random id the app or browser keeps; stored only as a keyed hash",
    )


class CheckIn(Position):
    """A check-in: the phone's position, and the venue code on the organizer's screen if the
    resident typed one."""

    venue_code: str | None = Field(
        None,
        max_length=12,
        json_schema_extra={"pattern": VENUE_CODE_TYPED},
        description="the code on the organizer's screen (签到码), optional; spaces are "
        "ignored. A wrong code is no error: the check-in stands, without the bonus",
    )

    @field_validator("venue_code")
    @classmethod
    def _digits(cls, typed: str | None) -> str | None:
        """The code's digits ('１２３ ４５６' → '123456'); nothing typed is no code."""
        if typed is None:
            return None
        if not re.fullmatch(VENUE_CODE_TYPED, typed):
            raise ValueError("签到码只能填写数字 / the venue code can only contain digits")
        digits = "".join(unicodedata.normalize("NFKC", typed).split())
        return digits or None


ScreenState = Literal["open", "not_yet", "over", "cancelled", "draft"]


class VenueCodeRead(BaseModel):
    """What an organizer's screen shows: the current venue code while check-in is open."""

    activity_id: uuid.UUID
    state: ScreenState = Field(
        description="open: check-in is open and the code counts; otherwise there is no code"
    )
    code: str | None = Field(description="six digits, only while check-in is open")
    step_s: int = Field(description="seconds each code is shown")
    seconds_left: int | None = Field(description="seconds until the code turns")
    turns_at: datetime | None = Field(description="when the code turns")
    opens_at: datetime = Field(description="when check-in opens")
    closes_at: datetime = Field(description="when check-in closes")


class OfflineRecordCreate(BaseModel):
    """A participation recorded by staff from a paper slip (线下积分点)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    resident: Line = Field(
        min_length=1, max_length=RESIDENT_MAX_LEN, description="platform number or phone"
    )
    activity_id: uuid.UUID
    started_at: Instant
    ended_at: Instant
    slip_no: Line = Field(min_length=1, max_length=64)
    note: Text = Field(default="", max_length=500)


class ParticipationRead(BaseModel):
    """A participation record with its points decision, if any."""

    id: uuid.UUID
    activity_id: uuid.UUID
    resident_id: uuid.UUID
    source: str
    status: str
    checkin_at: datetime | None
    checkout_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    flags: list[str]
    slip_no: str | None
    review_reason: str
    evidence_count: int
    points: AwardRead | None
    message: dict[str, str] = Field(description="what happened, in zh-CN and en")
    venue_code_matched: bool | None = Field(
        None,
        description="only in the answer to a check-in that gave a venue code: whether it "
        "was the code on the organizer's screen (the message says so too)",
    )


class ImportRowRead(BaseModel):
    """The outcome of one CSV row."""

    line: int
    status: Literal["created", "duplicate", "error"]
    participation_id: uuid.UUID | None = None
    errors: list[dict[str, str | None]] = Field(default_factory=list)


class ImportReport(BaseModel):
    """Per-row results of a CSV import."""

    created: int
    duplicates: int
    errors: int
    rows: list[ImportRowRead]


class RecordDecision(Decision):
    """A reviewer's decision on a record; `fraud` marks a rejection as a confirmed false
    record (a case, the sanction ladder, and the resident's right to appeal)."""

    fraud: bool = Field(False, description="only with reject: the record is confirmed false")

    @model_validator(mode="after")
    def _fraud_only_on_reject(self) -> RecordDecision:
        if self.fraud and self.approve:
            raise ValueError("只有驳回才能认定为虚假记录 / only a rejection can confirm fraud")
        return self


class BulkApprove(BaseModel):
    """Low-risk records to approve together (all or none)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    participation_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)
    reason: Text = Field("", max_length=500)


class RecheckKeep(BaseModel):
    """Why an approved record, found risky afterwards, keeps its points after a second look."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Text = Field(min_length=1, max_length=500)


class EducationCreditChoice(BaseModel):
    """Where the signed-in resident's points for a 教育支持 activity go: a confirmed child's
    education account (`child_id`), or the wallet (`null`, the default)."""

    model_config = ConfigDict(extra="forbid")

    child_id: uuid.UUID | None = None


class EducationCreditRead(BaseModel):
    """The choice in force for one activity."""

    activity_id: uuid.UUID
    child_id: uuid.UUID | None
