"""What the hours API reads and writes."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from civicpoints.hours.certificates import Check
from civicpoints.hours.models import Certificate


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
