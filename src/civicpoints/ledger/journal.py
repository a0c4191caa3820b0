"""Pure planning of credits: from locked account heads to the exact rows to write.

No database here: the service locks the accounts and hands their heads in; `plan_credits`
chains the entries in order (an account credited twice in one batch gets two consecutive
entries) and returns every row, so one batch costs one statement per table.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from civicpoints.ledger import chain


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


@dataclass
class CreditPlan:
    """Every row a batch of credits writes, and the accounts' final heads."""

    transfers: list[TransferRow] = field(default_factory=list)
    entries: list[EntryRow] = field(default_factory=list)
    lots: list[LotRow] = field(default_factory=list)
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


def plan_credits(
    orders: list[CreditOrder],
    heads: dict[tuple[int, uuid.UUID], Head],
    recorded_at: datetime,
    make_id: Callable[[], uuid.UUID],
) -> CreditPlan:
    """Chain every order's two entries onto the locked `heads`, in order; open each lot."""
    out = CreditPlan(heads=heads)
    for o in orders:
        m = o.move
        t = TransferRow(
            o.bucket,
            make_id(),
            m.kind,
            m.amount,
            o.issuer,
            o.wallet,
            m.idempotency_key,
            request_hash(o.issuer, o.wallet, m),
            m.ref,
            m.reason,
            m.actor,
            m.occurred_at,
            recorded_at,
        )
        debit = append(heads[(o.bucket, o.issuer)], t, -m.amount, o.wallet, make_id())
        credit = append(heads[(o.bucket, o.wallet)], t, m.amount, o.issuer, make_id(), o.expires_at)
        lot = LotRow(
            o.bucket, make_id(), o.wallet, credit.id, m.amount, m.occurred_at, o.expires_at
        )
        out.transfers.append(t)
        out.entries += (debit, credit)
        out.lots.append(lot)
        out.postings.append(Posting(t.id, o.bucket, m.amount, debit.id, credit.id, False))
    return out
