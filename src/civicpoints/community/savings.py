"""Use cases of the 积分银行 (points bank): move points from the wallet into savings, where they
are valid `savings_months` (a region setting, 24) from when they were first earned instead of
12, up to `savings_cap` (a region setting, 5,000); withdraw them back keeping the longer date.
Every move is a ledger carry; the extension is the savings credit entry's hashed expiry, with
its rule on the carry row, so `ledger verify` recomputes it. Never commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from civicpoints.community.donation_errors import OverSavingsCap
from civicpoints.community.donations import DonationService
from civicpoints.identity import Resident
from civicpoints.kit.clock import utcnow
from civicpoints.kit.errors import InvalidInput
from civicpoints.ledger import (
    CarryRequest,
    CarryResult,
    LedgerService,
    Lot,
    Movement,
    savings_of,
    wallet_of,
)


@dataclass(frozen=True)
class SavingsView:
    """A resident's savings: balance, the cap, the months saved points last, the lots."""

    balance: int
    cap: int
    months: int
    lots: list[Lot]


class SavingsService:
    """Savings moves inside the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.ledger = LedgerService(session)
        self.settings = DonationService(session).settings

    def view(self, resident: Resident) -> SavingsView:
        """The resident's savings now."""
        rules = self.settings(resident.community_id)
        owner = savings_of(resident.id)
        lots = [x for x in self.ledger.lots(owner) if x.remaining > 0]
        return SavingsView(
            self.ledger.balance(owner), rules.savings_cap, rules.savings_months, lots
        )

    def save(self, resident: Resident, amount: int, key: str) -> CarryResult:
        """Move `amount` points from the wallet into savings (earliest expiry first)."""
        if amount <= 0:
            raise InvalidInput("amount")
        rules = self.settings(resident.community_id)
        move = Movement("save", amount, f"savings:{resident.id}",
                        "存入积分银行 / saved in the points bank", f"resident:{resident.id}",
                        utcnow(), f"save:{resident.id}:{key}")  # fmt: skip
        req = CarryRequest(wallet_of(resident.id), savings_of(resident.id), "savings", move,
                           rules.savings_months)  # fmt: skip
        self._check_cap(resident, amount, 0, rules.savings_cap)
        result = self.ledger.carry(req)  # locks the wallet and the savings account
        if not result.replayed:  # read again under the lock: racing saves cannot pass the cap
            self._check_cap(resident, 0, amount, rules.savings_cap)
        return result

    def withdraw(self, resident: Resident, amount: int, key: str) -> CarryResult:
        """Move `amount` saved points back to the wallet; they keep their (longer) date."""
        if amount <= 0:
            raise InvalidInput("amount")
        move = Movement("withdraw", amount, f"savings:{resident.id}",
                        "从积分银行取出 / taken out of the points bank", f"resident:{resident.id}",
                        utcnow(), f"withdraw:{resident.id}:{key}")  # fmt: skip
        req = CarryRequest(savings_of(resident.id), wallet_of(resident.id), "wallet", move)
        return self.ledger.carry(req)

    def _check_cap(self, resident: Resident, adding: int, added: int, cap: int) -> None:
        """Refuse (422) savings beyond the cap (`added`: already moved in by this request)."""
        before = self.ledger.balance(savings_of(resident.id)) - added
        if before + adding + added > cap:
            raise OverSavingsCap("amount", room=max(cap - before, 0), cap=cap)
