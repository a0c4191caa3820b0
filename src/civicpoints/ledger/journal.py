"""Pure planning of credits: from locked account heads to the exact rows to write.

No database here: the service locks the accounts and hands their heads in; `plan_credits`
chains the entries in order (an account credited twice in one batch gets two consecutive
entries) and returns every row, so one batch costs one statement per table. A wallet that owes
points after a clawback (its head's `owed`) repays from the new lot first, as its own transfer.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from civicpoints.ledger import chain
from civicpoints.ledger.errors import IdempotencyConflict


@dataclass(frozen=True)
class Posting:
    """The result of a transfer; `replayed` when an idempotent retry returned the first one."""

    transfer_id: uuid.UUID
    bucket: int
    amount: int
    debit_entry_id: uuid.UUID
    credit_entry_id: uuid.UUID
    replayed: bool


@dataclass(frozen=True)
class Movement:
    """What to move: everything a transfer records besides the accounts."""

    kind: str
    amount: int
    ref: str
    reason: str
    actor: str
    occurred_at: datetime
    idempotency_key: str


@dataclass
class Head:
    """A locked account's cached state: what the next entry chains onto."""

    bucket: int
    id: uuid.UUID
    balance: int
    entry_count: int
    head_hash: str
    owed: int = 0  # a wallet's unpaid clawback debt (cache of its debt account)


@dataclass(frozen=True)
class CreditOrder:
    """One credit to post: from `issuer` to `wallet` in `bucket`, opening a lot."""

    bucket: int
    issuer: uuid.UUID
    wallet: uuid.UUID
    move: Movement
    expires_at: datetime


@dataclass(frozen=True)
class TransferRow:
    """A `ledger_transfer` row."""

    bucket: int
    id: uuid.UUID
    kind: str
    amount: int
    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    idempotency_key: str
    request_hash: str
    ref: str
    reason: str
    actor: str
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True)
class EntryRow:
    """A `ledger_entry` row: the hashed fields, its id and its hash."""

    id: uuid.UUID
    fields: chain.EntryFields
    entry_hash: str


@dataclass(frozen=True)
class LotRow:
    """A `ledger_lot` row opened by a credit entry."""

    bucket: int
    id: uuid.UUID
    account_id: uuid.UUID
    entry_id: uuid.UUID
    amount: int
    earned_at: datetime
    expires_at: datetime
    remaining: int


@dataclass(frozen=True)
class LotUseRow:
    """A `ledger_lot_use` row: what a debit entry (here: a repayment) took from a lot."""

    bucket: int
    id: uuid.UUID
    lot_id: uuid.UUID
    entry_id: uuid.UUID
    amount: int


@dataclass
class CreditPlan:
    """Every row a batch of credits writes, and the accounts' final heads."""

    transfers: list[TransferRow] = field(default_factory=list)
    entries: list[EntryRow] = field(default_factory=list)
    lots: list[LotRow] = field(default_factory=list)
    uses: list[LotUseRow] = field(default_factory=list)
    postings: list[Posting] = field(default_factory=list)
    heads: dict[tuple[int, uuid.UUID], Head] = field(default_factory=dict)


def request_hash(debit: uuid.UUID, credit: uuid.UUID, move: Movement) -> str:
    """What makes two requests 'the same' for idempotency."""
    text = f"{debit}|{credit}|{move.kind}|{move.amount}|{move.ref}"
    return hashlib.sha256(text.encode()).hexdigest()


