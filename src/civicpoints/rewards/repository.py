"""All SQL of rewards."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicpoints.kit.errors import DomainError
from civicpoints.rewards.models import (
    Booking,
    Clerk,
    Item,
    LowIncome,
    Merchant,
    Redemption,
    RedemptionStatus,
    Sponsor,
    Valuation,
    Voucher,
    VoucherStatus,
)

# Redemptions that no longer count against a per-resident limit.
RELEASED = (RedemptionStatus.CANCELLED, RedemptionStatus.DENIED, RedemptionStatus.EXPIRED)


class RewardsRepository:
    """Reads, locks and stages rewards rows; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        """Stage and flush a row, so constraint violations surface here."""
        self.session.add(row)
        self.session.flush()

    def add_referring(self, row: object, missing: DomainError) -> None:
        """Stage a row whose references the caller did not check: a dangling one is `missing`."""
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError as exc:
            raise missing from exc

    def _one(self, stmt: Any, lock: bool) -> Any:
        """One row or None, locked and read afresh when asked."""
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return self.session.scalars(stmt).one_or_none()

    # -- catalog -----------------------------------------------------------------------------

    def item(self, item_id: uuid.UUID, lock: bool = False) -> Item | None:
        """One item (locked: its stock is about to change)."""
        return self._one(select(Item).where(Item.id == item_id), lock)

    def item_by_code(self, code: str) -> Item | None:
        """An item by its catalog code."""
        return self._one(select(Item).where(Item.code == code), False)

    def items(
        self,
        category: str | None,
        max_price: int | None,
        active_only: bool,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Item]:
        """Items in id order, filtered, after a cursor."""
        stmt = select(Item).order_by(Item.id).limit(limit)
        if category:
            stmt = stmt.where(Item.category == category)
        if max_price is not None:
            stmt = stmt.where(Item.price_points <= max_price)
        if active_only:
            stmt = stmt.where(Item.active.is_(True))
        if after is not None:
            stmt = stmt.where(Item.id > after)
        return self.session.scalars(stmt).all()

    def sponsor(self, sponsor_id: uuid.UUID) -> Sponsor | None:
        """One funding source."""
        return self.session.get(Sponsor, sponsor_id)

    def sponsor_by_code(self, code: str) -> Sponsor | None:
        """A funding source by code."""
        return self._one(select(Sponsor).where(Sponsor.code == code), False)

    def sponsors(self) -> Sequence[Sponsor]:
        """Every funding source."""
        return self.session.scalars(select(Sponsor).order_by(Sponsor.code)).all()

    def merchant(self, merchant_id: uuid.UUID) -> Merchant | None:
        """One merchant."""
        return self.session.get(Merchant, merchant_id)

    def merchant_by_code(self, code: str) -> Merchant | None:
        """A merchant by code."""
        return self._one(select(Merchant).where(Merchant.code == code), False)

    def merchants(self) -> Sequence[Merchant]:
        """Every merchant."""
        return self.session.scalars(select(Merchant).order_by(Merchant.code)).all()

    def clerk(self, staff_id: uuid.UUID) -> Clerk | None:
        """The clerk binding of a staff member."""
        return self.session.get(Clerk, staff_id)

    def clerks(self, merchant_id: uuid.UUID) -> Sequence[Clerk]:
        """A merchant's clerks."""
        return self.session.scalars(select(Clerk).where(Clerk.merchant_id == merchant_id)).all()

    def low_income(self, resident_id: uuid.UUID) -> bool:
        """Whether the resident is certified low-income."""
        return self.session.get(LowIncome, resident_id) is not None

    def valuation_at(self, when: datetime) -> Valuation | None:
        """The valuation in force at `when`."""
        stmt = (
            select(Valuation)
            .where(Valuation.effective_from <= when)
            .order_by(Valuation.effective_from.desc(), Valuation.id.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def valuations(self) -> Sequence[Valuation]:
        """Every valuation version, newest first."""
        stmt = select(Valuation).order_by(Valuation.effective_from.desc(), Valuation.id.desc())
        return self.session.scalars(stmt).all()

    # -- redemptions and vouchers ------------------------------------------------------------

    def used_in_period(self, resident_id: uuid.UUID, item_id: uuid.UUID, period: str) -> int:
        """Units of an item the resident redeemed in a limit period (released ones excluded)."""
        stmt = select(func.coalesce(func.sum(Redemption.quantity), 0)).where(
            Redemption.resident_id == resident_id,
            Redemption.item_id == item_id,
            Redemption.period_key == period,
            Redemption.status.not_in(RELEASED),
        )
        return int(self.session.scalar(stmt) or 0)

    def redemption(self, redemption_id: uuid.UUID, lock: bool = False) -> Redemption | None:
        """One redemption."""
        stmt = select(Redemption).where(Redemption.id == redemption_id)
        return self._one(stmt, lock)

    def redemption_by_key(self, resident_id: uuid.UUID, key: str) -> Redemption | None:
        """The redemption a resident made under an idempotency key."""
        stmt = select(Redemption).where(
            Redemption.resident_id == resident_id, Redemption.idempotency_key == key
        )
        return self._one(stmt, False)

    def redemptions_of(self, resident_id: uuid.UUID, limit: int) -> Sequence[Redemption]:
        """A resident's redemptions, newest first."""
        stmt = (
            select(Redemption)
            .where(Redemption.resident_id == resident_id)
            .order_by(Redemption.id.desc())
            .limit(limit)
        )
        return self.session.scalars(stmt).all()

    def pending_applications(
        self, limit: int, before: datetime | None = None
    ) -> Sequence[Redemption]:
        """Entitlement applications awaiting a decision, oldest first."""
        stmt = select(Redemption).where(Redemption.status == RedemptionStatus.PENDING)
        if before is not None:
            stmt = stmt.where(Redemption.created_at <= before)
        return self.session.scalars(stmt.order_by(Redemption.id).limit(limit)).all()

    def applications_for(
        self, departments: frozenset[uuid.UUID] | None, after: uuid.UUID | None, limit: int
    ) -> Sequence[Redemption]:
        """Pending applications for items of `departments` (None: all), newest first, after a
        cursor: the limit is applied before LIMIT, so every page is full."""
        stmt = select(Redemption).where(
            Redemption.status == RedemptionStatus.PENDING,
            Redemption.child_id.is_(None),  # paid from education points: education staff's
        )
        if departments is not None:
            owned = select(Item.id).where(Item.department_id.in_(departments))
            stmt = stmt.where(Redemption.item_id.in_(owned))
        if after is not None:
            stmt = stmt.where(Redemption.id < after)
        return self.session.scalars(stmt.order_by(Redemption.id.desc()).limit(limit)).all()

    def education_applications(
        self, scope: Any, after: uuid.UUID | None, limit: int
    ) -> Sequence[Redemption]:
        """Pending applications paid from a child's education points whose guardian lives
        where `scope` (an SQL condition on the guardian's community path) covers, newest
        first after a cursor; the scope is in the WHERE, before the LIMIT."""
        stmt = select(Redemption).where(
            Redemption.status == RedemptionStatus.PENDING,
            Redemption.child_id.is_not(None),
            scope,
        )
        if after is not None:
            stmt = stmt.where(Redemption.id < after)
        return self.session.scalars(stmt.order_by(Redemption.id.desc()).limit(limit)).all()

    def vouchers_of_redemption(self, redemption_id: uuid.UUID, lock: bool = False) -> list[Voucher]:
        """A redemption's vouchers, in code order (the lock order)."""
        stmt = select(Voucher).where(Voucher.redemption_id == redemption_id).order_by(Voucher.code)
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return list(self.session.scalars(stmt).all())

    def voucher_by_code(self, code: str, lock: bool = False) -> Voucher | None:
        """A voucher by its grouped code."""
        return self._one(select(Voucher).where(Voucher.code == code), lock)

    def vouchers_of(self, resident_id: uuid.UUID, limit: int) -> Sequence[Voucher]:
        """A resident's vouchers, newest first."""
        stmt = (
            select(Voucher)
            .where(Voucher.resident_id == resident_id)
            .order_by(Voucher.id.desc())
            .limit(limit)
        )
        return self.session.scalars(stmt).all()

    def due_vouchers(self, now: datetime, limit: int) -> Sequence[uuid.UUID]:
        """Ids of issued vouchers past their validity."""
        stmt = (
            select(Voucher.id)
            .where(Voucher.status == VoucherStatus.ISSUED, Voucher.valid_until <= now)
            .order_by(Voucher.valid_until)
            .limit(limit)
        )
        return self.session.scalars(stmt).all()

    def voucher(self, voucher_id: uuid.UUID, lock: bool = False) -> Voucher | None:
        """One voucher."""
        return self._one(select(Voucher).where(Voucher.id == voucher_id), lock)

    # -- budget and settlement ---------------------------------------------------------------

    def booked_by_sponsor(self) -> dict[uuid.UUID, tuple[int, int, int]]:
        """sponsor → (face value, points value, subsidy) booked, in fen."""
        stmt = select(
            Booking.sponsor_id,
            func.sum(Booking.face_value_fen),
            func.sum(Booking.points_value_fen),
            func.sum(Booking.subsidy_fen),
        ).group_by(Booking.sponsor_id)
        return {s: (int(f), int(p), int(x)) for s, f, p, x in self.session.execute(stmt).all()}

    def bookings_in(self, month: str, merchant_id: uuid.UUID | None) -> Sequence[Any]:
        """Voucher bookings of a month with what settlement prints, in merchant/sponsor order."""
        stmt = (
            select(
                Booking,
                Voucher.code,
                Voucher.used_at,
                Item.code.label("item_code"),
                Item.name.label("item_name"),
                Merchant.code.label("merchant_code"),
                Merchant.name.label("merchant_name"),
                Sponsor.code.label("sponsor_code"),
                Sponsor.name.label("sponsor_name"),
            )
            .join(Voucher, Voucher.id == Booking.voucher_id)
            .join(Item, Item.id == Voucher.item_id)
            .join(Merchant, Merchant.id == Booking.merchant_id)
            .join(Sponsor, Sponsor.id == Booking.sponsor_id)
            .where(Booking.month == month)
            .order_by(Merchant.code, Sponsor.code, Voucher.used_at, Voucher.code)
        )
        if merchant_id is not None:
            stmt = stmt.where(Booking.merchant_id == merchant_id)
        return self.session.execute(stmt).all()

    # -- a merchant's counter ----------------------------------------------------------------

    def used_at_merchant(
        self, merchant_id: uuid.UUID, since: datetime, limit: int
    ) -> Sequence[Voucher]:
        """Vouchers used at a merchant since `since`, newest first."""
        stmt = (
            select(Voucher)
            .where(Voucher.used_merchant_id == merchant_id, Voucher.used_at >= since)
            .order_by(Voucher.used_at.desc())
            .limit(limit)
        )
        return self.session.scalars(stmt).all()

    def merchant_month(self, merchant_id: uuid.UUID, month: str) -> tuple[int, int]:
        """(vouchers, face value in fen) booked at a merchant in a Beijing month."""
        stmt = select(func.count(), func.coalesce(func.sum(Booking.face_value_fen), 0)).where(
            Booking.merchant_id == merchant_id, Booking.month == month
        )
        count, fen = self.session.execute(stmt).one()
        return int(count), int(fen)
