"""Pydantic shapes of the rewards API (integers: points and fen)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from civicpoints.kit.schemas import Instant, Line, Text, WebAddress
from civicpoints.rewards.models import Category, Fulfilment, Period

Name = Field(min_length=1, max_length=100)
# A voucher code as a clerk types it: letters and digits, any case, spaces or dashes between.
CODE_PATTERN = r"^[0-9A-Za-z \-]+$"


def _no_bool(value: object) -> object:
    """JSON true/false is not a number (pydantic would read it as 1/0)."""
    if isinstance(value, bool):
        raise ValueError("须为整数 / must be an integer, not true or false")
    return value


Whole = Annotated[int, BeforeValidator(_no_bool)]  # points, fen, counts
# Not `Whole | None`: pydantic would then print the bounds as `ge`/`le`, unknown to JSON Schema.
WholeOrNone = Annotated[int | None, BeforeValidator(_no_bool)]


class ItemCreate(BaseModel):
    """A new catalog item (administrators)."""

    code: Line = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    name: Line = Name
    name_en: Line = Name
    description: Text = Field("", max_length=2000)
    description_en: Text = Field("", max_length=2000)
    category: Category
    fulfilment: Fulfilment = Fulfilment.VOUCHER
    price_points: Whole = Field(ge=1, le=1_000_000)
    face_value_fen: Whole = Field(ge=0, le=100_000_000)
    sponsor: Line = Field(min_length=1, max_length=40, description="funding source code")
    merchant: Line | None = Field(None, max_length=40, description="merchant code (vouchers)")
    department_id: uuid.UUID | None = Field(None, description="owning department (entitlements)")
    stock_total: Whole = Field(ge=0, le=10_000_000)
    limit_per_period: Whole = Field(1, ge=1, le=1000)
    period: Period = Period.MONTH
    region_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    min_age: WholeOrNone = Field(None, ge=0, le=150)
    max_age: WholeOrNone = Field(None, ge=0, le=150)
    low_income_only: bool = False
    valid_from: Instant
    valid_until: Instant
    voucher_days: Whole = Field(30, ge=1, le=366)
    image_url: WebAddress = Field("", max_length=300)


class ItemUpdate(BaseModel):
    """Changes to an item; stock changes move `stock_remaining` by the same amount."""

    name: Line | None = Field(None, min_length=1, max_length=100)
    name_en: Line | None = Field(None, min_length=1, max_length=100)
    description: Text | None = Field(None, max_length=2000)
    description_en: Text | None = Field(None, max_length=2000)
    price_points: WholeOrNone = Field(None, ge=1, le=1_000_000)
    face_value_fen: WholeOrNone = Field(None, ge=0, le=100_000_000)
    stock_total: WholeOrNone = Field(None, ge=0, le=10_000_000)
    limit_per_period: WholeOrNone = Field(None, ge=1, le=1000)
    valid_until: Instant | None = None
    image_url: WebAddress | None = Field(None, max_length=300)
    active: bool | None = None


class ItemRead(BaseModel):
    """A catalog item as residents and staff see it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    name_en: str
    description: str
    description_en: str
    category: str
    fulfilment: str
    price_points: int
    face_value_fen: int
    sponsor_id: uuid.UUID
    merchant_id: uuid.UUID | None
    department_id: uuid.UUID | None
    stock_total: int
    stock_remaining: int
    limit_per_period: int
    period: str
    region_ids: list[str]
    min_age: int | None
    max_age: int | None
    low_income_only: bool
    valid_from: datetime
    valid_until: datetime
    voucher_days: int
    image_url: str
    active: bool


class RedemptionCreate(BaseModel):
    """Redeem `quantity` of an item (1–5)."""

    item_id: uuid.UUID
    # The bounds are stated in the spec, but checked by the service, which names the rule
    # (每次可兑换 1 至 5 份) rather than a generic "must be ≤ 5".
    quantity: Whole = Field(
        1,
        description="1–5; anything else is refused with a reason",
        json_schema_extra={"minimum": 1, "maximum": 5},
    )


