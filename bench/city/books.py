"""One worker's ledger writer: transfers, their two chained entries (`chain.entry_hash`), lots,
lot uses and log-queue rows, shaped exactly as `LedgerService.transfer` and `credit_many`
write them; carries (transfers that keep lots) as `CarryService.carry` writes them, each half
in its own bucket; and the heads of the system accounts the worker's buckets touched."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bench.city.rows import Rows
from civicpoints.ledger import chain, lifetimes
from civicpoints.ledger.accounts import TRANSIT


@dataclass
class Head:
    """An account's chain state while generating."""

    balance: int = 0
    count: int = 0
    head: str = chain.GENESIS


Side = tuple[uuid.UUID, Head]  # an account's id and its head
# What a transfer does: (ref, reason, actor, occurred in UTC, idempotency key).
What = tuple[str, str, str, datetime, str]


@dataclass
class Lot:
    """An open lot while generating (FIFO order: expiry, then id)."""

    expires: datetime
    id: uuid.UUID
    entry_id: uuid.UUID
    amount: int
    earned: datetime
    remaining: int = 0
    origin: datetime | None = None  # when its points were first earned (a carried lot's)
    expired: int = 0  # what the expiry job took from it

    def __post_init__(self) -> None:
        self.remaining = self.amount
        self.origin = self.origin or self.earned


@dataclass(frozen=True)
class Move:
    """What a carry moves, as `ledger.Movement` (kind, points, ref, reason, actor, when)."""

    kind: str
    amount: int
    ref: str
    reason: str
    actor: str
    at: datetime


@dataclass(frozen=True)
class Slice:
    """One source lot's part of a carry, written out (source → its bucket's transit); what
    the in-half (the target bucket's transit → target), written later, needs. Picklable."""

    key: str  # the carry's ledger idempotency key
    n: int  # the slice's number, from 1
    digest: str  # the carry's request hash
    move: Move  # the whole carry's (`amount` is the carry's, not the slice's)
    amount: int
    expires: datetime
    earned: datetime  # when the points were first earned
    source: tuple[int, uuid.UUID, uuid.UUID, uuid.UUID]  # bucket, account, lot, out-transfer
    target: tuple[int, uuid.UUID]  # bucket, account

    @property
    def at(self) -> datetime:
        """When the carry happened."""
        return self.move.at


def system_id(bucket: int, name: str) -> uuid.UUID:
    """The per-bucket system account `name`, as `ledger.service._system_id` names it."""
    return uuid.uuid5(chain.ACCOUNT_NAMESPACE, f"system:{name}#{bucket}")


