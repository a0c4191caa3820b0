"""Use cases of 积分捐赠: give to the community's 爱心积分池, allocate it, low-income status,
the 爱心榜. Every point movement is a ledger carry (lots keep their expiry). Never commits.

No person-to-person transfer: a donor gives only to the pool of their own community; only that
community's civil-affairs staff allocate it, and only to residents they marked low-income.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.community import donation_rules as rules
from civicpoints.community.donation_errors import (
    NotCivilAffairs,
    NotLowIncome,
    NotYourCommunity,
    OverMonthlyLimit,
)
from civicpoints.community.donation_models import (
    Allocation,
    BoardOptIn,
    Donation,
    LowIncomeStatus,
)
from civicpoints.community.donation_repository import DonationRepository
from civicpoints.community.donation_settings import DonationSettingService
from civicpoints.identity import Resident, ResidentNotFound
from civicpoints.kit.clock import as_utc, local_date, month_key, utcnow
from civicpoints.kit.errors import Conflict, InvalidInput, NotFound
from civicpoints.ledger import (
    CarryRequest,
    InsufficientPoints,
    LedgerService,
    Lot,
    Movement,
    pool_of,
    wallet_of,
)
from civicpoints.regions import RegionService

EXPIRING_DAYS = 30  # the pool page shows what expires within this many days first


SEARCH_MAX = 40  # characters of a search on the allocate form
SEARCH_PAGE = 20  # residents per page of it
SEARCH_PAGES = 500  # pages at most (offset paging stays cheap)


@dataclass(frozen=True)
class PoolView:
    """A community pool: balance, what expires within 30 days, its lots (earliest first)."""

    community_id: uuid.UUID
    balance: int
    expiring_soon: int
    lots: list[Lot]
    low_income: list[uuid.UUID]
    allocations: list[Allocation]


def _digest(*parts: object) -> str:
    """What makes two requests 'the same' for idempotency."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