class VoucherRead(BaseModel):
    """A voucher (兑换券) as its owner sees it."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    status: str
    points: int
    face_value_fen: int
    valid_from: datetime
    valid_until: datetime
    used_at: datetime | None
    merchant_id: uuid.UUID | None
    item_name: str = Field("", description="what the voucher is for")
    item_name_en: str = ""
    merchant: str = Field("", description="where it can be used")
    merchant_en: str = ""


class RedemptionRead(BaseModel):
    """A redemption with its vouchers (or the state of its application)."""

    id: uuid.UUID
    item_id: uuid.UUID
    item_name: str
    item_name_en: str
    quantity: int
    points: int
    status: str
    decision_reason: str | None
    decided_at: datetime | None
    created_at: datetime
    vouchers: list[VoucherRead]
    # 教育积分: paid from this child's education account (null: the wallet)
    child_id: uuid.UUID | None = None


class VerifyRead(BaseModel):
    """A voucher just verified at a merchant."""

    code: str
    status: str
    used_at: datetime
    merchant: str
    item_name: str
    face_value_fen: int


class SponsorCreate(BaseModel):
    """A funding source (government budget or an enterprise) with its amount in fen."""

    code: Line = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    name: Line = Name
    name_en: Line = Name
    kind: Line = Field(pattern="^(government|enterprise)$")
    budget_fen: Whole = Field(ge=0, le=10**15)


class SponsorRead(SponsorCreate):
    """A funding source."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID


class MerchantCreate(BaseModel):
    """A merchant where vouchers are used."""

    code: Line = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    name: Line = Name
    name_en: Line = Name
    address: Line = Field("", max_length=200)


class MerchantRead(MerchantCreate):
    """A merchant and its clerks."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    clerk_ids: list[uuid.UUID] = Field(default_factory=list)


class ClerkCreate(BaseModel):
    """Make a staff member a clerk of the merchant."""

    staff_id: uuid.UUID


class ValuationCreate(BaseModel):
    """A new valuation version: fen per point from a date on."""

    fen_per_point: Whole = Field(ge=1, le=10_000)
    effective_from: Instant
    note: Text = Field("", max_length=200)


class ValuationRead(ValuationCreate):
    """A valuation version."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID


class LowIncomeCreate(BaseModel):
    """Certify a resident as low-income for eligibility."""

    resident_id: uuid.UUID
    note: Text = Field("", max_length=200)


class SponsorFigures(BaseModel):
    """One funding source's budget and what has been redeemed against it (fen)."""

    code: str
    name: str
    budget_fen: int
    redeemed_fen: int
    points_value_fen: int
    subsidy_fen: int
    remaining_fen: int


class BudgetRead(BaseModel):
    """Live figures: liability against the budget still unspent."""

    fen_per_point: int
    outstanding_points: int
    liability_fen: int
    budget_fen: int
    redeemed_fen: int
    remaining_fen: int
    alert: bool
    alert_messages: dict[str, str] | None
    sponsors: list[SponsorFigures]


class SettlementGroup(BaseModel):
    """Vouchers used at one merchant against one sponsor in the month."""

    merchant: str
    sponsor: str
    vouchers: int
    face_value_fen: int
    points_value_fen: int
    subsidy_fen: int


class SettlementLine(BaseModel):
    """One used voucher, traceable to its ledger transfers."""

    merchant: str
    sponsor: str
    voucher_code: str
    item: str
    used_at: datetime
    points: int
    face_value_fen: int
    points_value_fen: int
    subsidy_fen: int
    hold_transfer_id: uuid.UUID
    wallet_entry_id: uuid.UUID
    post_transfer_id: uuid.UUID


class SettlementRead(BaseModel):
    """A month's settlement."""

    month: str
    groups: list[SettlementGroup]
    lines: list[SettlementLine]


class VoucherCode(BaseModel):
    """A voucher code in the body, so it never appears in a URL (access logs, proxies)."""

    code: str = Field(
        min_length=1,
        max_length=64,
        pattern=CODE_PATTERN,
        description="as typed: any case, spaces or dashes",
    )


class ChildRedemptionCreate(BaseModel):
    """Apply, on a confirmed child's behalf, for an education entitlement paid from the
    child's education points."""

    model_config = ConfigDict(extra="forbid")

    item_id: uuid.UUID
    # As for RedemptionCreate: the bounds stated in the spec, checked by the service.
    quantity: Whole = Field(
        1,
        description="1–5; anything else is refused with a reason",
        json_schema_extra={"minimum": 1, "maximum": 5},
    )
