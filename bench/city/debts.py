"""A wallet's clawbacks and debt, as `ledger.clawback.ClawbackService` and the credit path
write them: an award found false is taken back (`FraudDesk.claw_back` → `Clawbacks`): its own
lot first, then the wallet's other unexpired lots earliest expiry first (`ledger.debts.plan_take`,
the real decision), what was spent becomes debt (a `debt` transfer from the wallet's debt
account to the bucket's clawback sink); an award that comes in while the wallet owes repays
from its new lot first (`journal.plan_credits`)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bench.city.books import Books, Head, Lot, Side
from civicpoints.ledger import chain, wallet_of
from civicpoints.ledger.accounts import CLAWBACK, DEBT, debt_owner
from civicpoints.ledger.clawback import DEBT_REASON
from civicpoints.ledger.clawback_repository import CLAWBACK_REF
from civicpoints.ledger.debts import plan_take
from civicpoints.ledger.journal import REPAY_ACTOR, REPAY_REASON

if TYPE_CHECKING:
    from bench.city.wallet import Who


@dataclass(frozen=True)
class Clawback:
    """An approved record found false, its award taken back at `at` by `actor`."""

    at: datetime
    participation_id: uuid.UUID
    award: uuid.UUID  # the award's transfer
    amount: int
    reason: str
    actor: str


@dataclass(frozen=True)
class Taken:
    """What a clawback did (the fraud case records it)."""

    clawback_id: uuid.UUID
    taken: int
    debt: int


class Debts:
    """The clawbacks and repayments of the wallet being generated (`start` for each)."""

    def __init__(self, books: Books, window: tuple[datetime, datetime]) -> None:
        self.books, self.window = books, window
        self.owed = 0
        self.head: Head | None = None  # the wallet's debt account, once opened
        self.done: dict[uuid.UUID, Taken] = {}  # by participation (read and cleared by Year)
        self.clawed = 0  # points taken back or repaid in the window: the rollup's `clawed`

    def start(self) -> None:
        """A new wallet: no debt."""
        self.owed, self.head = 0, None

    def debt_side(self, who: Who) -> Side:
        """The wallet's debt account (opened on first use, as `bulk.debt_spec`)."""
        if self.head is None:
            self.head = Head()
        return chain.debt_account_for(who.wallet), self.head

    def repay(self, who: Who, w: Head, lot: Lot, award: uuid.UUID, ref: str, at: datetime) -> None:
        """A wallet that owes repays out of the lot an award just opened."""
        if not self.owed:
            return
        paid = min(self.owed, lot.amount)
        what = (ref, REPAY_REASON, REPAY_ACTOR, at, f"repay:{award}")
        _, entry, _ = self.books.transfer(
            who.bucket, "repay", paid, (who.wallet, w), self.debt_side(who), what
        )
        self.books.use(who.bucket, lot.id, entry, paid)
        lot.remaining -= paid
        self.owed -= paid
        self.clawed += paid if self.window[0] <= at < self.window[1] else 0

    def claw_back(self, who: Who, w: Head, lots: list[Lot], own: Lot, c: Clawback) -> None:
        """Take the award back: the take (lots as `plan_take` says), the debt, the row."""
        b, bucket = self.books, who.bucket
        others = [x for x in lots if x is not own]
        take = plan_take(
            c.amount, (own.id, own.remaining), own.expired, [(x.id, x.remaining) for x in others]
        )
        cid, ref = b.new_id(), f"participation:{c.participation_id}"
        sink = b.account(bucket, CLAWBACK)
        took = owed = None
        if take.taken:
            what = (ref, c.reason, c.actor, c.at, f"clawback:{cid}")
            took = b.transfer(bucket, "clawback", take.taken, (who.wallet, w), sink, what)
            by_id = {x.id: x for x in [own, *others]}
            for lot_id, n in take.uses:
                b.use(bucket, lot_id, took[1], n)
                by_id[lot_id].remaining -= n
            lots[:] = [x for x in lots if x.remaining]
        if take.debt:
            what = (f"{CLAWBACK_REF}{cid}", DEBT_REASON, c.actor, c.at, f"debt:{cid}")
            owed = b.transfer(bucket, "debt", take.debt, self.debt_side(who), sink, what)
            self.owed += take.debt
        digest = hashlib.sha256(f"{who.wallet}|{c.award}|{c.amount}|{ref}".encode()).hexdigest()
        b.out["ledger_clawback"].append((
            bucket, cid, who.wallet, c.award, c.amount, take.taken, take.lapsed, take.debt,
            took[0] if took else None, took[1] if took else None, owed[0] if owed else None,
            f"clawback:{c.participation_id}", digest, ref, c.reason, c.actor, c.at,
        ))  # fmt: skip
        self.done[c.participation_id] = Taken(cid, take.taken, take.debt)
        self.clawed += take.taken if self.window[0] <= c.at < self.window[1] else 0

    def account_row(self, who: Who, now: datetime) -> None:
        """The wallet's debt account, if a clawback opened it."""
        if self.head is not None:
            h, owner = self.head, debt_owner(wallet_of(who.id))
            self.books.out["ledger_account"].append((
                who.bucket, chain.debt_account_for(who.wallet), owner, DEBT, True, h.balance,
                h.count, h.head, now, 0,
            ))  # fmt: skip
