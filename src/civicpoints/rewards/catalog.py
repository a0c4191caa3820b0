"""Use cases of the catalog and its reference data: items, sponsors, merchants, valuation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from civicpoints.kit.clock import utcnow
from civicpoints.regions import RegionService
from civicpoints.rewards.errors import (
    DuplicateCode,
    InvalidItem,
    ItemNotFound,
    MerchantNotFound,
    ResidentNotFound,
    SponsorNotFound,
    StaffNotFound,
)
from civicpoints.rewards.models import (
    Clerk,
    Fulfilment,
    Item,
    LowIncome,
    Merchant,
    Redemption,
    Sponsor,
    Valuation,
    Voucher,
)
from civicpoints.rewards.repository import RewardsRepository
from civicpoints.rewards.rules import split_value
from civicpoints.rewards.schemas import (
    ItemCreate,
    ItemUpdate,
    MerchantCreate,
    SponsorCreate,
    ValuationCreate,
)

DEFAULT_FEN_PER_POINT = 10  # 1 point = 0.1 yuan (the seed's 兑换比例)


class CatalogService:
    """Catalog items and what they refer to; never commits."""

    def __init__(self, session: Session) -> None:
        self.repo = RewardsRepository(session)

    def item(self, item_id: uuid.UUID) -> Item:
        """One item, or 404."""
        item = self.repo.item(item_id)
        if item is None:
            raise ItemNotFound(field="item_id")
        return item

    def create_item(self, data: ItemCreate) -> Item:
        """Add an item with its full stock."""
        if self.repo.item_by_code(data.code) is not None:
            raise DuplicateCode(field="code", ref=data.code)
        sponsor = self.sponsor_by_code(data.sponsor)
        merchant = self.merchant_by_code(data.merchant) if data.merchant else None
        _check_item(data, merchant is not None)
        self._check_price(data.price_points, data.face_value_fen, "price_points")
        regions = RegionService(self.repo.session)
        for region_id in data.region_ids:
            regions.get(region_id)
        if data.department_id is not None:
            regions.organization(data.department_id, "department_id")
        values = data.model_dump(exclude={"sponsor", "merchant", "region_ids"})
        item = Item(
            **values,
            sponsor_id=sponsor.id,
            merchant_id=merchant.id if merchant else None,
            region_ids=[str(r) for r in data.region_ids],
            stock_remaining=data.stock_total,
            active=True,
        )
        self.repo.add(item)
        return item

    def update_item(self, item_id: uuid.UUID, data: ItemUpdate) -> Item:
        """Change an item; a stock change moves what is left by the same amount (never < 0)."""
        item = self.repo.item(item_id, lock=True)
        if item is None:
            raise ItemNotFound(field="item_id")
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        self._check_price(
            changes.get("price_points", item.price_points),
            changes.get("face_value_fen", item.face_value_fen),
            "face_value_fen" if "price_points" not in changes else "price_points",
        )
        if "stock_total" in changes:
            delta = changes["stock_total"] - item.stock_total
            if item.stock_remaining + delta < 0:
                out = item.stock_total - item.stock_remaining
                raise InvalidItem(
                    field="stock_total",
                    reason_zh=f"已兑出 {out} 份，总库存不能更少",
                    reason_en=f"{out} already redeemed: the total cannot be lower",
                )
            item.stock_remaining += delta
        for key, value in changes.items():
            setattr(item, key, value)
        self.repo.session.flush()
        return item

    def _check_price(self, points: int, face_value_fen: int, field: str) -> None:
        """Refuse a price worth more than the face value at today's valuation: posting it
        would book a negative subsidy (the sponsor taking value from the resident)."""
        rate = self.fen_per_point(utcnow())
        value, subsidy = split_value(points, rate, face_value_fen)
        if subsidy < 0:
            each, worth, face = (f"{fen / 100:.2f}" for fen in (rate, value, face_value_fen))
            raise InvalidItem(
                field=field,
                reason_zh=f"{points} 积分按每分 {each} 元折合 {worth} 元，高于面值 {face} 元，"
                "补贴将为负数",
                reason_en=f"{points} points at {each} yuan each are worth {worth} yuan, above the "
                f"face value of {face} yuan: the subsidy would be negative",
            )

    def browse(
        self,
        category: str | None,
        max_price: int | None,
        regions: set[str] | None,
        after: uuid.UUID | None,
        limit: int,
        now: datetime,
    ) -> list[Item]:
        """Active items open now, by category, affordability and region: a full page of up to
        `limit` items after the cursor (items of other regions are skipped, not a short page)."""
        found: list[Item] = []
        while len(found) < limit:
            items = self.repo.items(category, max_price, True, after, limit)
            found += [
                i
                for i in items
                if i.valid_until > now
                and (regions is None or not i.region_ids or regions & set(i.region_ids))
            ]
            if len(items) < limit:
                break
            after = items[-1].id
        return found[:limit]

    def all_items(self, after: uuid.UUID | None, limit: int) -> Sequence[Item]:
        """Every item, withdrawn ones too, in id order after a cursor (administrators)."""
        return self.repo.items(None, None, False, after, limit)

    def item_by_code(self, code: str) -> Item | None:
        """An item by its code, if there is one."""
        return self.repo.item_by_code(code)

    def sponsor_by_code(self, code: str) -> Sponsor:
        """A funding source by code, or 404."""
        sponsor = self.repo.sponsor_by_code(code)
        if sponsor is None:
            raise SponsorNotFound(field="sponsor", ref=code)
        return sponsor

    def add_sponsor(self, data: SponsorCreate) -> Sponsor:
        """A new funding source."""
        if self.repo.sponsor_by_code(data.code) is not None:
            raise DuplicateCode(field="code", ref=data.code)
        sponsor = Sponsor(**data.model_dump())
        self.repo.add(sponsor)
        return sponsor

    def merchant(self, merchant_id: uuid.UUID) -> Merchant:
        """One merchant, or 404."""
        merchant = self.repo.merchant(merchant_id)
        if merchant is None:
            raise MerchantNotFound(field="merchant_id", ref=str(merchant_id))
        return merchant

    def merchant_by_code(self, code: str) -> Merchant:
        """A merchant by code, or 404."""
        merchant = self.repo.merchant_by_code(code)
        if merchant is None:
            raise MerchantNotFound(field="merchant", ref=code)
        return merchant

    def add_merchant(self, data: MerchantCreate) -> Merchant:
        """A new merchant."""
        if self.repo.merchant_by_code(data.code) is not None:
            raise DuplicateCode(field="code", ref=data.code)
        merchant = Merchant(**data.model_dump())
        self.repo.add(merchant)
        return merchant

    def add_clerk(self, merchant: Merchant, staff_id: uuid.UUID) -> Clerk:
        """Bind a staff member to a merchant (one merchant per clerk; rebinding moves them)."""
        clerk = self.repo.clerk(staff_id)
        if clerk is None:
            clerk = Clerk(staff_id=staff_id, merchant_id=merchant.id)
            self.repo.add_referring(clerk, StaffNotFound(field="staff_id"))
        else:
            clerk.merchant_id = merchant.id
        return clerk

    def clerk_ids(self, merchant_id: uuid.UUID) -> list[uuid.UUID]:
        """Staff ids of a merchant's clerks."""
        return [c.staff_id for c in self.repo.clerks(merchant_id)]

    def add_valuation(self, data: ValuationCreate) -> Valuation:
        """A new valuation version (earlier ones stay for history)."""
        row = Valuation(**data.model_dump())
        self.repo.add(row)
        return row

    def fen_per_point(self, at: datetime) -> int:
        """What a point is worth at `at` (the seed's 0.1 yuan when no version is set)."""
        row = self.repo.valuation_at(at)
        return row.fen_per_point if row else DEFAULT_FEN_PER_POINT

    def certify_low_income(self, resident_id: uuid.UUID, by: uuid.UUID, note: str) -> None:
        """Record a resident's low-income status (idempotent)."""
        if not self.repo.low_income(resident_id):
            row = LowIncome(resident_id=resident_id, certified_by=by, note=note)
            self.repo.add_referring(row, ResidentNotFound(field="resident_id"))

    def sponsors(self) -> Sequence[Sponsor]:
        """Every funding source."""
        return self.repo.sponsors()

    def merchants(self) -> Sequence[Merchant]:
        """Every merchant."""
        return self.repo.merchants()

    def valuations(self) -> Sequence[Valuation]:
        """Every valuation version."""
        return self.repo.valuations()

    def merchant_of_clerk(self, staff_id: uuid.UUID) -> uuid.UUID | None:
        """The merchant a staff member verifies vouchers for, if they are a clerk."""
        clerk = self.repo.clerk(staff_id)
        return clerk.merchant_id if clerk else None

    def vouchers_of_redemption(self, redemption_id: uuid.UUID) -> list[Voucher]:
        """A redemption's vouchers, in code order."""
        return self.repo.vouchers_of_redemption(redemption_id)

    def redemptions_of(self, resident_id: uuid.UUID, limit: int) -> Sequence[Redemption]:
        """A resident's redemptions, newest first."""
        return self.repo.redemptions_of(resident_id, limit)

    def vouchers_of(self, resident_id: uuid.UUID, limit: int) -> Sequence[Voucher]:
        """A resident's vouchers, newest first."""
        return self.repo.vouchers_of(resident_id, limit)


def _check_item(data: ItemCreate, has_merchant: bool) -> None:
    """Refuse definitions that contradict themselves."""
    problems = [
        (
            data.valid_until <= data.valid_from,
            "valid_until",
            "结束时间须晚于开始时间",
            "ends before it starts",
        ),
        (
            data.min_age is not None and data.max_age is not None and data.min_age > data.max_age,
            "min_age",
            "最小年龄大于最大年龄",
            "min_age is above max_age",
        ),
        (
            data.fulfilment == Fulfilment.VOUCHER and not has_merchant,
            "merchant",
            "兑换券须指定使用商户",
            "a voucher item needs a merchant",
        ),
        (
            data.fulfilment == Fulfilment.ENTITLEMENT and data.department_id is None,
            "department_id",
            "资格类兑换须指定审批部门",
            "an entitlement needs its department",
        ),
    ]
    for failed, field, zh, en in problems:
        if failed:
            raise InvalidItem(field=field, reason_zh=zh, reason_en=en)