class Books:
    """Writes ledger rows into `out` (set per community), recorded at `now`."""

    def __init__(self, new_id: Callable[[], uuid.UUID]) -> None:
        self.new_id = new_id
        self.system: dict[tuple[int, str], Side] = {}
        self.out: Rows = {}
        self.now = datetime.min
        self.opened: list[tuple[int, uuid.UUID, Lot]] = []  # lots whose row is not out yet
        self.receipts: dict[str, uuid.UUID] = {}  # a carry's first in-entry, by its key

    def account(self, bucket: int, name: str) -> Side:
        """A system account of `bucket` (opened on first use, as `LedgerService.system`)."""
        key = (bucket, name)
        found = self.system.get(key)
        if found is None:
            found = self.system[key] = (system_id(bucket, name), Head())
        return found

    def transfer(
        self,
        bucket: int,
        kind: str,
        amount: int,
        debit: Side,
        credit: Side,
        what: tuple[str, str, str, datetime, str],
        expires: datetime | None = None,
        tid: uuid.UUID | None = None,
    ) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
        """One transfer (ref, reason, actor, occurred in UTC, idempotency key: `what`) and its
        two entries; returns (transfer, debit entry, credit entry) ids."""
        ref, reason, actor, occurred, key = what
        tid = tid or self.new_id()
        (debit_id, debit_head), (credit_id, credit_head) = debit, credit
        text = f"{debit_id}|{credit_id}|{kind}|{amount}|{ref}"  # journal.request_hash
        self.out["ledger_transfer"].append((
            bucket, tid, kind, amount, debit_id, credit_id, key,
            hashlib.sha256(text.encode()).hexdigest(), ref, reason, actor, occurred, self.now,
        ))  # fmt: skip
        common = (tid, kind, ref, reason, actor, occurred)
        d = self.entry(bucket, debit_id, debit_head, -amount, credit_id, common, None)
        c = self.entry(bucket, credit_id, credit_head, amount, debit_id, common, expires)
        return tid, d, c

    def entry(
        self,
        bucket: int,
        account: uuid.UUID,
        head: Head,
        amount: int,
        other: uuid.UUID,
        common: tuple,
        expires: datetime | None,
    ) -> uuid.UUID:
        """One chained entry (`chain.entry_hash`) and its log-queue row."""
        tid, kind, ref, reason, actor, occurred = common
        recorded = self.now
        fields = chain.EntryFields(
            bucket=bucket, account_id=account, seq=head.count + 1, transfer_id=tid,
            kind=kind, amount=amount, balance_after=head.balance + amount,
            counterparty_id=other, ref=ref, reason=reason, actor=actor, occurred_at=occurred,
            recorded_at=recorded, prev_hash=head.head, expires_at=expires,
        )  # fmt: skip
        eid, digest = self.new_id(), chain.entry_hash(fields)
        self.out["ledger_entry"].append((
            bucket, eid, account, fields.seq, tid, kind, amount, fields.balance_after, other,
            ref, reason, actor, occurred, recorded, head.head, digest, expires,
        ))  # fmt: skip
        self.out["ledger_log_queue"].append((bucket, eid, recorded))
        head.balance, head.count, head.head = fields.balance_after, fields.seq, digest
        return eid

    def use(self, bucket: int, lot_id: uuid.UUID, entry_id: uuid.UUID, points: int) -> None:
        """A `ledger_lot_use`: `entry_id` took `points` from the lot."""
        self.out["ledger_lot_use"].append((bucket, self.new_id(), lot_id, entry_id, points))

    def open_lot(
        self,
        bucket: int,
        account: uuid.UUID,
        entry: uuid.UUID,
        amount: int,
        at: datetime,
        expires: datetime,
        origin: datetime | None = None,
    ) -> Lot:
        """The lot a credit entry opens (its row is written by `lots_rows`, remaining final)."""
        lot = Lot(expires, self.new_id(), entry, amount, at, origin=origin)
        self.opened.append((bucket, account, lot))
        return lot  # fmt: skip

    def lots_rows(self) -> None:
        """The `ledger_lot` rows of the lots opened since the last call (remaining: final)."""
        for bucket, account, lot in self.opened:
            self.out["ledger_lot"].append(
                (bucket, lot.id, account, lot.entry_id, lot.amount, lot.remaining, lot.earned,
                 lot.expires)
            )  # fmt: skip
        self.opened = []

    def carry_out(
        self,
        bucket: int,
        source: Side,
        lots: list[Lot],
        move: Move,
        key: str,
        target: tuple[int, uuid.UUID],
    ) -> tuple[list[Slice], uuid.UUID]:
        """The out-halves of a carry of `move.amount` from `source`'s open, unexpired `lots`
        (FIFO order; drained ones leave the list): per lot, a transfer to the bucket's transit
        account taking that lot only. Returns the slices for the in-halves and the first
        slice's debit entry (the donor's receipt)."""
        text = f"carry|{source[0]}|{target[1]}|{move.kind}|{move.amount}|{move.ref}|0"
        digest = hashlib.sha256(text.encode()).hexdigest()  # carry._digest, extending nothing
        transit = self.account(bucket, TRANSIT)
        slices, left, receipt = [], move.amount, None
        for n, lot in enumerate(lots, start=1):
            take = min(lot.remaining, left)
            if take <= 0:
                break
            what = (move.ref, move.reason, move.actor, move.at, f"{key}#{n}:out")
            tid, debit, _ = self.transfer(bucket, move.kind, take, source, transit, what)
            self.use(bucket, lot.id, debit, take)
            receipt = receipt or debit
            lot.remaining -= take
            left -= take
            assert lot.origin is not None
            expires = lifetimes.carried_expiry(lot.expires, lot.origin, 0)
            slices.append(Slice(key, n, digest, move, take, expires, lot.origin,
                                (bucket, source[0], lot.id, tid), target))  # fmt: skip
        assert left == 0 and receipt is not None, "a carry takes no more than the lots hold"
        lots[:] = [x for x in lots if x.remaining]
        return slices, receipt

    def carry_in(self, s: Slice, target: Side) -> Lot:
        """A slice's in-half: the target bucket's transit account → `target`, opening a lot
        with the kept expiry (earned when it arrived), and the `ledger_carry` row."""
        bucket, m = s.target[0], s.move
        what = (m.ref, m.reason, m.actor, m.at, f"{s.key}#{s.n}:in")
        transit = self.account(bucket, TRANSIT)
        tid, _, credit = self.transfer(bucket, m.kind, s.amount, transit, target, what, s.expires)
        lot = self.open_lot(bucket, target[0], credit, s.amount, m.at, s.expires, s.earned)
        from_bucket, from_account, from_lot, out_transfer = s.source
        self.out["ledger_carry"].append((
            bucket, self.new_id(), s.key, s.n, s.digest, target[0], lot.id, tid, from_bucket,
            from_account, from_lot, out_transfer, s.amount, s.earned, s.expires, "", m.at,
        ))  # fmt: skip
        if s.n == 1:
            self.receipts[s.key] = credit
        return lot
