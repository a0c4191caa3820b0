"""Use cases of redemption: hold points, issue vouchers or applications, cancel, decide, expire.

Lock order, the same everywhere: the item row (stock), then the redemption and its vouchers,
then the ledger (wallet, then the bucket's system accounts). Never commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role, scope_clause
from civicpoints.identity import (
    GuardianService,
    IdentityService,
    NotEducationStaff,
    Resident,
    may_process,
    require_consent,
    require_education_staff,
)
from civicpoints.kit.clock import BUSINESS_TZ, local_date, month_key, start_of_local_day, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.errors import Forbidden
from civicpoints.kit.ids import new_id
from civicpoints.kit.metrics import REDEMPTIONS, count_on_commit
from civicpoints.ledger import (
    Hold,
    HoldRequest,
    HoldService,
    InsufficientPoints,
    Resolution,
    education_of,
    wallet_of,
)
from civicpoints.regions import RegionService, path_of
from civicpoints.rewards import codes, rules
from civicpoints.rewards.catalog import CatalogService
from civicpoints.rewards.errors import (
    PERIOD_WORDS,
    REFUSALS,
    STATUS_ZH,
    InvalidQuantity,
    ItemNotFound,
    NotCancellable,
    NotEducationItem,
    NotPending,
    RedemptionNotFound,
)
from civicpoints.rewards.models import (
    Booking,
    Fulfilment,
    Item,
    Redemption,
    RedemptionStatus,
    Voucher,
    VoucherEvent,
    VoucherStatus,
)
from civicpoints.rewards.repository import RewardsRepository

HOLD_GRACE = timedelta(days=3)  # vouchers are expired by rewards.expire first
APPLICATION_DAYS = 30  # an undecided entitlement application lapses and refunds


@dataclass(frozen=True)
class VoucherUse:
    """Who uses a voucher where, and the reason the ledger records."""

    staff_id: uuid.UUID
    merchant_id: uuid.UUID
    reason: str

    @property
    def actor(self) -> str:
        """The ledger and trail actor."""
        return f"staff:{self.staff_id}"


class RedemptionService:
    """Redeem, cancel, decide and expire, inside the caller's transaction."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.session, self.ctx = session, ctx
        self.repo = RewardsRepository(session)
        self.catalog = CatalogService(session)
        self.holds = HoldService(session)

    def redeem(
        self,
        resident_id: uuid.UUID,
        item_id: uuid.UUID,
        quantity: int,
        key: str,
        child_id: uuid.UUID | None = None,
    ) -> Redemption:
        """Check eligibility, take stock, hold the points; vouchers or an application result.

        With `child_id` (教育积分) a guardian applies on a confirmed child's behalf, paying from
        the child's education account: only education entitlements may be bought so.
        A retry with the same key returns the first redemption.
        """
        if not 1 <= quantity <= rules.MAX_QUANTITY:
            raise InvalidQuantity(field="quantity", quantity=quantity)
        if child_id is not None:  # 404 unlinked, 409 not confirmed: before the item
            GuardianService(self.session, self.ctx).confirmed_child(resident_id, child_id)
        item = self.repo.item(item_id, lock=True)
        if item is None:
            raise ItemNotFound(field="item_id")
        if child_id is not None and not rules.education_entitlement(item.category, item.fulfilment):
            raise NotEducationItem(field="item_id")
        earlier = self.repo.redemption_by_key(resident_id, key)  # read after the item lock:
        if earlier is not None:  # a twin request that held it first is seen committed
            return earlier
        now = utcnow()
        period = rules.period_key(item.period, local_date(now))
        self._check(item, resident_id, now, quantity)
        wallet = wallet_of(resident_id) if child_id is None else education_of(child_id)
        total = item.price_points * quantity
        available = self.holds.available(wallet, now)
        if available < total:
            raise InsufficientPoints(available=available, needed=total)
        item.stock_remaining -= quantity
        redemption = Redemption(
            id=new_id(),
            resident_id=resident_id,
            item_id=item.id,
            quantity=quantity,
            points=total,
            face_value_fen=item.face_value_fen * quantity,
            status=RedemptionStatus.ISSUED,
            period_key=period,
            idempotency_key=key,
            child_id=child_id,
        )
        self.repo.add(redemption)
        if item.fulfilment == Fulfilment.VOUCHER:
            self._issue(item, redemption, now)
        else:
            self._apply(item, redemption, now)
        fulfilment = REDEMPTIONS.labels(fulfilment=str(item.fulfilment))
        count_on_commit(self.session, fulfilment.inc)
        return redemption

    def _check(self, item: Item, resident_id: uuid.UUID, now: datetime, quantity: int) -> None:
        """Raise the first reason the resident may not redeem the item now."""
        resident = IdentityService(self.session, self.ctx).resident(resident_id)
        require_consent(resident)
        refused = self._refusal(item, self._applicant(resident), resident_id, now, quantity)
        if refused is not None:
            words = PERIOD_WORDS.get(item.period, PERIOD_WORDS["ever"])
            params = {k: _text(v) for k, v in refused.params.items()}
            raise REFUSALS[refused.reason](field="item_id", **params, **words)

    def refusals(
        self, resident_id: uuid.UUID, items: Sequence[Item], now: datetime
    ) -> dict[uuid.UUID, rules.Refusal | None]:
        """Why the resident may not redeem one of each item now (None: they may), by the
        same rules as `redeem`; short of points is the reason `points` with `short`."""
        resident = IdentityService(self.session, self.ctx).resident(resident_id)
        if not may_process(resident):
            return {i.id: rules.Refusal("consent", {}) for i in items}
        who = self._applicant(resident)
        available = self.holds.available(wallet_of(resident_id), now)
        out: dict[uuid.UUID, rules.Refusal | None] = {}
        for item in items:
            refused = self._refusal(item, who, resident_id, now, 1)
            if refused is None and item.price_points > available:
                refused = rules.Refusal("points", {"short": item.price_points - available})
            out[item.id] = refused
        return out

    def home_regions(self, resident_id: uuid.UUID) -> set[str]:
        """Ids of the resident's community and every region above it (what the catalog shows)."""
        resident = IdentityService(self.session, self.ctx).resident(resident_id)
        return self._regions_of(resident)

    def _regions_of(self, resident: Resident) -> set[str]:
        regions = RegionService(self.session)
        return {str(r.id) for r in regions.ancestry(regions.get(resident.community_id))}

    def _applicant(self, resident: Resident) -> rules.Applicant:
        """What eligibility needs to know of a resident."""
        return rules.Applicant(
            verified=resident.verification == "verified",
            region_ids=frozenset(self._regions_of(resident)),
            birth_date=resident.birth_date,
            low_income=self.repo.low_income(resident.id),
        )

    def _refusal(
        self, item: Item, who: rules.Applicant, resident_id: uuid.UUID, now: datetime, quantity: int
    ) -> rules.Refusal | None:
        """The first rule that refuses `quantity` of `item` to `who` now, or None."""
        facts = rules.ItemFacts(
            active=item.active,
            valid_from=item.valid_from,
            valid_until=item.valid_until,
            region_ids=frozenset(item.region_ids),
            min_age=item.min_age,
            max_age=item.max_age,
            low_income_only=item.low_income_only,
            limit_per_period=item.limit_per_period,
            stock_remaining=item.stock_remaining,
        )
        period = rules.period_key(item.period, local_date(now))
        used = self.repo.used_in_period(resident_id, item.id, period)
        return rules.refusal(facts, who, now, local_date(now), quantity, used)

    def _hold(
        self, item: Item, redemption: Redemption, amount: int, key: str, until: datetime
    ) -> Hold:
        """Hold points for a redemption; a post pays the sponsor's redemption sink."""
        sponsor = self.repo.sponsor(item.sponsor_id)
        assert sponsor is not None
        return self.holds.place(
            HoldRequest(
                owner=_payer(redemption),
                amount=amount,
                ref=f"redemption:{redemption.id}",
                reason=f"兑换 {item.name} / redeem {item.name_en}"[:500],
                actor=f"resident:{redemption.resident_id}",
                idempotency_key=key,
                timeout_at=until,
                sink=sponsor.code,
            )
        )

    def _issue(self, item: Item, redemption: Redemption, now: datetime) -> None:
        """One voucher per unit, each with its own hold (posted when that voucher is used)."""
        # Valid through the whole Beijing day `voucher_days` from today: "有效期至 12月27日".
        until = start_of_local_day(local_date(now) + timedelta(days=item.voucher_days + 1))
        for i in range(redemption.quantity):
            hold = self._hold(
                item,
                redemption,
                item.price_points,
                f"redeem:{redemption.id}:{i}",
                until + HOLD_GRACE,
            )
            voucher = Voucher(
                code=codes.new_code(),
                redemption_id=redemption.id,
                item_id=item.id,
                resident_id=redemption.resident_id,
                merchant_id=item.merchant_id,
                sponsor_id=item.sponsor_id,
                points=item.price_points,
                face_value_fen=item.face_value_fen,
                hold_bucket=hold.bucket,
                hold_id=hold.id,
                status=VoucherStatus.ISSUED,
                valid_from=now,
                valid_until=until,
            )
            self.repo.add(voucher)
            self._event(voucher, "issued", f"resident:{redemption.resident_id}")

    def _apply(self, item: Item, redemption: Redemption, now: datetime) -> None:
        """An entitlement: one hold for the application, decided by the owning department."""
        until = now + timedelta(days=APPLICATION_DAYS)
        hold = self._hold(item, redemption, redemption.points, f"redeem:{redemption.id}", until)
        redemption.status = RedemptionStatus.PENDING
        redemption.hold_bucket, redemption.hold_id = hold.bucket, hold.id

    def _event(self, voucher: Voucher, kind: str, actor: str, **detail: object) -> None:
        """Append to the voucher's trail."""
        self.repo.add(
            VoucherEvent(
                voucher_id=voucher.id,
                kind=kind,
                actor=actor,
                merchant_id=voucher.used_merchant_id,
                detail={k: str(v) for k, v in detail.items()},
            )
        )

    # -- reading ---------------------------------------------------------------------------

    def redemption_of(self, resident_id: uuid.UUID | None, redemption_id: uuid.UUID) -> Redemption:
        """A redemption (the resident's own when `resident_id` is given), or 404."""
        row = self.repo.redemption(redemption_id)
        if row is None or (resident_id is not None and row.resident_id != resident_id):
            raise RedemptionNotFound(field="redemption_id")
        return row

    def vouchers_of(self, redemption: Redemption) -> list[Voucher]:
        """A redemption's vouchers."""
        return self.repo.vouchers_of_redemption(redemption.id)

    # -- cancel, decide, expire ------------------------------------------------------------

    def cancel(self, resident_id: uuid.UUID, redemption_id: uuid.UUID) -> Redemption:
        """Cancel unused vouchers or a pending application: the same lots come back."""
        self.redemption_of(resident_id, redemption_id)
        redemption, item = self._locked(redemption_id)
        actor = f"resident:{resident_id}"
        why = Resolution("居民取消兑换 / cancelled by the resident", actor)
        if redemption.status == RedemptionStatus.PENDING:
            self._void_application(redemption, item, why, RedemptionStatus.CANCELLED)
            return redemption
        issued = [
            v
            for v in self.repo.vouchers_of_redemption(redemption.id, lock=True)
            if v.status == VoucherStatus.ISSUED
        ]
        if not issued:
            raise NotCancellable(
                status=redemption.status, status_zh=STATUS_ZH.get(redemption.status, "")
            )
        for voucher in issued:
            self._close(voucher, item, VoucherStatus.CANCELLED, why)
        self._settle_status(redemption)
        return redemption

    def decide(
        self, redemption_id: uuid.UUID, approve: bool, reason: str, by: Principal
    ) -> Redemption:
        """Approve (post the points to the sponsor) or deny (void: points back) an application;
        only the owning department (or an administrator) may."""
        redemption, item = self._locked(redemption_id)
        if redemption.child_id is not None:  # 教育积分: the guardian's region's education staff
            require_education_staff(by)
            guardian = IdentityService(self.session, self.ctx).resident(redemption.resident_id)
            if not GuardianService(self.session, self.ctx).may_decide_for(by, guardian):
                raise NotEducationStaff()
        elif not rules.may_decide(by, item.department_id):
            raise Forbidden()
        staff = by.id
        if redemption.status != RedemptionStatus.PENDING:
            status_zh = STATUS_ZH.get(redemption.status, "").removeprefix("的")
            raise NotPending(status=redemption.status, status_zh=status_zh)
        why = Resolution(reason[:500], f"staff:{staff}")
        if approve:
            assert redemption.hold_bucket is not None and redemption.hold_id is not None
            hold = self.holds.post(redemption.hold_bucket, redemption.hold_id, why)
            self._book(item, redemption, None, hold)
            redemption.status = RedemptionStatus.APPROVED
        else:
            self._void_application(redemption, item, why, RedemptionStatus.DENIED)
        redemption.decision_reason, redemption.decided_by = reason, staff
        redemption.decided_at = utcnow()
        self.session.flush()
        return redemption

    def applications(
        self, by: Principal, after: uuid.UUID | None, limit: int
    ) -> Sequence[Redemption]:
        """Entitlement applications waiting for a department `by` decides for, newest first."""
        return self.repo.applications_for(rules.decides_for(by), after, limit)

    def education_applications(
        self, by: Principal, after: uuid.UUID | None, limit: int
    ) -> Sequence[Redemption]:
        """Applications paid from children's education points whose guardians live where `by`
        holds the education role, newest first."""
        require_education_staff(by)
        home = (
            select(Resident.community_id)
            .where(Resident.id == Redemption.resident_id)
            .scalar_subquery()
        )
        scope = scope_clause(by, Role.EDUCATION, path_of(home), home)
        return self.repo.education_applications(scope, after, limit)

    def expire_vouchers(self, now: datetime, batch: int = 200) -> int:
        """Refund unused vouchers past their validity, and lapsed applications (a batch)."""
        why = Resolution(
            "兑换券过期自动退回 / voucher expired, points returned", "system:rewards.expire"
        )
        due = self.repo.due_vouchers(now, batch)
        for voucher_id in due:
            voucher = self.repo.voucher(voucher_id)
            assert voucher is not None
            redemption, item = self._locked(voucher.redemption_id)
            locked = self.repo.voucher(voucher_id, lock=True)
            if locked is not None and locked.status == VoucherStatus.ISSUED:
                self._close(locked, item, VoucherStatus.EXPIRED, why)
                self._settle_status(redemption)
        lapsed = self.repo.pending_applications(batch, now - timedelta(days=APPLICATION_DAYS))
        for app in lapsed:
            redemption, item = self._locked(app.id)
            if redemption.status == RedemptionStatus.PENDING:
                self._void_application(redemption, item, why, RedemptionStatus.EXPIRED)
        return len(due) + len(lapsed)

    def locked_for_use(self, voucher: Voucher) -> tuple[Redemption, Item, Voucher]:
        """Lock a voucher for use in the lock order of `redeem`: item, redemption, voucher."""
        redemption, item = self._locked(voucher.redemption_id)
        locked = self.repo.voucher(voucher.id, lock=True)
        assert locked is not None
        return redemption, item, locked

    def use(self, voucher: Voucher, item: Item, redemption: Redemption, use: VoucherUse) -> None:
        """Use a locked, checked voucher: post its hold, book it to the sponsor, close it."""
        why = Resolution(use.reason[:500], use.actor)
        hold = self.holds.post(voucher.hold_bucket, voucher.hold_id, why)
        voucher.status, voucher.used_at = VoucherStatus.USED, utcnow()
        voucher.used_by, voucher.used_merchant_id = use.staff_id, use.merchant_id
        self._event(voucher, "used", use.actor)
        self._book(item, redemption, voucher, hold)
        self._settle_status(redemption)

    # -- internals ---------------------------------------------------------------------------

    def _locked(self, redemption_id: uuid.UUID) -> tuple[Redemption, Item]:
        """Lock the item, then the redemption (the lock order of `redeem`)."""
        row = self.repo.redemption(redemption_id)
        if row is None:
            raise RedemptionNotFound(field="redemption_id")
        item = self.repo.item(row.item_id, lock=True)
        redemption = self.repo.redemption(redemption_id, lock=True)
        assert item is not None and redemption is not None
        return redemption, item

    def _close(self, voucher: Voucher, item: Item, status: str, why: Resolution) -> None:
        """Cancel or expire an unused voucher: void its hold, give its unit of stock back."""
        self._void_if_pending(voucher.hold_bucket, voucher.hold_id, why)
        voucher.status, voucher.closed_at = status, utcnow()
        item.stock_remaining += 1
        self._event(voucher, status, why.actor)

    def _void_application(
        self, redemption: Redemption, item: Item, why: Resolution, status: str
    ) -> None:
        """Void an application's hold and give its stock back."""
        assert redemption.hold_bucket is not None and redemption.hold_id is not None
        self._void_if_pending(redemption.hold_bucket, redemption.hold_id, why)
        redemption.status = status
        item.stock_remaining += redemption.quantity
        self.session.flush()

    def _void_if_pending(self, bucket: int, hold_id: uuid.UUID, why: Resolution) -> None:
        """Void a hold unless the ledger's timeout job already did."""
        hold = self.holds.get(bucket, hold_id)
        if hold is not None and hold.status == "pending":
            self.holds.void(bucket, hold_id, why)

    def _settle_status(self, redemption: Redemption) -> None:
        """A redemption is done when none of its vouchers is still issued."""
        states = {v.status for v in self.repo.vouchers_of_redemption(redemption.id)}
        if VoucherStatus.ISSUED in states:
            return
        if VoucherStatus.USED in states:
            redemption.status = RedemptionStatus.COMPLETED
        elif VoucherStatus.CANCELLED in states:
            redemption.status = RedemptionStatus.CANCELLED
        else:
            redemption.status = RedemptionStatus.EXPIRED
        self.session.flush()

    def _book(
        self, item: Item, redemption: Redemption, voucher: Voucher | None, hold: Hold
    ) -> Booking:
        """Book the posted value against the sponsor: points value plus subsidy = face value."""
        assert hold.resolve_transfer_id is not None
        points = voucher.points if voucher else redemption.points
        face = voucher.face_value_fen if voucher else redemption.face_value_fen
        rate = self.catalog.fen_per_point(hold.resolved_at or utcnow())
        value, subsidy = rules.split_value(points, rate, face)
        booking = Booking(
            sponsor_id=voucher.sponsor_id if voucher else item.sponsor_id,  # its hold's sink
            redemption_id=redemption.id,
            voucher_id=voucher.id if voucher else None,
            merchant_id=voucher.used_merchant_id if voucher else None,
            month=month_key(hold.resolved_at or utcnow()),
            points=points,
            fen_per_point=rate,
            points_value_fen=value,
            subsidy_fen=subsidy,
            face_value_fen=face,
            hold_transfer_id=hold.hold_transfer_id,
            wallet_entry_id=hold.hold_entry_id,
            post_transfer_id=hold.resolve_transfer_id,
        )
        self.repo.add(booking)
        return booking


def _payer(redemption: Redemption) -> str:
    """The account a redemption's points are held in: the child's education account (教育积分)
    or the resident's wallet."""
    if redemption.child_id is not None:
        return education_of(redemption.child_id)
    return wallet_of(redemption.resident_id)


def _text(value: object) -> object:
    """A parameter as a message shows it: times as Beijing wall-clock text."""
    if isinstance(value, datetime):
        return value.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")
    return value
