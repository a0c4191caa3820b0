"""Ledger tables. `bucket` leads every key: one award touches one bucket (DESIGN.md §5)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, created_at_column


class LedgerMeta(Base):
    """Ledger-wide constants fixed at creation, e.g. the number of buckets."""

    __tablename__ = "ledger_meta"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class Account(Base):
    """An account; `balance`, `entry_count` and `head_hash` are caches of its entries."""

    __tablename__ = "ledger_account"
    # On PostgreSQL this index is DEFERRABLE INITIALLY DEFERRED (migration 0012): the upsert
    # that opens an account arbitrates on the id only, and racers opening the same new account
    # must not trip over the owner's index. SQLite has neither the syntax nor the race.
    __table_args__ = (UniqueConstraint("bucket", "owner"),)

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24))
    # Wallets may not go below zero; system accounts (issuance) do by design.
    may_go_negative: Mapped[bool] = mapped_column(default=False)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    entry_count: Mapped[int] = mapped_column(BigInteger, default=0)
    head_hash: Mapped[str] = mapped_column(String(64))
    # A wallet's unpaid clawback debt: a cache of its debt account's balance (negated). The
    # credit path's lock statement returns it, so a credit learns at no extra cost whether it
    # must repay first. Always 0 on other accounts.
    owed: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = created_at_column()


class Transfer(Base):
    """One movement of points between two accounts of the same bucket."""

    __tablename__ = "ledger_transfer"
    __table_args__ = (
        UniqueConstraint("bucket", "idempotency_key"),
        # The feed analytics read by time (ledger/feed.py): a window, never a scan.
        Index("ix_ledger_transfer_recorded", "recorded_at", "id"),
    )

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(BigInteger)
    debit_account_id: Mapped[uuid.UUID]
    credit_account_id: Mapped[uuid.UUID]
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = created_at_column()


class Entry(Base):
    """An immutable journal line of one account, chained to the one before it by hash."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        UniqueConstraint("bucket", "account_id", "seq"),
        # Receipts name an entry by id alone; not unique, so the bucket-first rule holds.
        Index("ix_ledger_entry_id", "id"),
        ForeignKeyConstraint(
            ["bucket", "account_id"], ["ledger_account.bucket", "ledger_account.id"]
        ),
        ForeignKeyConstraint(
            ["bucket", "transfer_id"], ["ledger_transfer.bucket", "ledger_transfer.id"]
        ),
    )

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID]
    seq: Mapped[int] = mapped_column(BigInteger)
    transfer_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    counterparty_id: Mapped[uuid.UUID]
    ref: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    # A credit that opens a lot: the lot's expiry, hashed (cp-entry-v2). None otherwise (v1).
    expires_at: Mapped[datetime | None]


class Lot(Base):
    """Points credited together that expire together; `remaining` caches its uses."""

    __tablename__ = "ledger_lot"
    __table_args__ = (
        Index("ix_ledger_lot_account", "bucket", "account_id", "expires_at"),
        Index("ix_ledger_lot_expiry", "bucket", "expires_at"),
        ForeignKeyConstraint(["bucket", "entry_id"], ["ledger_entry.bucket", "ledger_entry.id"]),
    )

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID]
    entry_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    earned_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class LotUse(Base):
    """How much of a lot a debit entry consumed (append-only; explains every `remaining`)."""

    __tablename__ = "ledger_lot_use"
    __table_args__ = (
        ForeignKeyConstraint(["bucket", "lot_id"], ["ledger_lot.bucket", "ledger_lot.id"]),
        ForeignKeyConstraint(["bucket", "entry_id"], ["ledger_entry.bucket", "ledger_entry.id"]),
    )

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    lot_id: Mapped[uuid.UUID]
    entry_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)


# -- the verifiable log (RFC 9162) --------------------------------------------------------
# Bucket GLOBAL_LOG (-1) is the global tree whose leaves are bucket checkpoints.


class LogQueue(Base):
    """A journal entry waiting for the sequencer; written in the entry's own transaction."""

    __tablename__ = "ledger_log_queue"
    __table_args__ = (Index("ix_ledger_log_queue_order", "bucket", "queued_at", "entry_id"),)

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    queued_at: Mapped[datetime]


class LogLeaf(Base):
    """The position of an entry (or, in the global log, a bucket checkpoint) in its log."""

    __tablename__ = "ledger_log_leaf"
    __table_args__ = (UniqueConstraint("bucket", "ref"),)

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ref: Mapped[str] = mapped_column(String(64))  # entry id, or "bucket:size" in the global log
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogNode(Base):
    """The hash of a complete subtree: level k, index i covers leaves [i·2^k, (i+1)·2^k)."""

    __tablename__ = "ledger_log_node"

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_index: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogHead(Base):
    """The sequencer's state of one log: its size and the compact-range frontier."""

    __tablename__ = "ledger_log_head"

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    frontier: Mapped[list[str]] = mapped_column(JSON, default=list)  # hex hashes
    updated_at: Mapped[datetime]


class CheckpointRow(Base):
    """A signed checkpoint (C2SP signed note) of one log at one size."""

    __tablename__ = "ledger_checkpoint"

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    key_hash: Mapped[str] = mapped_column(String(8))
    signed_at: Mapped[datetime]


class SigningKey(Base):
    """A checkpoint signing or witness key, by its verifier key text; rotated, never deleted."""

    __tablename__ = "ledger_signing_key"

    key_hash: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    vkey: Mapped[str] = mapped_column(String(400))
    role: Mapped[str] = mapped_column(String(16))  # "log" or "witness"
    created_at: Mapped[datetime] = created_at_column()
    retired_at: Mapped[datetime | None]