class DonationService:
    """Donations, the pool and its allocation inside the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repo = DonationRepository(session)
        self.ledger = LedgerService(session)
        self.regions = RegionService(session)

    # -- settings ------------------------------------------------------------------------

    def settings(self, region_id: uuid.UUID, at: datetime | None = None) -> rules.DonationSettings:
        """The donation and points-bank settings in force in a region (own or an ancestor's:
        the most specific region first, then the latest start)."""
        return DonationSettingService(self.session).in_force(region_id, local_date(at or utcnow()))

    # -- donating ------------------------------------------------------------------------

    def donate(
        self, resident: Resident, community_id: uuid.UUID, amount: int, key: str
    ) -> Donation:
        """Give `amount` points to the resident's own community pool (lots keep their expiry)."""
        if amount <= 0:
            raise InvalidInput("amount")
        if community_id != resident.community_id:
            raise NotYourCommunity("community_id")
        digest = _digest("donate", community_id, amount)
        earlier = self.repo.donation_by_key(resident.id, key)
        if earlier is not None:
            if earlier.request_hash != digest:
                raise Conflict("Idempotency-Key")
            return earlier
        wallet, now = wallet_of(resident.id), utcnow()
        available = sum(x.remaining for x in self.ledger.lots(wallet) if as_utc(x.expires_at) > now)
        if amount > available:  # said first: the balance is what the donor sees
            raise InsufficientPoints(available=available, needed=amount)
        month = month_key(now)
        self._check_limit(resident, community_id, amount, month)
        ledger_key = f"donate:{resident.id}:{key}"
        move = Movement("donate", amount, f"donation:{community_id}",
                        "积分捐赠 / donation to the community pool", f"resident:{resident.id}",
                        now, ledger_key)  # fmt: skip
        # The carry locks the wallet (and the pool, in key order): read again under that lock,
        # the month's donations include any the donor's other requests just committed.
        result = self.ledger.carry(CarryRequest(wallet, pool_of(community_id), "pool", move))
        self._check_limit(resident, community_id, amount, month)
        row = Donation(
            resident_id=resident.id, community_id=community_id, amount=amount, month=month,
            idempotency_key=key, request_hash=digest, ledger_key=ledger_key,
            receipt_entry_id=result.slices[0].out_entry_id,
        )  # fmt: skip
        self.repo.add(row)
        return row

    def _check_limit(
        self, resident: Resident, community_id: uuid.UUID, amount: int, month: str
    ) -> None:
        """Refuse (422) a gift beyond the region's monthly donation limit."""
        limit = self.settings(community_id).monthly_donation_limit
        room = rules.room_this_month(self.repo.given_in_month(resident.id, month), limit)
        if amount > room:
            raise OverMonthlyLimit("amount", room=room, limit=limit)

    def set_board(self, resident_id: uuid.UUID, shown: bool) -> None:
        """Opt in to (or out of) the 爱心榜: masked name and total given."""
        row = self.repo.opt_in(resident_id)
        if row is None:
            self.repo.add(BoardOptIn(resident_id=resident_id, shown=shown))
        else:
            row.shown, row.updated_at = shown, utcnow()

    def board_shown(self, resident_id: uuid.UUID) -> bool:
        """Whether the resident appears on the 爱心榜."""
        row = self.repo.opt_in(resident_id)
        return bool(row and row.shown)

    def board(self, community_id: uuid.UUID, limit: int = 20) -> list[tuple[str, int]]:
        """The 爱心榜: (masked name, total) of donors who opted in; recipients never."""
        rows = self.repo.board(community_id, limit)
        names = {r.id: r.name for r in self._residents([rid for rid, _ in rows])}
        return [(rules.mask_name(names.get(rid, "")), total) for rid, total in rows]

    def my_donations(self, resident_id: uuid.UUID, limit: int = 20) -> list[Donation]:
        """A resident's donations, newest first."""
        return list(self.repo.donations_of(resident_id, limit))

    def donation_of(self, resident_id: uuid.UUID, donation_id: uuid.UUID) -> Donation:
        """One of the resident's own donations (another's is 404, as an unknown id)."""
        row = self.repo.donation(resident_id, donation_id)
        if row is None:
            raise NotFound("donation_id")
        return row

    def communities_of(self, who: Principal) -> list[uuid.UUID]:
        """The communities whose pool `who` manages (civil-affairs grants on a community)."""
        paths = {g.region_path for g in who.grants if g.role == Role.CIVIL_AFFAIRS}
        return [r.id for r in self.regions.tree() if r.path in paths and r.level == "community"]

    def room(self, resident: Resident) -> tuple[int, int]:
        """(points the resident may still give this month, the monthly limit)."""
        limit = self.settings(resident.community_id).monthly_donation_limit
        given = self.repo.given_in_month(resident.id, month_key(utcnow()))
        return rules.room_this_month(given, limit), limit

    # -- civil-affairs staff -------------------------------------------------------------

    def check_staff(self, who: Principal, community_id: uuid.UUID) -> None:
        """Refuse (403) anyone but civil-affairs staff of the community (or its ancestors)."""
        community = self.regions.community(community_id)
        if who.kind != "staff" or not who.may(Role.CIVIL_AFFAIRS, community.path):
            raise NotCivilAffairs()

    def set_low_income(
        self, who: Principal, resident: Resident, active: bool, reason: str
    ) -> LowIncomeStatus:
        """Record a low-income decision on a resident of the staff's community (audited)."""
        self.check_staff(who, resident.community_id)
        row = LowIncomeStatus(
            resident_id=resident.id, community_id=resident.community_id, active=active,
            reason=reason, set_by=who.id,
        )  # fmt: skip
        self.repo.add(row)
        return row

    def is_low_income(self, resident: Resident) -> bool:
        """Whether the latest decision on the resident, in their community, is 'low income'."""
        row = self.repo.low_income_status(resident.id)
        return bool(row and row.active and row.community_id == resident.community_id)

    def pool(self, who: Principal, community_id: uuid.UUID) -> PoolView:
        """The pool as its staff see it: lots earliest expiry first, what ends in 30 days."""
        self.check_staff(who, community_id)
        now = utcnow()
        soon = now + timedelta(days=EXPIRING_DAYS)
        lots = [
            x for x in self.ledger.lots(pool_of(community_id))
            if x.remaining > 0 and as_utc(x.expires_at) > now
        ]  # fmt: skip
        expiring = sum(x.remaining for x in lots if as_utc(x.expires_at) <= soon)
        return PoolView(
            community_id,
            sum(x.remaining for x in lots),
            expiring,
            lots,
            self.repo.low_income_in(community_id),
            list(self.repo.allocations_in(community_id, 50)),
        )

    def find_low_income(
        self, who: Principal, community_id: uuid.UUID, q: str, page: int
    ) -> tuple[list[Resident], bool]:
        """One page (from 0) of a community's low-income residents whose name holds `q` or
        whose platform number starts with it, for the allocate form; and whether more follow.
        Civil-affairs staff of the community only (checked first)."""
        self.check_staff(who, community_id)
        q = " ".join(q.split())[:SEARCH_MAX]
        page = min(max(page, 0), SEARCH_PAGES - 1)
        rows = self.repo.low_income_page(community_id, q, SEARCH_PAGE + 1, page * SEARCH_PAGE)
        return list(rows[:SEARCH_PAGE]), len(rows) > SEARCH_PAGE

    def allocate(
        self,
        who: Principal,
        community_id: uuid.UUID,
        resident: Resident,
        amount: int,
        reason: str,
        key: str,
    ) -> Allocation:
        """Give pool points to a low-income resident of the community (earliest expiry first)."""
        self.check_staff(who, community_id)
        if amount <= 0:
            raise InvalidInput("amount")
        if resident.community_id != community_id:
            raise ResidentNotFound()
        if not self.is_low_income(resident):
            raise NotLowIncome("resident_id")
        digest = _digest("allocate", resident.id, amount, reason)
        earlier = self.repo.allocation_by_key(community_id, key)
        if earlier is not None:
            if earlier.request_hash != digest:
                raise Conflict("Idempotency-Key")
            return earlier
        ledger_key = f"allocate:{community_id}:{key}"
        move = Movement("allocate", amount, f"allocation:{community_id}",
                        f"爱心积分池分配 / pool allocation: {reason}"[:500], f"staff:{who.id}",
                        utcnow(), ledger_key)  # fmt: skip
        target = wallet_of(resident.id)
        result = self.ledger.carry(CarryRequest(pool_of(community_id), target, "wallet", move))
        row = Allocation(
            community_id=community_id, resident_id=resident.id, amount=amount, reason=reason,
            staff_id=who.id, idempotency_key=key, request_hash=digest, ledger_key=ledger_key,
            receipt_entry_id=result.slices[0].in_entry_id,
        )  # fmt: skip
        self.repo.add(row)
        return row

    def _residents(self, ids: list[uuid.UUID]) -> list[Resident]:
        """Residents by id (for masked names on the board)."""
        if not ids:
            return []
        return list(self.session.scalars(select(Resident).where(Resident.id.in_(ids))).all())