class TransferLike(Protocol):
    """What an entry copies from its transfer (a TransferRow, or the ORM's Transfer)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def kind(self) -> str: ...
    @property
    def ref(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def recorded_at(self) -> datetime: ...


def append(
    head: Head,
    transfer: TransferLike,
    amount: int,
    other: uuid.UUID,
    entry_id: uuid.UUID,
    expires_at: datetime | None = None,
) -> EntryRow:
    """The next entry of `head`'s chain; moves the head (balance, count, hash) past it.

    `expires_at`: the expiry of the lot a credit opens, hashed with the entry (cp-entry-v2).
    """
    fields = chain.EntryFields(
        bucket=head.bucket,
        account_id=head.id,
        seq=head.entry_count + 1,
        transfer_id=transfer.id,
        kind=transfer.kind,
        amount=amount,
        balance_after=head.balance + amount,
        counterparty_id=other,
        ref=transfer.ref,
        reason=transfer.reason,
        actor=transfer.actor,
        occurred_at=transfer.occurred_at,
        recorded_at=transfer.recorded_at,
        prev_hash=head.head_hash,
        expires_at=expires_at,
    )
    digest = chain.entry_hash(fields)
    head.balance, head.entry_count, head.head_hash = fields.balance_after, fields.seq, digest
    return EntryRow(entry_id, fields, digest)


def fresh_orders(
    orders: list[CreditOrder], used: set[tuple[int, str]]
) -> dict[tuple[int, str], CreditOrder]:
    """The orders to post, by (bucket, key): the first of each key not used before; 409 for a
    different request repeating a key of the batch."""
    fresh: dict[tuple[int, str], CreditOrder] = {}
    for o in orders:
        key = (o.bucket, o.move.idempotency_key)
        if key in used:
            continue
        first = fresh.setdefault(key, o)
        if request_hash(first.issuer, first.wallet, first.move) != request_hash(
            o.issuer, o.wallet, o.move
        ):
            raise IdempotencyConflict()
    return fresh


REPAY_REASON = "偿还追回欠分 / repays points owed after a clawback"
REPAY_ACTOR = "system:ledger.repay"


def transfer_row(
    bucket: int,
    transfer_id: uuid.UUID,
    debit: uuid.UUID,
    credit: uuid.UUID,
    m: Movement,
    recorded_at: datetime,
) -> TransferRow:
    """The `ledger_transfer` row of moving `m` from `debit` to `credit`."""
    digest = request_hash(debit, credit, m)
    return TransferRow(
        bucket, transfer_id, m.kind, m.amount, debit, credit, m.idempotency_key, digest,
        m.ref, m.reason, m.actor, m.occurred_at, recorded_at,
    )  # fmt: skip


def repay_movement(owed: int, credit: TransferLike, amount: int, at: datetime) -> Movement:
    """The repayment a credit of `amount` to a wallet owing `owed` makes first."""
    pay = min(owed, amount)
    return Movement("repay", pay, credit.ref, REPAY_REASON, REPAY_ACTOR, at, f"repay:{credit.id}")


def plan_credits(
    orders: list[CreditOrder],
    heads: dict[tuple[int, uuid.UUID], Head],
    recorded_at: datetime,
    make_id: Callable[[], uuid.UUID],
) -> CreditPlan:
    """Chain every order's two entries onto the locked `heads`, in order; open each lot; a
    wallet that owes repays from the new lot first (its debt account's head must be locked)."""
    out = CreditPlan(heads=heads)
    for o in orders:
        m = o.move
        t = transfer_row(o.bucket, make_id(), o.issuer, o.wallet, m, recorded_at)
        wallet = heads[(o.bucket, o.wallet)]
        debit = append(heads[(o.bucket, o.issuer)], t, -m.amount, o.wallet, make_id())
        credit = append(wallet, t, m.amount, o.issuer, make_id(), o.expires_at)
        out.transfers.append(t)
        out.entries += (debit, credit)
        out.postings.append(Posting(t.id, o.bucket, m.amount, debit.id, credit.id, False))
        lot_id = make_id()
        repaid = _plan_repay(out, wallet, t, lot_id, recorded_at, make_id) if wallet.owed else 0
        left = m.amount - repaid
        lot = LotRow(
            o.bucket, lot_id, o.wallet, credit.id, m.amount, m.occurred_at, o.expires_at, left
        )
        out.lots.append(lot)
    return out


def _plan_repay(
    out: CreditPlan,
    wallet: Head,
    credit: TransferRow,
    lot_id: uuid.UUID,
    recorded_at: datetime,
    make_id: Callable[[], uuid.UUID],
) -> int:
    """The wallet's repayment out of the lot a credit just opened; returns the points repaid."""
    debt = out.heads[(wallet.bucket, chain.debt_account_for(wallet.id))]
    move = repay_movement(wallet.owed, credit, credit.amount, recorded_at)
    t = transfer_row(wallet.bucket, make_id(), wallet.id, debt.id, move, recorded_at)
    paid = append(wallet, t, -move.amount, debt.id, make_id())
    out.transfers.append(t)
    out.entries += (paid, append(debt, t, move.amount, wallet.id, make_id()))
    out.uses.append(LotUseRow(wallet.bucket, make_id(), lot_id, paid.id, move.amount))
    wallet.owed -= move.amount
    return move.amount
