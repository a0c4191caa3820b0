"""Pydantic shapes of the identity API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from civicpoints.access import Role
from civicpoints.kit.schemas import Line, PersonName


class ResidentCreate(BaseModel):
    """Registration form (实名注册)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: PersonName = Field(min_length=1, max_length=50, description="真实姓名 / legal name")
    id_number: Line = Field(min_length=1, max_length=40, description="18 位居民身份证号码")
    phone: Line = Field(min_length=1, max_length=30, description="中国大陆手机号 / mainland mobile")
    password: Line = Field(min_length=1, max_length=128)
    community_id: uuid.UUID = Field(description="所在社区 / home community")
    consent: bool = Field(description="同意《个人信息保护声明》 / accepts the privacy notice")
    consent_version: Line = Field(default="2026-01", max_length=16)


class ResidentRead(BaseModel):
    """A resident as shown to themselves and to staff: identifiers masked."""

    model_config = ConfigDict(from_attributes=True)

    kind: Literal["resident"] = "resident"
    id: uuid.UUID
    public_no: str
    name: str
    id_masked: str
    phone_masked: str
    birth_date: date
    sex: str
    community_id: uuid.UUID
    verification: str
    verified_at: datetime | None
    consent_withdrawn_at: datetime | None = None
    created_at: datetime


class VerificationRequest(BaseModel):
    """A request to verify the signed-in resident's identity."""

    model_config = ConfigDict(extra="forbid")

    evidence: Line = Field(default="", max_length=4000, description="provider token (face check)")


class TokenRequest(BaseModel):
    """Sign-in: a staff username, or a resident's phone number or platform number."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: Line = Field(min_length=1, max_length=64)
    password: Line = Field(min_length=1, max_length=128)


class TokenRead(BaseModel):
    """A bearer token for the API."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    subject_kind: str
    subject_id: uuid.UUID
    name: str
    roles: list[str]


class GrantRead(BaseModel):
    """One role a staff member holds and where it applies."""

    role: str
    region_id: uuid.UUID | None
    region_name: str | None
    organization_id: uuid.UUID | None
    organization_name: str | None


class StaffRead(BaseModel):
    """A staff member as shown to themselves (`GET /me`)."""

    kind: Literal["staff"] = "staff"
    id: uuid.UUID
    username: str
    display_name: str
    roles: list[GrantRead]


class InPersonVerificationCreate(BaseModel):
    """What a verifier records after seeing a resident's ID card at the service centre."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    document_type: Literal["resident_id_card", "temporary_id_card"] = Field(
        description="居民身份证 / 临时居民身份证 — the card seen"
    )
    document_number: str = Field(
        min_length=1, max_length=40, description="证件号码，照证件录入 / the number on the card"
    )


class StaffCreate(BaseModel):
    """A new staff account with its first role (administrators)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    username: Line = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    display_name: Line = Field(min_length=1, max_length=100)
    password: Line = Field(min_length=1, max_length=128)


class GrantCreate(BaseModel):
    """A role and where it applies: a region subtree and/or one organization."""

    role: Role
    region_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None


class GrantView(GrantRead):
    """A grant as administrators see it, with its id (to revoke it)."""

    id: uuid.UUID
    may_revoke: bool = False


class StaffView(BaseModel):
    """A staff account in the administrators' list."""

    id: uuid.UUID
    username: str
    display_name: str
    active: bool
    created_at: datetime
    roles: list[GrantView]
