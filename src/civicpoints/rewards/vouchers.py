"""Vouchers: reading them, and verification once at the right merchant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from civicpoints.identity import IdentityService
from civicpoints.kit.clock import BUSINESS_TZ, local_date, month_key, start_of_local_day, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.errors import DomainError
from civicpoints.rewards import rules
from civicpoints.rewards.errors import (
    NotAClerk,
    VoucherCancelled,
    VoucherExpired,
    VoucherNotFound,
    VoucherUsed,
    WrongMerchant,
)
from civicpoints.rewards.models import Merchant, RedemptionStatus, Voucher, VoucherStatus
from civicpoints.rewards.repository import RewardsRepository
from civicpoints.rewards.service import RedemptionService, VoucherUse

TODAY_MAX = 200  # verifications listed on the counter page


@dataclass(frozen=True)
class CounterDay:
    """A merchant's counter: today's verifications and the month's total."""

    merchant: Merchant
    today: Sequence[Voucher]
    month_count: int
    month_fen: int


def _when(voucher_time: object) -> str:
    """A time as Beijing wall-clock text for messages."""
    return voucher_time.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")  # type: ignore[attr-defined]


class VoucherService:
    """Reading and verifying vouchers; never commits."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.session, self.ctx = session, ctx
        self.redemptions = RedemptionService(session, ctx)
        self.repo = RewardsRepository(session)

    def owned_by_id(self, resident_id: uuid.UUID, voucher_id: uuid.UUID) -> Voucher:
        """A resident's own voucher by id (pages keep codes out of URLs), or 404."""
        voucher = self.repo.voucher(voucher_id)
        if voucher is None or voucher.resident_id != resident_id:
            raise VoucherNotFound(field="code")
        return voucher

    def holder(self, voucher: Voucher) -> tuple[str, str]:
        """The owner as a clerk sees them: name and phone masked ('张**', '138****0001')."""
        owner = IdentityService(self.session, self.ctx).resident(voucher.resident_id)
        return rules.mask_name(owner.name), owner.phone_masked

    def merchant_of(self, staff_id: uuid.UUID) -> Merchant:
        """The merchant a clerk verifies for, or 403."""
        clerk = self.repo.clerk(staff_id)
        if clerk is None:
            raise NotAClerk()
        merchant = self.repo.merchant(clerk.merchant_id)
        assert merchant is not None
        return merchant

    def counter_day(self, staff_id: uuid.UUID, now: datetime) -> CounterDay:
        """The clerk's merchant: vouchers used there today (Beijing) and this month's total."""
        merchant = self.merchant_of(staff_id)
        since = start_of_local_day(local_date(now))
        today = self.repo.used_at_merchant(merchant.id, since, TODAY_MAX)
        count, fen = self.repo.merchant_month(merchant.id, month_key(now))
        return CounterDay(merchant, today, count, fen)

    def verified_here(self, staff_id: uuid.UUID, voucher_id: uuid.UUID) -> Voucher:
        """A voucher used at the clerk's merchant (its result page), or 404."""
        merchant = self.merchant_of(staff_id)
        voucher = self.repo.voucher(voucher_id)
        if voucher is None or voucher.used_merchant_id != merchant.id:
            raise VoucherNotFound(field="code")
        return voucher

    def owned(self, resident_id: uuid.UUID, code: str) -> Voucher:
        """A resident's own voucher by code, or 404 (another's looks the same as none)."""
        voucher = self.repo.voucher_by_code(rules.normalize_code(code))
        if voucher is None or voucher.resident_id != resident_id:
            raise VoucherNotFound(field="code")
        return voucher

    def seen_by(self, who_kind: str, who_id: uuid.UUID, code: str) -> Voucher:
        """A voucher as its owner, or a clerk of its merchant before verifying, may see it."""
        if who_kind == "resident":
            return self.owned(who_id, code)
        merchant = self.merchant_of(who_id)
        voucher = self.repo.voucher_by_code(rules.normalize_code(code))
        if voucher is None:
            raise VoucherNotFound(field="code")
        if voucher.merchant_id != merchant.id:
            self._refuse(voucher, merchant)
        return voucher

    def verify(self, code: str, staff_id: uuid.UUID) -> tuple[Voucher, Merchant]:
        """Use a voucher at the clerk's merchant: post its hold and book it to the sponsor."""
        merchant = self.merchant_of(staff_id)
        found = self.repo.voucher_by_code(rules.normalize_code(code))
        if found is None:
            raise VoucherNotFound(field="code")
        redemption, item, voucher = self.redemptions.locked_for_use(found)
        self._refuse(voucher, merchant)
        reason = f"核销于{merchant.name} / used at {merchant.name_en}"
        self.redemptions.use(voucher, item, redemption, VoucherUse(staff_id, merchant.id, reason))
        assert redemption.status in (RedemptionStatus.ISSUED, RedemptionStatus.COMPLETED)
        return voucher, merchant

    def refusal(self, voucher: Voucher, merchant: Merchant) -> DomainError | None:
        """Why the merchant may not use the voucher now (as `verify` would say), or None."""
        try:
            self._refuse(voucher, merchant)
        except DomainError as exc:
            return exc
        return None

    def _refuse(self, voucher: Voucher, merchant: Merchant) -> None:
        """Refuse, changing nothing: another merchant's, used, cancelled or expired."""
        if voucher.merchant_id != merchant.id:
            home = self.repo.merchant(voucher.merchant_id) if voucher.merchant_id else None
            raise WrongMerchant(
                field="code",
                merchant=home.name if home else "—",
                merchant_en=home.name_en if home else "—",
            )
        if voucher.status == VoucherStatus.USED:
            where = (
                self.repo.merchant(voucher.used_merchant_id) if voucher.used_merchant_id else None
            )
            raise VoucherUsed(
                field="code",
                when=_when(voucher.used_at),
                merchant=where.name if where else "—",
                merchant_en=where.name_en if where else "—",
            )
        if voucher.status == VoucherStatus.CANCELLED:
            raise VoucherCancelled(field="code", when=_when(voucher.closed_at))
        if voucher.status == VoucherStatus.EXPIRED or voucher.valid_until <= utcnow():
            last_day = (voucher.valid_until - timedelta(microseconds=1)).astimezone(BUSINESS_TZ)
            raise VoucherExpired(field="code", until=f"{last_day:%Y-%m-%d}")