class Cosignature(Base):
    """A witness's signature line on a global checkpoint, added after checking consistency."""

    __tablename__ = "ledger_cosignature"

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(8), primary_key=True)
    line: Mapped[str] = mapped_column(String(400))  # "— name base64(keyhash‖signature)\n"
    signed_at: Mapped[datetime]


# -- holds (two-phase pending → posted | voided, TigerBeetle style) -----------------------


class Hold(Base):
    """Points moved from a wallet to the bucket's hold account until posted or voided.

    The hold's wallet debit entry names the lots it took (`ledger_lot_use`); a void gives the
    same lots back. `status` is a cache of the hold's transfers, like `Lot.remaining`.
    """

    __tablename__ = "ledger_hold"
    __table_args__ = (
        UniqueConstraint("bucket", "idempotency_key"),
        Index("ix_ledger_hold_timeout", "bucket", "status", "timeout_at"),
        # A posted (or partly expired) hold's transfer → its wallet (ledger/feed.py).
        Index("ix_ledger_hold_resolve", "bucket", "resolve_transfer_id"),
        Index("ix_ledger_hold_expired", "bucket", "expired_transfer_id"),
    )

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # pending | posted | voided
    sink: Mapped[str] = mapped_column(String(80))  # the redemption sink a post pays into
    idempotency_key: Mapped[str] = mapped_column(String(200))
    ref: Mapped[str] = mapped_column(String(200))
    hold_transfer_id: Mapped[uuid.UUID]
    hold_entry_id: Mapped[uuid.UUID]  # the wallet's debit entry: its lot uses are the lots
    resolve_transfer_id: Mapped[uuid.UUID | None]  # post, or the void back to the wallet
    expired_transfer_id: Mapped[uuid.UUID | None]  # a void's already-expired part
    expired_points: Mapped[int] = mapped_column(BigInteger, default=0)
    timeout_at: Mapped[datetime]
    created_at: Mapped[datetime] = created_at_column()
    resolved_at: Mapped[datetime | None]


# -- clawbacks (reversing an award) and their restores -----------------------------------


class Clawback(Base):
    """An award reversed, in part or whole: what was taken, what had lapsed, what is owed.

    An index of the clawback's transfers (append-only); the evidence is the transfers: the
    wallet's `clawback` debit (its lot uses name the lots taken) and the debt account's `debt`
    entry. `ledger verify` holds the amounts here against them.
    """

    __tablename__ = "ledger_clawback"
    __table_args__ = (
        UniqueConstraint("bucket", "idempotency_key"),
        Index("ix_ledger_clawback_award", "bucket", "award_transfer_id"),
    )

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID]  # the wallet
    award_transfer_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)  # = taken + lapsed + debt
    taken: Mapped[int] = mapped_column(BigInteger)
    lapsed: Mapped[int] = mapped_column(BigInteger)  # the award's own points already expired
    debt: Mapped[int] = mapped_column(BigInteger)
    take_transfer_id: Mapped[uuid.UUID | None]
    take_entry_id: Mapped[uuid.UUID | None]  # the wallet's debit: its lot uses are the lots
    debt_transfer_id: Mapped[uuid.UUID | None]
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = created_at_column()


class Restore(Base):
    """A clawback undone (an upheld appeal): at most one per clawback, append-only."""

    __tablename__ = "ledger_restore"
    __table_args__ = (UniqueConstraint("bucket", "idempotency_key"),)

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    clawback_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    returned: Mapped[int] = mapped_column(BigInteger)  # points back in their lots
    expired: Mapped[int] = mapped_column(BigInteger)  # points whose lots expired meanwhile
    forgiven: Mapped[int] = mapped_column(BigInteger)  # debt still unpaid, written off
    repaid: Mapped[int] = mapped_column(BigInteger)  # debt already repaid, given back
    back_transfer_id: Mapped[uuid.UUID | None]
    expire_transfer_id: Mapped[uuid.UUID | None]
    forgive_transfer_id: Mapped[uuid.UUID | None]
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = created_at_column()


# -- carries (transfers that keep lots: a point moves with the expiry it already has) ------


class Carry(Base):
    """One slice of a transfer that keeps lots: `amount` points of one source lot moved from
    `from_account_id` (bucket `from_bucket`) to `account_id`, opening lot `lot_id` with the
    source lot's expiry (or a later one, only when `extends` names the rule that allows it).

    Every slice is two transfers through the per-bucket transit accounts (the source's bucket
    and the target's may differ): `out_transfer_id` (source → transit, in `from_bucket`) and
    `in_transfer_id` (transit → target, in `bucket`). Append-only; `ledger verify` holds each
    row against both transfers, the source lot's use and expiry and the new lot.
    """

    __tablename__ = "ledger_carry"
    __table_args__ = (
        UniqueConstraint("bucket", "idempotency_key", "slice"),
        Index("ix_ledger_carry_lot", "bucket", "lot_id"),
    )

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    slice: Mapped[int] = mapped_column(Integer)
    request_hash: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[uuid.UUID]
    lot_id: Mapped[uuid.UUID]
    in_transfer_id: Mapped[uuid.UUID]
    from_bucket: Mapped[int] = mapped_column(Integer)
    from_account_id: Mapped[uuid.UUID]
    from_lot_id: Mapped[uuid.UUID]
    out_transfer_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)
    # When the points were first earned (the origin lot's earned_at, carried along), for
    # rules measured from earning (the points bank: 24 months from when earned).
    earned_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    extends: Mapped[str] = mapped_column(String(40), default="")  # "" or e.g. "months:24"
    created_at: Mapped[datetime] = created_at_column()


# A void looks up the lots its hold took by the hold's debit entry.
Index("ix_ledger_lot_use_entry", LotUse.bucket, LotUse.entry_id)
