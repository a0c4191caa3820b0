"""What the hours API reads and writes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from civicpoints.hours.certificates import Check
from civicpoints.hours.models import Certificate
from civicpoints.kit.schemas import Line

MAX_STAR_HOURS = 20_000  # a lifetime of weekly service is about 5,000 hours
StarHours = Annotated[StrictInt, Field(ge=1, le=MAX_STAR_HOURS)]


class StarRead(BaseModel):
    """A star level (0: none yet) and the hours still to serve for the next (None at five)."""

    level: int
    name: str = Field(description="一星志愿者 … 五星志愿者; empty below the first level")
    hours_to_next: float | None
    thresholds: list[int] = Field(description="hours for one to five stars in the region")


class HoursRead(BaseModel):
    """Total and per-category service hours (permanent, independent of points)."""

    total_hours: float
    total_minutes: int
    by_category: dict[str, float]
    stars: StarRead


class CertificateLineRead(BaseModel):
    """One activity served, as the certificate states it."""

    served_on: date
    content: str
    category: str
    hours: float


class CertificateRead(BaseModel):
    """A certificate as issued (its holder and the issuing staff see this)."""

    number: str
    kind: str
    issued_on: date
    name: str
    id_type: str
    id_masked: str
    platform_no: str
    organization: str
    person_in_charge: str
    handler: str
    contact: str
    honour: str
    total_hours: float
    lines: list[CertificateLineRead]
    note: str = Field(description="the statement signed by the ledger key (C2SP signed note)")

    @classmethod
    def of(cls, row: Certificate) -> CertificateRead:
        """The API view of a stored certificate."""
        c = row.content
        return cls(
            number=row.number,
            kind=row.kind,
            issued_on=row.issued_on,
            name=c["name"],
            id_type=c["id_type"],
            id_masked=c["id_masked"],
            platform_no=c["platform_no"],
            organization=c["organization"],
            person_in_charge=c["person_in_charge"],
            handler=c["handler"],
            contact=c["contact"],
            honour=c["honour"],
            total_hours=round(row.total_minutes / 60, 2),
            lines=[
                CertificateLineRead(
                    served_on=date.fromisoformat(x["served_on"]),
                    content=x["content"],
                    category=x["category"],
                    hours=round(x["minutes"] / 60, 2),
                )
                for x in c["lines"]
            ],
            note=row.note,
        )


class CertificateIssue(BaseModel):
    """A staff member's request for a certificate of a resident's hours at an organization."""

    platform_no: str = Field(min_length=1, max_length=32, description="志愿者平台编号")
    organization_id: uuid.UUID
    person_in_charge: str = Field(min_length=1, max_length=50, description="负责人")
    contact: str = Field(min_length=1, max_length=50, description="联系方式")
    participation_ids: list[uuid.UUID] | None = Field(
        None, max_length=500, description="records to certify; omitted: all approved ones"
    )
    kind: Literal["record", "honour"] = "record"
    honour: str = Field("", max_length=60, description="e.g. 2026年度优秀志愿者 (kind honour)")


class CheckRead(BaseModel):
    """The public check: only what is safe to show anyone holding the number."""

    number: str
    standing: Literal["genuine", "unknown", "tampered"]
    masked_name: str
    hours: float
    issuer: str
    issued_on: date | None
    kind: str

    @classmethod
    def of(cls, number: str, c: Check) -> CheckRead:
        """From the domain's check."""
        return cls(
            number=number,
            standing=c.standing.value,
            masked_name=c.masked_name,
            hours=c.hours,
            issuer=c.issuer,
            issued_on=c.issued_on,
            kind=c.kind,
        )


class StarPolicyCreate(BaseModel):
    """A new version of the star-level thresholds for a region (None: city-wide) from a day."""

    model_config = ConfigDict(extra="forbid")

    region_id: uuid.UUID | None = None
    effective_from: date = Field(description="Beijing date, today at the earliest")
    thresholds: list[StarHours] = Field(
        min_length=5, max_length=5, description="hours for one to five stars, strictly rising"
    )
    note: Line = Field("", max_length=500)

    @field_validator("thresholds")
    @classmethod
    def rising(cls, t: list[int]) -> list[int]:
        """Each level needs more hours than the one below it."""
        if any(b <= a for a, b in pairwise(t)):
            raise ValueError("每一级须多于上一级 / each level must need more hours than the last")
        return t


class StarPolicyRead(BaseModel):
    """A stored version of the star-level thresholds."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    region_id: uuid.UUID | None
    effective_from: date
    thresholds: list[int]
    note: str
    created_at: datetime
