"""Use cases of the ledger: credit with a lot, debit by FIFO lots, expire, claw back (in
clawback.py); never commits.

The ledger knows accounts by an owner string and entries by a `ref`; nothing of residents,
activities or rewards (DESIGN.md §3).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy.orm import Session

from civicpoints.kit.clock import utcnow
from civicpoints.kit.ids import new_id
from civicpoints.ledger import chain
from civicpoints.ledger.accounts import EXPIRY, ISSUANCE
from civicpoints.ledger.bulk import AccountSpec, CreditRepository, debt_spec
from civicpoints.ledger.carry import CarryRequest, CarryResult, CarryService
from civicpoints.ledger.clawback import (
    ClawbackRequest,
    ClawbackResult,
    ClawbackService,
    RestoreRequest,
    RestoreResult,
)
from civicpoints.ledger.errors import (
    IdempotencyConflict,
    InsufficientPoints,
    InvalidAmount,
    LedgerNotInitialized,
)
from civicpoints.ledger.flows import MonthFlows, flows_by_month
from civicpoints.ledger.journal import (
    CreditOrder,
    Head,
    Movement,
    Posting,
    fresh_orders,
    plan_credits,
    request_hash,
)
from civicpoints.ledger.journal import append as journal_append
from civicpoints.ledger.models import Account, Entry, LogQueue, Lot, LotUse, Transfer
from civicpoints.ledger.repository import LedgerRepository


@dataclass(frozen=True)
class CreditRequest:
    """One credit of a batch: points for `owner` from the issuance account of `source`."""

    owner: str
    move: Movement
    expires_at: datetime
    source: str = "general"
    kind: str = "wallet"  # the kind of `owner`'s account when it is opened ("team_pool")


@dataclass(frozen=True)
class ExpiryReport:
    """What the expiry job did."""

    lots: int
    points: int


class LedgerService:
    """Double-entry, append-only, hash-chained ledger operations inside the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.repo = LedgerRepository(session)
        self.credits = CreditRepository(session)
        self._buckets: int | None = None

    def initialize(self, buckets: int) -> int:
        """Fix the bucket count at creation; later calls return the stored value."""
        stored = self.repo.meta("buckets")
        if stored is None:
            self.repo.set_meta("buckets", str(buckets))
            self.repo.flush()
            return buckets
        return int(stored)

    def buckets(self) -> int:
        """The bucket count fixed at creation (kept per connection: it never changes)."""
        if self._buckets is None:
            info = self.repo.session.connection().info
            cached = info.get("ledger.buckets")
            if cached is None:
                stored = self.repo.meta("buckets")
                if stored is None:
                    raise LedgerNotInitialized()
                cached = info["ledger.buckets"] = int(stored)
            self._buckets = cached
        return self._buckets

    def locate(self, owner: str) -> tuple[int, uuid.UUID]:
        """(bucket, account id) of a user account named `owner`."""
        account_id = chain.account_id_for(owner)
        return chain.bucket_of(account_id, self.buckets()), account_id

    def credit(
        self, owner: str, move: Movement, expires_at: datetime, source: str = "general"
    ) -> Posting:
        """Issue points from the bucket's issuance account to `owner`, opening a lot."""
        return self.credit_many([CreditRequest(owner, move, expires_at, source)])[0]

    def credit_many(self, requests: list[CreditRequest]) -> list[Posting]:
        """Post many credits with a few set-based statements; one Posting per request, in order.

        Accounts are created-or-locked in key order, then idempotency keys are read: a key
        already used returns its first posting (or 409 for a different request); a key
        repeated within the batch posts once. A wallet that owes repays from the new lot.
        """
        for r in requests:
            if r.move.amount <= 0:
                raise InvalidAmount(amount=r.move.amount)
        orders, specs, owners = self._orders(requests)
        now = utcnow()
        heads = self.credits.lock_accounts(specs, now)
        used = self.credits.used_keys([(o.bucket, o.move.idempotency_key) for o in orders])
        fresh = fresh_orders(orders, used)
        owing = {(o.bucket, o.wallet) for o in fresh.values() if heads[(o.bucket, o.wallet)].owed}
        if owing:  # only then: the debt accounts, locked after their wallets as everywhere
            debts = [debt_spec(b, w, owners[(b, w)]) for b, w in sorted(owing)]
            heads.update(self.credits.lock_accounts(debts, now))
        plan = plan_credits(list(fresh.values()), heads, now, new_id)
        if plan.transfers:
            self.credits.write(plan, now)
        posted = dict(zip(fresh, plan.postings, strict=True))
        out = []
        for o in orders:
            key = (o.bucket, o.move.idempotency_key)
            if key in used:
                earlier = self.repo.transfer_by_key(o.bucket, o.move.idempotency_key)
                assert earlier is not None
                out.append(self._replay(earlier, request_hash(o.issuer, o.wallet, o.move)))
            else:
                p = posted[key]
                out.append(p if o is fresh[key] else replace(p, replayed=True))
        return out

    def _orders(
        self, requests: list[CreditRequest]
    ) -> tuple[list[CreditOrder], list[AccountSpec], dict[tuple[int, uuid.UUID], str]]:
        """Each request as an order; the accounts to lock; each wallet's owner name."""
        buckets = self.buckets()
        orders, specs, owners = [], [], {}
        for r in requests:
            wallet = chain.account_id_for(r.owner)
            bucket = chain.bucket_of(wallet, buckets)
            name = f"{ISSUANCE}:{r.source}"
            issuer = _system_id(bucket, name)
            specs.append(AccountSpec(bucket, issuer, f"system:{name}", "system", True))
            specs.append(AccountSpec(bucket, wallet, r.owner, r.kind, False))
            orders.append(CreditOrder(bucket, issuer, wallet, r.move, r.expires_at))
            owners[(bucket, wallet)] = r.owner
        return orders, specs, owners

    def balance(self, owner: str) -> int:
        """The cached balance of `owner` (0 for an account never used)."""
        bucket, account_id = self.locate(owner)
        account = self.repo.account(bucket, account_id)
        return account.balance if account else 0

    def lots(self, owner: str) -> list[Lot]:
        """All lots of `owner`, earliest expiry first."""
        bucket, account_id = self.locate(owner)
        return list(self.repo.lots(bucket, account_id))

    def debt(self, owner: str) -> int:
        """Points `owner` still owes after clawbacks (0 if none)."""
        return ClawbackService(self, self.repo.session).debt(owner)

    def claw_back(self, req: ClawbackRequest) -> ClawbackResult:
        """Reverse (part of) an award: its own lots first, then others; the rest becomes debt."""
        return ClawbackService(self, self.repo.session).claw_back(req)

    def restore(self, req: RestoreRequest) -> RestoreResult:
        """Undo a clawback (an upheld appeal): points back with their expiry, debt forgiven."""
        return ClawbackService(self, self.repo.session).restore(req)

    def carry(self, req: CarryRequest) -> CarryResult:
        """Move points between two user accounts keeping their lots' expiry (or extending it
        only by the request's named rule); all or nothing, idempotent by key."""
        return CarryService(self, self.repo.session).carry(req)

    def entries(self, owner: str, limit: int, before_seq: int | None = None) -> list[Entry]:
        """`owner`'s journal, newest first."""
        bucket, account_id = self.locate(owner)
        return list(self.repo.entries(bucket, account_id, limit, before_seq))

    def flows_by_month(self, months: list[date]) -> list[MonthFlows]:
        """Points issued, redeemed, expired, clawed back and outstanding for each month (first
        days, in order), from the transfers themselves."""
        return flows_by_month(self.repo, months)

    def expire_lot(self, bucket: int, lot_id: uuid.UUID, as_of: datetime) -> int:
        """Write an EXPIRE transfer for what is left of one lot; returns the points expired."""
        found = self.repo.lot(bucket, lot_id)
        if found is None:
            return 0
        # The wallet first, then the lot: the order of every writer of a wallet's lots
        # (holds, clawbacks, repayments), so an expiry run racing them queues, never deadlocks.
        wallet = self.repo.account(bucket, found.account_id, lock=True)
        lot = self.repo.lot(bucket, lot_id, lock=True)
        assert wallet is not None and lot is not None
        if lot.remaining <= 0 or lot.expires_at > as_of:
            return 0
        sink = self.system(bucket, EXPIRY)
        move = Movement(
            kind="expire",
            amount=lot.remaining,
            ref=f"lot:{lot.id}",
            reason="积分到期 / points expired",
            actor="system:ledger.expire",
            occurred_at=lot.expires_at,
            idempotency_key=f"expire:{lot.id}",
        )
        amount = lot.remaining
        self.transfer(wallet, sink, move, lots=[lot])
        return amount

    def expire_due(
        self, as_of: datetime, batch: int = 500, on_batch: Callable[[int], None] | None = None
    ) -> ExpiryReport:
        """Expire every lot due by `as_of`, in batches (the caller commits between calls)."""
        due = self.repo.due_lots(as_of, batch)
        points = sum(self.expire_lot(b, lot_id, as_of) for b, _acct, lot_id in due)
        if on_batch:
            on_batch(len(due))
        return ExpiryReport(lots=len(due), points=points)

    def count_due(self, as_of: datetime) -> int:
        """How many lots are due to expire by `as_of`."""
        return self.repo.count_due_lots(as_of)

    # -- the operations holds (and any two-phase flow) are built from ----------------------

    def account(self, bucket: int, account_id: uuid.UUID, lock: bool = False) -> Account | None:
        """One account, optionally locked until the transaction ends."""
        return self.repo.account(bucket, account_id, lock=lock)

    def open_lots(self, bucket: int, account_id: uuid.UUID, lock: bool = False) -> list[Lot]:
        """An account's lots with points left, earliest expiry first (optionally locked)."""
        return list(self.repo.open_lots(bucket, account_id, lock))

    def system(self, bucket: int, name: str) -> Account:
        """The per-bucket system account `name`, locked (split per bucket: never global)."""
        spec = AccountSpec(bucket, _system_id(bucket, name), f"system:{name}", "system", True)
        return self.lock_account(spec)

    def lock_account(self, spec: AccountSpec) -> Account:
        """Lock an account for this transaction, creating it on first use (race-free upsert)."""
        self.credits.lock_accounts([spec], utcnow())
        account = self.repo.account(spec.bucket, spec.id, lock=True)
        assert account is not None
        return account

    def transfer(
        self,
        debit: Account,
        credit: Account,
        move: Movement,
        after_credit: Callable[[Entry], None] | None = None,
        lots: list[Lot] | None = None,
        expires_at: datetime | None = None,
    ) -> Posting:
        """Record one transfer of locked accounts: two chained entries, idempotent by key.

        A wallet debit consumes `lots` in the order given (default: its open lots, earliest
        expiry first), recording each use; `expires_at` opens a lot of the whole amount on the
        credit side with that expiry (hashed with the entry); `after_credit` runs on the credit
        entry once written (e.g. `give_back`, which returns lots to the credited wallet).
        Points coming into a wallet that owes repay its debt first, as a transfer of their own.
        """
        if move.amount <= 0:
            raise InvalidAmount(amount=move.amount)
        digest = request_hash(debit.id, credit.id, move)
        earlier = self.repo.transfer_by_key(debit.bucket, move.idempotency_key)
        if earlier is not None:
            return self._replay(earlier, digest)
        if not debit.may_go_negative and debit.balance < move.amount:
            raise InsufficientPoints(available=debit.balance, needed=move.amount)
        transfer = Transfer(
            bucket=debit.bucket,
            id=new_id(),
            kind=move.kind,
            amount=move.amount,
            debit_account_id=debit.id,
            credit_account_id=credit.id,
            idempotency_key=move.idempotency_key,
            request_hash=digest,
            ref=move.ref,
            reason=move.reason,
            actor=move.actor,
            occurred_at=move.occurred_at,
            recorded_at=utcnow(),
        )
        self.repo.add(transfer)
        self.repo.flush()
        debit_entry = self._append(debit, transfer, -move.amount, credit.id)
        credit_entry = self._append(credit, transfer, move.amount, debit.id, expires_at)
        self.repo.flush()
        if not debit.may_go_negative:
            self._consume(debit, debit_entry, move.amount, lots)
        if expires_at is not None:
            self._open_lot(credit_entry, expires_at)
        if after_credit:
            after_credit(credit_entry)
        if credit.owed > 0 and credit.kind == "wallet":
            ClawbackService(self, self.repo.session).repay(credit, transfer, move.amount)
        return Posting(
            transfer.id,
            transfer.bucket,
            move.amount,
            debit_entry.id,
            credit_entry.id,
            replayed=False,
        )

    def give_back(self, taken: list[tuple[Lot, int]]) -> Callable[[Entry], None]:
        """An `after_credit` that returns what each lot gave, as negative uses by the credit."""

        def restore(entry: Entry) -> None:
            for lot, points in taken:
                self._use(lot, entry, -points)

        return restore

    # -- internals ---------------------------------------------------------------------

    def _replay(self, earlier: Transfer, request_hash: str) -> Posting:
        """Return the first result of a retried request, or refuse a different one."""
        if earlier.request_hash != request_hash:
            raise IdempotencyConflict()
        entries = self.repo.entries_of_transfer(earlier.bucket, earlier.id)
        by_account = {e.account_id: e.id for e in entries}
        return Posting(
            earlier.id,
            earlier.bucket,
            earlier.amount,
            by_account[earlier.debit_account_id],
            by_account[earlier.credit_account_id],
            replayed=True,
        )

    def _append(
        self,
        account: Account,
        transfer: Transfer,
        amount: int,
        other: uuid.UUID,
        expires_at: datetime | None = None,
    ) -> Entry:
        """Append one entry to an account's chain and move its cached head and balance."""
        head = Head(
            account.bucket, account.id, account.balance, account.entry_count, account.head_hash
        )
        row = journal_append(head, transfer, amount, other, new_id(), expires_at)
        entry = Entry(id=row.id, entry_hash=row.entry_hash, **vars(row.fields))
        self.repo.add(entry)
        # Queued in the entry's own transaction; the sequencer adds it to the bucket's log.
        self.repo.add(LogQueue(bucket=entry.bucket, entry_id=entry.id, queued_at=entry.recorded_at))
        account.balance, account.entry_count, account.head_hash = (
            head.balance,
            head.entry_count,
            head.head_hash,
        )
        return entry

    def _open_lot(self, entry: Entry, expires_at: datetime) -> Lot:
        """The lot a credit entry opens: its whole amount, earned when the entry occurred."""
        lot = Lot(
            bucket=entry.bucket,
            id=new_id(),
            account_id=entry.account_id,
            entry_id=entry.id,
            amount=entry.amount,
            remaining=entry.amount,
            earned_at=entry.occurred_at,
            expires_at=expires_at,
        )
        self.repo.add(lot)
        self.repo.flush()
        return lot

    def _consume(self, account: Account, entry: Entry, amount: int, lots: list[Lot] | None) -> None:
        """Take `amount` from lots, earliest expiry first, recording each use."""
        for lot in lots if lots is not None else self.open_lots(account.bucket, account.id, True):
            take = min(lot.remaining, amount)
            if take <= 0:
                break
            amount -= take
            self._use(lot, entry, take)
        if amount:
            raise InsufficientPoints(available=account.balance, needed=amount)

    def _use(self, lot: Lot, entry: Entry, points: int) -> None:
        """Record that `entry` took `points` from `lot` (negative: gave them back)."""
        lot.remaining -= points
        self.repo.add(
            LotUse(bucket=lot.bucket, id=new_id(), lot_id=lot.id, entry_id=entry.id, amount=points)
        )


def _system_id(bucket: int, name: str) -> uuid.UUID:
    """The id of the per-bucket system account `name` (split per bucket so it is never global)."""
    return uuid.uuid5(chain.ACCOUNT_NAMESPACE, f"system:{name}#{bucket}")
